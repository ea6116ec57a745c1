"""Fuzzing the actions with real rasa_sdk trackers and a real SQLite store.

The fact-writing actions get hostile account names, person names and texts. Whatever they
get: nothing escapes `run()`, every reply is non-empty and free of internals, what is
stored is exactly what the rep sent (names trimmed as `bot.store._clean_name` promises),
over-long names get the polite invalid-name reply, and no other team's data ever shows.
"""
from __future__ import annotations

import asyncio
import math
import unicodedata
import uuid
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import String

from actions.account_facts import (
    ActionAccountSummary,
    ActionListAccounts,
    ActionPowerMap,
    ActionSaveAccount,
    ActionSaveDeal,
    ActionSaveNeed,
    ActionSaveStakeholder,
)
from actions.account_forms import (
    ValidateAccountForm,
    ValidateDealForm,
    ValidateMeetingForm,
    ValidateNeedForm,
    ValidateStakeholderForm,
)
from actions.base import reply_language
from actions.coaching import ActionDealRisks, ActionNextStep
from actions.context import known_names
from actions.data_rights import ActionExportAccount
from actions.debrief import ValidateDebriefForm
from actions.general import ActionHandleInform, ActionSetLanguage
from actions.meetings import ActionSaveMeeting
from bot import i18n
from bot.language import name_key
from bot.resolve import person_shaped, plausible_person_name
from bot.store import models
from tests.conftest import entity, make_tracker
from tests.fuzz.conftest import fuzz_settings, json_values, leaks, mixed_text, names, texts

MAX_NAME = 200
NAME_PUNCT = "，,。.：:;；!！?？\"'“”"
FORMS = {"forms": {f: {"required_slots": ["form_account", "form_person"]} for f in (
    "account_form", "stakeholder_form", "deal_form", "need_form", "meeting_form")}}
FORMS["forms"]["debrief_form"] = {"required_slots": ["debrief_problems", "debrief_implications", "debrief_payoffs",
                                                     "debrief_people"]}


_BIDI = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
_ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"}


def expected_name(name: str) -> Optional[str]:
    """What the store promises for a name (`bot.store.clean_name`).

    Control characters other than whitespace and the bidi controls removed; spaces, quotes,
    end punctuation and zero-width characters trimmed from the ends until none is left there.
    Refused (None) when that leaves nothing, nothing visible, nothing to look it up by
    (`name_key` empty: "--", "()") or more than 200 characters.
    """
    cleaned = "".join(c for c in (name or "") if c not in _BIDI and (c.isspace() or unicodedata.category(c) != "Cc"))
    while cleaned != (trimmed := cleaned.strip().strip(NAME_PUNCT).strip(_ZERO_WIDTH)):
        cleaned = trimmed
    visible = any(unicodedata.category(c) not in _INVISIBLE for c in cleaned)
    return cleaned if visible and name_key(cleaned) and len(cleaned) <= MAX_NAME else None


_BIDI = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def stored_text(text: str) -> str:
    """A free text as the store keeps it: NUL characters (PostgreSQL cannot store them) and bidi controls removed."""
    return "".join(c for c in text.replace("\x00", "") if c not in _BIDI)


def run(action: Any, tracker: Any, domain: Optional[Dict[str, Any]] = None):  # noqa: ANN201
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain or {}))
    return dispatcher, events


def reply_texts(dispatcher: CollectingDispatcher) -> List[str]:
    return [m.get("text") for m in dispatcher.messages if m.get("text") is not None]


def failures(lang: str) -> set:
    return {i18n.render(key, lang) for key in ("error_generic", "error_unavailable")}


def check_reply(dispatcher: CollectingDispatcher, *user_strings: Any) -> List[str]:
    """The reply exists, every message says something, nothing internal shows."""
    assert dispatcher.messages, "no reply at all"
    for m in dispatcher.messages:
        assert (m.get("text") or "").strip() or m.get("image"), f"an empty message: {m}"
    out = reply_texts(dispatcher)
    for text in out:
        assert not leaks(text, user_strings), f"internals in the reply: {text!r}"
    return out


