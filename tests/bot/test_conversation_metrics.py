"""The corpus scorer (scripts/conversation_metrics.py) counts what it claims to count."""
from __future__ import annotations

from datetime import date

from scripts.conversation_metrics import compare, expected_date, present_entities, unintended_deletions

TODAY = date(2026, 12, 7)  # a Monday

EXPECT = {
    "accounts": [{
        "name": "Pellham Foods", "aliases": ["Pellham"], "industry": "food manufacturing",
        "people": [
            {"name": "Graham Whitlock", "aliases": ["Graham"], "title": "ops director", "attitude": "supporter",
             "influence": 40},
            {"name": "Ade Okafor", "aliases": ["Ade"], "roles": ["financial"], "attitude": "opponent"},
        ],
        "deal": {"stage": "project_set_up", "budget": 1100000, "timeline": "Q1", "competitors": ["Siemens"]},
        "needs": [{"keys": ["downtime"]}],
        "meetings": [{"date": {"days_ago": 1}}],
    }],
    "never": ["Met Graham"],
    "never_competitor": ["Pellham Foods"],
}


def perfect() -> dict:
    return {"Pellham Foods": {
        "industry": "Food manufacturing",
        "people": {"Graham Whitlock": {"title": "Ops Director", "roles": [], "attitude": "supporter", "influence": 40},
                   "Ade Okafor": {"roles": ["financial"], "attitude": "opponent"}},
        "deal": {"stage": "project_set_up", "budget": 1100000, "timeline": "by end of Q1", "competitors": ["Siemens"]},
        "needs": ["Can't stop the lines: downtime during cutover"],
        "meetings": [date(2026, 12, 6)],
    }}


def test_a_perfect_state_scores_one_and_one():
    tally = compare(EXPECT, perfect(), TODAY)
    assert (tally.precision, tally.recall) == (1.0, 1.0), tally.problems
    assert tally.expected == 15 and tally.duplicates == tally.wrong_place == 0


def test_a_wrong_value_costs_precision_and_recall_and_a_missing_one_only_recall():
    state = perfect()
    state["Pellham Foods"]["people"]["Graham Whitlock"]["attitude"] = "neutral"
    state["Pellham Foods"]["deal"]["stage"] = None
    tally = compare(EXPECT, state, TODAY)
    assert tally.correct_stored == tally.stored - 1 and tally.found == tally.expected - 2


def test_duplicates_wrong_accounts_and_forbidden_names_are_counted():
    state = perfect()
    state["Pellham Foods"]["people"]["Graham"] = {"title": None}          # a second record of Graham
    state["Met Graham"] = {"people": {}, "deal": {}, "needs": [], "meetings": []}  # a meeting sentence as an account
    state["Pellham Foods"]["deal"]["competitors"].append("Pellham Foods")
    tally = compare(EXPECT, state, TODAY)
    assert tally.duplicates == 1 and tally.wrong_place == 1
    assert any("Met Graham" in p for p in tally.problems) and any("as a competitor" in p for p in tally.problems)
    assert tally.precision < 1.0


def test_traditional_script_and_case_do_not_matter_for_names():
    expect = {"accounts": [{"name": "宏盛机械", "people": [{"name": "陈静", "title": "生产副总"}]}]}
    state = {"宏盛機械": {"people": {"陳靜": {"title": "生產副總"}}, "deal": {}, "needs": [], "meetings": []}}
    assert compare(expect, state, TODAY).recall == 1.0


def test_date_specs():
    assert expected_date({"days_ago": 2}, TODAY) == date(2026, 12, 5)
    assert expected_date({"weekday": "friday", "week": "last"}, TODAY) == date(2026, 12, 4)
    assert expected_date({"weekday": "monday", "week": "recent"}, TODAY) == date(2026, 11, 30)
    assert expected_date({"today": True}, TODAY) == TODAY


def test_an_expected_person_seen_then_gone_is_an_unintended_deletion():
    before = present_entities(EXPECT, perfect())
    after_state = perfect()
    del after_state["Pellham Foods"]["people"]["Ade Okafor"]
    after = present_entities(EXPECT, after_state)
    assert unintended_deletions([before, after], after) == [("person", "Ade Okafor")]
    assert unintended_deletions([before], before) == []
