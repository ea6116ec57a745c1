"""Free-text answers in coaching forms."""
from __future__ import annotations

import pytest

from bot.coach.answers import clause_after, match_option


@pytest.mark.parametrize("text, markers, expected", [
    ("延迟3天，因为芯片缺货", ["因为"], "芯片缺货"),
    ("客户投诉了，很不满意", ["投诉", "不满意", "不满"], None),  # nothing said about *what*
    ("客户投诉发票连续开错", ["投诉"], "发票连续开错"),
    ("they complained about late invoices", ["complained about"], "late invoices"),
])
def test_clause_after_takes_the_clause_or_nothing(text, markers, expected):
    assert clause_after(text, markers) == expected


@pytest.mark.parametrize("text, expected", [
    ("超出他们的预算了", "over_budget"),  # 超出预算 with words inserted
    ("超预算", "over_budget"),
    ("2", "value_not_shown"),
    ("it's over their budget", "over_budget"),
    ("他们习惯性砍价", "habitual"),
    ("下雨了", None),
])
def test_price_causes_are_matched_in_free_answers(text, expected):
    from bot.coach import engine

    assert match_option(text, engine.playbook("objections")["objection_price"]["causes"]) == expected