def new_sender() -> str:
    return f"fuzz-{uuid.uuid4().hex[:10]}"


def team_of(sender: str) -> str:
    return f"solo:{sender}"


# --------------------------------------------------------------------------- what is stored is what was sent


@fuzz_settings(60)
@given(text=texts(), account=names())
@example(text="Met Maria: '; DROP TABLE accounts;-- <script>alert(1)</script> 🧑🏽‍💻\x00\u202e", account="Acme")
@example(text="今天和刘建国开了会，他说 <img src=x onerror=alert(1)> 预算1e309", account="華東精密")
@example(text="met them", account="a" * 201)
def test_a_meeting_summary_is_stored_exactly_as_sent(use_store, text, account):
    assume(stored_text(text).strip())  # an empty summary: see test_an_empty_need_or_meeting_is_explained
    sender = new_sender()
    name = expected_name(account)
    if name is not None:  # a meeting note is logged at a known account, never creates one
        with use_store.team(team_of(sender)) as scope:
            scope.get_or_create_account(account)
    tracker = make_tracker(text, "log_meeting", [], slots={"form_account": account}, sender=sender)
    dispatcher, _events = run(ActionSaveMeeting(), tracker)
    replies = check_reply(dispatcher, text, account)
    lang = reply_language(tracker)
    with use_store.team(team_of(sender)) as scope:
        accounts = scope.list_accounts()
        if name is None:
            assert replies == [i18n.render("meeting_no_account", lang)]
            assert accounts == []
            return
        assert not set(replies) & failures(lang), replies
        assert [a.name for a in accounts] == [name]
        # byte for byte, emoji, HTML, SQL and all; only NUL characters and bidi controls are removed
        assert [i.summary for i in accounts[0].interactions] == [stored_text(text)]


@fuzz_settings(60)
@given(text=texts(), account=names())
@example(text="他们的隐性需求是降低IT运维成本'); DELETE FROM needs;--", account="华东精密")
@example(text="  **bold** need with trailing space  ", account="“Acme”")
def test_a_need_is_stored_as_sent(use_store, text, account):
    assume(stored_text(text).strip())
    sender = new_sender()
    tracker = make_tracker(text, "record_need", [], slots={"form_account": account}, sender=sender)
    dispatcher, _events = run(ActionSaveNeed(), tracker)
    replies = check_reply(dispatcher, text, account)
    lang = reply_language(tracker)
    name = expected_name(account)
    with use_store.team(team_of(sender)) as scope:
        accounts = scope.list_accounts()
        if name is None:
            assert replies == [i18n.render("invalid_name", lang, limit=MAX_NAME)] and accounts == []
            return
        assert not set(replies) & failures(lang), replies
        if person_shaped(name):  # "刘建国" may be a person: the bot asks before making it an account
            assert accounts == [] and replies[0].startswith(i18n.render("which_account_for_facts", lang, name=name))
            return
        assert [(a.name, [n.description for n in a.needs]) for a in accounts] == [(name, [stored_text(text).strip()])]


@fuzz_settings(80)
@given(name=names(), text=texts(4))
@example(name="'; DROP TABLE accounts;--", text="add account")
@example(name="  “Acme”  ", text="add account")
@example(name="a" * MAX_NAME, text="add account")
@example(name="a" * (MAX_NAME + 1), text="新建客户")
@example(name="\u3000\n", text="")
@example(name="“ Acme ”\u202e\x00", text="add account")
@example(name="--", text="add account")
@example(name="\u200b\ufeff", text="add account")
def test_account_names_are_stored_trimmed_or_refused_politely(use_store, name, text):
    sender = new_sender()
    tracker = make_tracker(text, "add_account", [], slots={"form_account": name}, sender=sender)
    dispatcher, _events = run(ActionSaveAccount(), tracker)
    replies = check_reply(dispatcher, text, name)
    lang = reply_language(tracker)
    expected = expected_name(name)
    with use_store.team(team_of(sender)) as scope:
        stored = [a.name for a in scope.list_accounts()]
    if expected is None:
        assert replies == [i18n.render("invalid_name", lang, limit=MAX_NAME)]
        assert stored == []
    else:
        assert stored == [expected]
        assert replies == [i18n.render("account_created", lang, account=expected, details="")]


