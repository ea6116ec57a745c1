"""Meeting dates from the rep's words (bot.dates)."""
from __future__ import annotations

from datetime import date

import pytest

from bot.dates import meeting_date, planned

WEDNESDAY = date(2026, 12, 9)  # a Wednesday


@pytest.mark.parametrize("text, expected", [
    ("Met Dave today", date(2026, 12, 9)), ("this morning I saw Maria", date(2026, 12, 9)),
    ("met them yesterday", date(2026, 12, 8)), ("the day before yesterday we met", date(2026, 12, 7)),
    ("3 days ago", date(2026, 12, 6)), ("two days ago", date(2026, 12, 7)),
    ("on Friday we had a call", date(2026, 12, 4)), ("last Friday", date(2026, 12, 4)),
    ("last week on Monday", date(2026, 11, 30)), ("met him Tuesday", date(2026, 12, 8)),
    ("今天和刘建国开了会", date(2026, 12, 9)), ("昨天拜访了王总", date(2026, 12, 8)), ("前天见了李工", date(2026, 12, 7)),
    ("大前天", date(2026, 12, 6)), ("上周五去了宏盛", date(2026, 12, 4)), ("上週五拜訪", date(2026, 12, 4)),
    ("上礼拜三开会", date(2026, 12, 2)), ("周一见的客户", date(2026, 12, 7)), ("三天前", date(2026, 12, 6)),
    ("这周一", date(2026, 12, 7)), ("昨天下午", date(2026, 12, 8)),
])
def test_date_words_name_the_day(text, expected):
    assert meeting_date(text, WEDNESDAY) == expected


def test_no_date_word_is_no_date():
    assert meeting_date("Met Dave, he said SAP offered 20%", WEDNESDAY) is None
    assert meeting_date("和刘建国开了会", WEDNESDAY) is None


def test_last_friday_on_a_friday_is_a_week_ago():
    assert meeting_date("last Friday", date(2026, 12, 11)) == date(2026, 12, 4)
    assert meeting_date("上周五", date(2026, 12, 11)) == date(2026, 12, 4)


@pytest.mark.parametrize("text", ["meeting Dave tomorrow", "明天要去拜访王总", "下周约了李工", "next Monday with Maria"])
def test_meetings_still_to_come_are_plans(text):
    assert planned(text)


@pytest.mark.parametrize("text", ["met Dave yesterday", "昨天拜访了王总", "today's call went well"])
def test_meetings_that_happened_are_not_plans(text):
    assert not planned(text)
