"""Needs read from meeting notes, meeting notes told from other long messages, industries read from new accounts."""
from __future__ import annotations

import pytest

from bot.nlu.industry import industry_after
from bot.notes import looks_like_a_meeting_note, need_clauses


@pytest.mark.parametrize("note, keys", [
    ("Met Paula and her maintenance lead Rick Santos on Friday. Paula wants to cut changeover time on line 3.",
     ["changeover"]),
    ("Helen also told me she's sick of running 3 different systems that don't talk to each other", ["systems"]),
    ("昨天去晶弘拜訪。陳副總說良率一直卡在92%上不去，希望明年Q2前導入新的MES。黃經理說預算抓大概1800萬", ["良率", "MES"]),
    ("昨天去江淮拜访了孙总 孙总说他们今年要把信贷风控系统换掉 老系统太慢", ["风控系统", "太慢"]),
])
def test_needs_told_in_passing_are_found(note, keys):
    needs = need_clauses(note)
    assert all(any(k in n for n in needs) for k in keys), needs


@pytest.mark.parametrize("note", [
    "Met Dave today, budget is 1.2M and SAP offered a 20% discount",
    "add account Acme Corp, manufacturing",
    "昨天请王总吃饭，聊得不错",
])
def test_budgets_competitors_and_small_talk_are_not_needs(note):
    assert need_clauses(note) == []


@pytest.mark.parametrize("text, note", [
    ("Met Graham yesterday at their plant with Fiona Marsh and Ade Okafor. Graham said the board approved it", True),
    ("昨天去江淮拜访了孙总和风控部的何经理 孙总说他们今年要把信贷风控系统换掉 老系统太慢", True),
    ("help me prepare for my meeting with Maria tomorrow, she said they want a demo", False),
    ("Hi Helen, thanks for making the time. I wanted to understand how you're evaluating vendors this year", False),
    ("昨天和陳經理吃飯，他說預算被砍了三成", True),  # new-user tour: it became the budget-cut letter
    ("Met Maria yesterday, she said the board froze spending", True),
    ("they cut the budget by 30%, help me write a letter", False),
])
def test_a_long_meeting_report_is_a_note(text, note):
    assert looks_like_a_meeting_note(text) is note


@pytest.mark.parametrize("text, account, industry", [
    ("Add account Acme Corp, manufacturing", "Acme Corp", "manufacturing"),
    ("new acount Harlow Freight Logistics, theyre logistics / 3PL out of manchester", "Harlow Freight Logistics",
     "logistics"),
    ("add account Initech, they do software", "Initech", "software"),
    ("新建客户华东精密，汽车零部件行业", "华东精密", "汽车零部件"),
    ("新建客户 鼎泰精工 做汽车零部件的", "鼎泰精工", "汽车零部件"),
    ("新增客戶 亞聯電信 電信業 是我們的老客戶了", "亞聯電信", "電信業"),
    ("add account Initech", "Initech", None),
    ("新建客户 宏盛机械", "宏盛机械", None),
])
def test_the_industry_given_with_a_new_account(text, account, industry):
    assert industry_after(text, text.index(account) + len(account)) == industry


@pytest.mark.parametrize("text, names", [
    ("competitors: Oracle Retail, and some local player called Tillpoint", ["Oracle Retail", "Tillpoint"]),
    ("competitors are Alkami and Q2 (the digital banking vendor, not the quarter lol)", ["Alkami", "Q2"]),
    ("Met Dave Wilson today, he said SAP offered a 20% discount", ["SAP"]),
    ("we're up against Manhattan Associates and Blue Yonder", ["Manhattan Associates", "Blue Yonder"]),
    ("对手是西门子和鼎捷", ["西门子", "鼎捷"]),
    ("晋源对手是南瑞", ["南瑞"]),
    ("另外他们也有找鼎新来报价，上礼拜已经来简报过了", ["鼎新"]),
    ("林总透露用友给了个打八折的方案", ["用友"]),
    ("听说SAP也来报价了", ["SAP"]),  # a Latin name ends where the Chinese starts (was "SAP也")
    ("SAP已经来报价了", ["SAP"]),
    ("competitors are Infor and" + " " * 3000 + "Epicor", ["Infor", "Epicor"]),  # a long run of spaces (was quadratic)
    ("he is more senior than Tom", []),
    ("他们最看重的是我们比对手便宜", []),
])
def test_competitors_named_after_a_cue(text, names):
    from bot.nlu.competitors import competitor_spans

    assert [name for _, _, name in competitor_spans(text)] == names