@fuzz_settings(60)
@given(person=names(), account=names(), title=st.one_of(st.none(), mixed_text(4), st.just("x" * (MAX_NAME + 1))))
@example(person="Robert'); DROP TABLE stakeholders;--", account="Acme", title="<b>CFO</b>")
@example(person="劉建國", account="華東精密", title="技術總監")
@example(person="Maria Lopez;", account="“ Acme ”", title=" CFO\x00 ")
def test_people_and_titles_are_stored_or_refused_politely(use_store, person, account, title):
    assume(person != "")  # the stakeholder form never completes without a person (an empty slot is no answer)
    sender = new_sender()
    text = f"{person} is the {title or 'contact'} at {account}"
    entities = [{"entity": "title", "value": title}] if title else []
    tracker = make_tracker(text, "record_stakeholder", entities,
                           slots={"form_account": account, "form_person": person}, sender=sender)
    dispatcher, _events = run(ActionSaveStakeholder(), tracker)
    replies = check_reply(dispatcher, text, person, account, title)
    lang = reply_language(tracker)
    account_ok, person_ok = expected_name(account), expected_name(person)
    title_kept = stored_text(title or "").strip() or None  # titles are trimmed, NUL removed
    title_ok = not title_kept or len(title_kept) <= MAX_NAME
    with use_store.team(team_of(sender)) as scope:
        saved = [(a.name, p.name, p.title) for a in scope.list_accounts() for p in a.stakeholders]
    if account_ok is None or person_ok is None:  # refused as a name, or as no name at all
        assert replies and not set(replies) & failures(lang), replies
        assert saved == []
    elif (not plausible_person_name(person_ok) or person_shaped(account_ok)
          or name_key(account_ok).startswith(name_key(person_ok))):  # the tagger's slip: the company itself
        # no name ("Robert'); DROP TABLE …") or an account that may be a person: nothing saved on a guess
        assert not set(replies) & failures(lang), replies
        assert saved == []
    elif not title_ok:
        assert replies == [i18n.render("invalid_name", lang, limit=MAX_NAME)]
        assert saved == []
    else:
        assert not set(replies) & failures(lang), replies
        assert saved == [(account_ok, person_ok, title_kept)]


# --------------------------------------------------------------------------- one team never sees another's


_TRUSTED = {"slack", "wecom", "web"}


@fuzz_settings(40)
@given(account=names(), text=texts(), channel=st.one_of(st.sampled_from(["rest", "socketio", "cmdline", "",
                                                                         "Slack", "slack ", "webhook"]),
                                                        mixed_text(2)),
       identity=json_values(4))
@example(account="Secret Co", text="Met the CEO, they will sign", channel="rest", identity={"team": "x", "user": "y"})
def test_reads_never_show_another_teams_data(use_store, account, text, channel, identity):
    assume(expected_name(account) is not None and stored_text(text).strip())
    assume(channel not in _TRUSTED)
    name_marker, text_marker = f"⟦{uuid.uuid4().hex}⟧", f"⟦{uuid.uuid4().hex}⟧"
    alice, bob = new_sender(), new_sender()
    alices_account = f"{account[:100]} {name_marker}"
    with use_store.team(team_of(alice)) as scope:
        scope.get_or_create_account(alices_account)
    dispatcher, _events = run(ActionSaveMeeting(), make_tracker(f"{text} {text_marker}", "log_meeting", [],
                                                                slots={"form_account": alices_account}, sender=alice))
    assert name_marker in repr(dispatcher.messages)  # saved for alice
    with use_store.team(team_of(bob)) as scope:
        scope.get_or_create_account("Bob's own account")
    # bob tries every read, naming alice's account as far as he knows it, with any metadata his client makes up
    forged = {**identity, "team": team_of(alice), "user": alice} if isinstance(identity, dict) else identity
    for action in (ActionListAccounts(), ActionAccountSummary(), ActionPowerMap(), ActionExportAccount(),
                   ActionDealRisks(), ActionNextStep()):
        tracker = make_tracker(f"show {account}", "ask_account_summary", [{"entity": "account", "value": account}],
                               sender=bob, channel=channel, metadata={"identity": forged},
                               slots={"current_account": account})
        dispatcher, events = run(action, tracker)
        check_reply(dispatcher, account)
        shown = repr(dispatcher.messages) + repr(events)
        assert name_marker not in shown and text_marker not in shown, f"{action.name()} showed alice's data to bob"


