"""bot.nlu.industry: the industry after a new account's name, and the name when the tagger took the industry."""
from __future__ import annotations

import pytest

from bot.nlu.industry import with_industry


def _tagged(text: str, value: str) -> list:
    start = text.index(value)
    return [{"entity": "account", "value": value, "start": start, "end": start + len(value)}]


@pytest.mark.parametrize("text, tagged, account, industry", [
    ("新建客户鑫诚人寿 保险", "保险", "鑫诚人寿", "保险"),  # dev corpus: the account was stored as 保险
    ("新建客户华东精密，制造业", "华东精密", "华东精密", "制造业"),
    ("add account Acme Corp, manufacturing", "manufacturing", "Acme Corp", "manufacturing"),
    ("add account Acme Corp, manufacturing", "Acme Corp", "Acme Corp", "manufacturing"),
])
def test_the_account_and_its_industry(text, tagged, account, industry):
    out = with_industry(text, _tagged(text, tagged))
    assert [(e["entity"], e["value"]) for e in out] == [("account", account), ("industry", industry)]
