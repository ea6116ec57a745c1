"""bot.dialogue: typed buttons and what a message is while a form waits (cases from the new-user tour)."""
from __future__ import annotations

import pytest

from bot.dialogue.buttons import pick
from bot.dialogue.turns import role_of

DELETE = [{"title": "确认删除", "payload": "/affirm"}, {"title": "不，保留", "payload": "/deny"}]
WHICH_TOM = [{"title": "Tom Smykowski (Initech)", "payload": '/delete_data{"person": "Tom Smykowski"}'},
             {"title": "Tom Becker (Initech)", "payload": '/delete_data{"person": "Tom Becker"}'}]


@pytest.mark.parametrize("typed, payload", [("是", "/affirm"), ("yes", "/affirm"), ("不", "/deny"),
                                            ("确认删除", "/affirm"), ("2", "/deny"), ("maybe", None)])
def test_a_bare_yes_or_no_answers_a_question_whose_buttons_say_more(typed, payload):
    assert pick(typed, DELETE) == payload


def test_a_name_typed_for_a_which_one_question_picks_that_person():
    assert pick("Tom Becker", WHICH_TOM) == WHICH_TOM[1]["payload"]
    assert pick("tom becker", WHICH_TOM) == WHICH_TOM[1]["payload"]
    assert pick("Tom", WHICH_TOM) is None  # still two


def test_yes_picks_nothing_without_a_yes_button():
    assert pick("yes", WHICH_TOM) is None


@pytest.mark.parametrize("intent", ["objection_price", "objection_no_need", "record_need", "log_meeting",
                                    "conflict_delivery_delay", "spin_problem"])
def test_what_the_customer_said_answers_a_debrief_question(intent):
    assert role_of(intent, 0.99, "debrief_form", free_text=True, interrupting={"cancel", "help"}) == "answer"


def test_help_and_cancel_still_interrupt_a_debrief():
    assert role_of("cancel", 0.99, "debrief_form", free_text=True, interrupting={"cancel"}) == "request"
    assert role_of("ask_power_map", 0.99, "debrief_form", free_text=True) == "request"


def test_another_form_still_yields_to_an_objection():
    assert role_of("objection_price", 0.99, "conflict_form", free_text=True) == "request"


def test_payloads_too_deep_or_with_escaped_surrogates_are_unreadable():
    from bot.rasa_patches.parsing import _unreadable_payload

    assert _unreadable_payload('/inform{"account": ' + "[" * 100 + "]" * 100 + "}")
    assert _unreadable_payload('/inform{"account": "Zeta\\ud800"}')
    assert not _unreadable_payload('/inform{"account": "Zeta Corp"}')
    assert not _unreadable_payload("[[[[ not a payload")
    assert not _unreadable_payload("/affirm")