# --------------------------------------------------------------------------- entities of any shape


ENTITY_TYPES = ["account", "person", "title", "industry", "competitor", "need", "timeline", "amount", "influence",
                "percentage", "duration", "attitude", "buying_role", "purchase_stage", "need_type", "language"]
SALES_ACTIONS = [ActionSaveAccount, ActionSaveStakeholder, ActionSaveDeal, ActionSaveNeed, ActionSaveMeeting,
                 ActionAccountSummary, ActionPowerMap, ActionListAccounts, ActionExportAccount, ActionDealRisks,
                 ActionNextStep, ActionHandleInform, ActionSetLanguage]


def odd_entities() -> st.SearchStrategy[List[Dict[str, Any]]]:
    """Entities as a "/intent{json}" message can carry them: any type of value, odd or missing spans."""
    entity = st.fixed_dictionaries({"entity": st.sampled_from(ENTITY_TYPES), "value": json_values(3)},
                                   optional={"start": st.one_of(st.integers(-5, 50), st.none(), st.text(max_size=2)),
                                             "end": st.one_of(st.integers(-5, 50), st.none())})
    return st.lists(entity, max_size=4)


@fuzz_settings(60)
@given(action=st.sampled_from(SALES_ACTIONS), text=texts(4), entities=odd_entities(),
       slots=st.fixed_dictionaries({}, optional={"form_account": names(), "form_person": names(),
                                                 "current_account": names(), "current_person": names()}))
@example(action=ActionSaveDeal, text="/record_deal", entities=[{"entity": "amount", "value": "abc"}],
         slots={"form_account": "Acme"})
@example(action=ActionSaveStakeholder, text="/record_stakeholder", entities=[{"entity": "influence", "value": [1]}],
         slots={"form_account": "Acme", "form_person": "Bob"})
def test_actions_answer_politely_whatever_the_entities(use_store, action, text, entities, slots):
    sender = new_sender()
    tracker = make_tracker(text, "inform", entities, slots=slots, sender=sender)
    dispatcher, events = run(action(), tracker)  # nothing escapes run()
    check_reply(dispatcher, text, *slots.values(), *[e.get("value") for e in entities])
    assert isinstance(events, list)


# --------------------------------------------------------------------------- bugs found by fuzzing, fixed
#
# Each test below was a strict xfail until its bug was fixed (docs/fuzzing.md, "What was found").


FACT_FORMS = [ValidateAccountForm, ValidateStakeholderForm, ValidateDealForm, ValidateNeedForm, ValidateMeetingForm]


@fuzz_settings(20)
@given(form=st.sampled_from(FACT_FORMS), entity=st.sampled_from(["account", "person"]),
       value=st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), max_size=2),
                       st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)))
@example(form=ValidateAccountForm, entity="account", value=[1])
def test_form_validation_survives_entities_that_are_not_text(use_store, form, entity, value):
    """Bug 6: "/add_account{"account": [1]}" made name_key raise TypeError out of run() (500)."""
    sender = new_sender()
    tracker = make_tracker("/add_account", form().name().removeprefix("validate_").removesuffix("_form"),
                           [{"entity": entity, "value": value}], sender=sender)
    dispatcher, events = run(form(), tracker, FORMS)
    assert isinstance(events, list)
    # a value that is no text fills no slot and is never saved
    filled = {e["name"]: e["value"] for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"}
    assert all(v is None or isinstance(v, str) for v in filled.values()), filled
    assert not set(reply_texts(dispatcher)) & failures("en"), reply_texts(dispatcher)
    with use_store.team(team_of(sender)) as scope:
        assert scope.list_accounts() == []


@fuzz_settings(10)
@given(case=st.sampled_from(["Bob now has 150% influence", "x" * 300 + " is the CFO"]))
def test_debrief_people_answer_with_an_invalid_fact_is_explained(use_store, case):
    """Bug 7: an InvalidFact escaped validate_debrief_form (500); now explained, nothing saved, asked again."""
    sender = new_sender()
    with use_store.team(team_of(sender)) as scope:
        scope.get_or_create_account("Acme")
    name = case.split(" ")[0]
    entities = [entity("person", name, message=case)]
    if "%" in case:
        entities.append(entity("influence", 150, "150%", message=case))
    tracker = make_tracker(case, "inform", entities, sender=sender, active_loop="debrief_form",
                           slots={"requested_slot": "debrief_people", "current_account": "Acme",
                                  "debrief_problems": "-", "debrief_implications": "-", "debrief_payoffs": "-"})
    dispatcher, events = run(ValidateDebriefForm(), tracker, FORMS)
    expected = (i18n.render("invalid_influence", "en", value=150) if "%" in case
                else i18n.render("invalid_name", "en", limit=MAX_NAME))
    assert check_reply(dispatcher) == [expected]
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots.get("debrief_people", "unset") is None  # the form asks the question again
    with use_store.team(team_of(sender)) as scope:
        assert scope.find_account("Acme").stakeholders == []  # the whole answer was rolled back


@fuzz_settings(5)
@given(answer=st.builds(lambda t, n: (t + " ") * n, st.sampled_from(["Peak season capacity is the bottleneck 🙂",
                                                                    "旺季产能是瓶颈<b>"]), st.integers(100, 130)))
def test_a_long_debrief_answer_is_stored_whole(use_store, answer):
    """Bug 8: a debrief answer was cut to 1,000 characters without a word; it is stored whole now."""
    assert len(answer) > 1000
    sender = new_sender()
    with use_store.team(team_of(sender)) as scope:
        scope.get_or_create_account("Acme")
    tracker = make_tracker(answer, "inform", [], sender=sender, active_loop="debrief_form",
                           slots={"requested_slot": "debrief_problems", "current_account": "Acme"})
    dispatcher, events = run(ValidateDebriefForm(), tracker, FORMS)
    with use_store.team(team_of(sender)) as scope:
        stored = [(n.description, n.spin) for n in scope.find_account("Acme").needs]
    assert stored == [(answer.strip(), "problem")], [len(d) for d, _ in stored]
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["debrief_problems"] == answer.strip()


@fuzz_settings(10)
@given(action=st.sampled_from([ActionSaveNeed, ActionSaveMeeting]), text=st.sampled_from(["", " ", "\u3000", "\n",
                                                                                         "\x00"]))
def test_an_empty_need_or_meeting_is_explained(use_store, action, text):
    """Bug 18: explained as "I couldn't save “” as ." before; now each has its own message, nothing saved."""
    sender = new_sender()
    if action is ActionSaveMeeting:  # a meeting is logged at a known account
        with use_store.team(team_of(sender)) as scope:
            scope.get_or_create_account("Acme")
    tracker = make_tracker(text, "record_need", [], slots={"form_account": "Acme"}, sender=sender)
    dispatcher, _events = run(action(), tracker)
    key = "empty_need" if action is ActionSaveNeed else "empty_summary"
    assert check_reply(dispatcher) == [i18n.render(key, "en")]
    with use_store.team(team_of(sender)) as scope:
        if action is ActionSaveNeed:
            assert scope.list_accounts() == []  # the account named in the form is not created either
        else:
            assert scope.list_accounts()[0].interactions == []


@pytest.mark.parametrize("lang", ["en", "zh-Hans", "zh-Hant"])
def test_the_new_refusals_exist_in_every_language(lang):
    for key, params in (("empty_need", {}), ("empty_summary", {}), ("person_missing", {}), ("no_user", {}),
                        ("invalid_amount", {"value": "-5"})):
        text = i18n.render(key, lang, **params)
        assert text.strip() and "{" not in text, (key, text)
        others = {i18n.render(key, other, **params) for other in ("en", "zh-Hans", "zh-Hant") if other != lang}
        assert text not in others, (key, lang, text)  # its own text: English, simplified, traditional


@fuzz_settings(10)
@given(digits=st.integers(309, 330), kind=st.sampled_from(["amount", "influence"]))
def test_an_absurdly_large_number_gets_a_polite_explanation(use_store, digits, kind):
    from tests.fuzz.test_fuzz_nlu import run_components

    text = ("预算" + "9" * digits + "万") if kind == "amount" else ("Bob has " + "9" * digits + "% influence")
    message = run_components(text, "record_deal" if kind == "amount" else "record_stakeholder", 0)
    # numbers.py reads at most 15 digits as a number, so such a run is no value at all;
    # whatever is extracted, the action must answer politely
    entities = [e for e in message.get("entities") if e["entity"] == kind]
    assert all(math.isfinite(float(e["value"])) for e in entities), entities
    action = ActionSaveDeal() if kind == "amount" else ActionSaveStakeholder()
    tracker = make_tracker(text, "record_deal", entities, slots={"form_account": "Acme", "form_person": "Bob"},
                           sender=new_sender())
    dispatcher, _events = run(action, tracker)
    assert not set(check_reply(dispatcher)) & failures(reply_language(tracker))


@fuzz_settings(10)
@given(name=st.sampled_from(["--", "()", "·", "（）", "-_-", "//", "“ ”()"]))
def test_a_name_that_could_never_be_found_again_is_refused(use_store, name):
    """Bug 16: such names were saved, could never be found again, and were all one account."""
    sender = new_sender()
    dispatcher, _events = run(ActionSaveAccount(), make_tracker("add account", "add_account", [],
                                                                slots={"form_account": name}, sender=sender))
    assert reply_texts(dispatcher) == [i18n.render("invalid_name", "en", limit=MAX_NAME)]
    with use_store.team(team_of(sender)) as scope:
        assert scope.list_accounts() == []


@fuzz_settings(10)
@given(name=st.sampled_from(["Acme Corp", "华东精密", "“Acme”", "ﷺ Trading", "Acme?"]))
def test_a_saved_account_can_be_found_by_its_name(use_store, name):
    sender = new_sender()
    run(ActionSaveAccount(), make_tracker("add account", "add_account", [], slots={"form_account": name},
                                          sender=sender))
    dispatcher, _events = run(ActionAccountSummary(), make_tracker(f"summary of {name}", "ask_account_summary",
                                                                   [{"entity": "account", "value": name}],
                                                                   sender=sender))
    assert reply_texts(dispatcher)[0].split("\n")[0] == expected_name(name), reply_texts(dispatcher)


@fuzz_settings(10)
@given(person=st.sampled_from(["Maria Lopez;", "刘建国：", "Bob:", "王芳；", "?Tom"]))
def test_a_person_name_ending_in_punctuation_is_saved(use_store, person):
    """Bug 9: saved under the clean name, looked up under the raw one: "something went wrong", nothing saved."""
    sender = new_sender()
    tracker = make_tracker(f"{person} is the CFO", "record_stakeholder", [{"entity": "title", "value": "CFO"}],
                           slots={"form_account": "Acme", "form_person": person}, sender=sender)
    dispatcher, _events = run(ActionSaveStakeholder(), tracker)
    lang = reply_language(tracker)
    name = expected_name(person)
    assert check_reply(dispatcher, person) == [i18n.render(
        "stakeholder_saved_new", lang, person=name, account="Acme", facts=i18n.text("facts_prefix", lang, facts="CFO"),
        new_account=i18n.text("new_account_suffix", lang))]
    with use_store.team(team_of(sender)) as scope:
        assert [(p.name, p.title) for a in scope.list_accounts() for p in a.stakeholders] == [(name, "CFO")]


def test_a_stakeholder_without_a_person_is_refused_politely(use_store):
    """The `assert main is not None` of action_save_stakeholder is a polite refusal now; nothing is saved."""
    sender = new_sender()
    tracker = make_tracker("the CFO is a supporter", "record_stakeholder", [{"entity": "title", "value": "CFO"}],
                           slots={"form_account": "Acme"}, sender=sender)
    dispatcher, events = run(ActionSaveStakeholder(), tracker)
    assert reply_texts(dispatcher) == [i18n.render("person_missing", "en")]
    assert {"name": "form_account", "value": None} in [{"name": e.get("name"), "value": e.get("value")}
                                                       for e in events]
    with use_store.team(team_of(sender)) as scope:
        assert scope.list_accounts() == []  # rolled back: not even the account


@fuzz_settings(10)
@given(name=st.sampled_from(["\u202e", "\u200b", "\x00", "\ufeff\u200d", "\u2066\u2069", "\u0301", "\x1b"]))
def test_an_invisible_name_is_refused(use_store, name):
    """Bug 15: an answer of an RTL override created an invisible account."""
    sender = new_sender()
    tracker = make_tracker(name, "add_account", [], slots={"form_account": name}, sender=sender)
    dispatcher, _events = run(ActionSaveAccount(), tracker)
    with use_store.team(team_of(sender)) as scope:
        assert scope.list_accounts() == []
    assert reply_texts(dispatcher) == [i18n.render("invalid_name", reply_language(tracker), limit=MAX_NAME)]


@pytest.mark.parametrize("answer", ["\u202e", "\u200b\u200b", "--", " " * 3])
def test_the_account_form_refuses_an_invisible_answer(use_store, answer):
    tracker = make_tracker(answer, "inform", [], sender=new_sender(), active_loop="account_form",
                           slots={"requested_slot": "form_account"})
    dispatcher = CollectingDispatcher()
    got = ValidateAccountForm().validate_form_account(answer, dispatcher, tracker, FORMS)
    assert got == {"form_account": None}
    assert reply_texts(dispatcher) == [i18n.render("invalid_name", "en", limit=MAX_NAME)]


@fuzz_settings(10)
@given(case=st.sampled_from([("“ Acme ”", "Acme"), ("' Acme'", "Acme"), ("\"华东精密 \"", "华东精密"),
                             ("Acme .", "Acme"), ("， Acme", "Acme"), ("\u200b“Acme”\u202e", "Acme"),
                             ("Acme\x00 Co", "Acme Co")]))
def test_stored_names_have_no_outer_whitespace(use_store, case):
    """Bug 17: “ Acme ” was stored as " Acme "."""
    name, expected = case
    sender = new_sender()
    run(ActionSaveAccount(), make_tracker("add account", "add_account", [], slots={"form_account": name},
                                          sender=sender))
    with use_store.team(team_of(sender)) as scope:
        assert [a.name for a in scope.list_accounts()] == [expected]


def _too_long_for_columns(store: Any) -> List[str]:
    """Values longer than their VARCHAR(n): SQLite keeps them, PostgreSQL refuses the whole write."""
    over = []
    with store.team("fuzz-inspector") as scope:
        for model in (models.Team, models.User, models.Account, models.Stakeholder, models.Opportunity):
            for column in model.__table__.columns:
                if isinstance(column.type, String) and column.type.length:
                    for row in scope.session.query(model):
                        value = getattr(row, column.key)
                        if isinstance(value, str) and len(value) > column.type.length:
                            over.append(f"{model.__tablename__}.{column.key}: {len(value)} > {column.type.length}")
    return over


@fuzz_settings(10)
@given(case=st.sampled_from(["name_key", "industry", "sender"]))
def test_every_stored_value_fits_its_column(use_store, case):
    """Bug 13: values longer than their VARCHAR(200) reached the database (PostgreSQL refuses them)."""
    sender = "s" * 300 if case == "sender" else new_sender()
    name = "\ufdfa" * 150 if case == "name_key" else "Acme"
    entities = [{"entity": "industry", "value": "manufacturing " * 20}] if case == "industry" else []
    dispatcher, _events = run(ActionSaveAccount(), make_tracker("add account", "add_account", entities,
                                                                slots={"form_account": name}, sender=sender))
    replies = check_reply(dispatcher, name)
    assert not _too_long_for_columns(use_store)
    if case == "industry":  # refused like an over-long title, nothing saved
        assert replies == [i18n.render("invalid_name", "en", limit=MAX_NAME)]
        return
    assert replies == [i18n.render("account_created", "en", account=name, details="")]
    # the same name, or the same sender, finds the account again
    dispatcher, _events = run(ActionAccountSummary(), make_tracker("summary", "ask_account_summary",
                                                                   [{"entity": "account", "value": name}],
                                                                   sender=sender))
    assert reply_texts(dispatcher)[0].split("\n")[0] == name, reply_texts(dispatcher)


def test_two_long_names_with_the_same_beginning_are_two_accounts(use_store):
    sender = new_sender()
    first, second = "\ufdfa" * 150, "\ufdfa" * 149 + "x"
    with use_store.team(team_of(sender)) as scope:
        a, a_created = scope.get_or_create_account(first)
        b, b_created = scope.get_or_create_account(second)
        assert a_created and b_created and a.id != b.id
        assert len(a.name_key) == len(b.name_key) == MAX_NAME and a.name_key != b.name_key
        assert scope.find_account(first) is a and scope.find_account(second) is b


@pytest.mark.postgres
@fuzz_settings(10)
@given(case=st.sampled_from(["nul", "name_key", "sender"]))
def test_on_postgres_hostile_but_valid_input_is_saved(postgres_url, case):
    """Bugs 13 and 14 on the production database: NUL, long keys and long sender ids are saved."""
    import actions.base
    from bot.identity import caller_from
    from bot.store import AccountStore
    from bot.store.db import make_session_factory
    from bot.store.migrate import upgrade

    upgrade(postgres_url)
    store = AccountStore(make_session_factory(postgres_url))
    actions.base.use_store(store)
    try:
        sender = "s" * 300 if case == "sender" else new_sender()
        name = "\ufdfa" * 150 if case == "name_key" else "Acme"
        text = "Met them \x00 today" if case == "nul" else "Met them today"
        who = caller_from(sender, "rest", {})
        with store.team(who.team_key, who.user_key) as scope:
            scope.get_or_create_account(name)
        tracker = make_tracker(text, "log_meeting", [], slots={"form_account": name}, sender=sender)
        dispatcher, _events = run(ActionSaveMeeting(), tracker)
        assert not set(check_reply(dispatcher, name, text)) & failures(reply_language(tracker))
        with store.team(who.team_key, who.user_key) as scope:
            assert [(a.name, [i.summary for i in a.interactions]) for a in scope.list_accounts()] == [
                (name, [stored_text(text)])]
    finally:
        actions.base.use_store(None)


@fuzz_settings(10)
@given(prefix=st.sampled_from(["ß ", "Straße: ", "ﬁne, ", "ŉ ", "İİ "]), account=st.sampled_from(["Acme",
                                                                                                "Globex Corp"]))
def test_known_names_point_at_the_name_in_the_text(use_store, prefix, account):
    """Bug 12: offsets found in a casefolded copy (ß -> ss) were used on the original text."""
    sender = new_sender()
    text = f"{prefix}met {account} today"
    with use_store.team(team_of(sender)) as scope:
        scope.get_or_create_account(account)
        found = known_names(scope, text, [])
    assert [(e["entity"], e["value"], text[e["start"]:e["end"]]) for e in found] == [("account", account, account)]
