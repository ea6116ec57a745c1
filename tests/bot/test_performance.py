"""bot/performance.py against Rasa's own classes: same answers as Rasa, sessions roll only at clean points."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot import performance, resilience
from tests.servers import REPO

performance.install()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO / "domain.yml"))


def conversation(domain: Domain, turns: int, sender: str = "rep-1") -> DialogueStateTracker:
    """A session start and `turns` turns of four events each, ending with the bot listening."""
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for i in range(turns):
        events += [UserUttered(f"message {i}", {"name": "ask_risks"}), ActionExecuted("action_deal_risks"),
                   BotUttered(f"answer {i}"), ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events(sender, events, domain.slots)


def test_events_are_counted_from_the_latest_session_start(domain):
    tracker = conversation(domain, 10)
    assert performance.events_in_session(tracker) == 1 + 40  # the listen after the start, 10 turns
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(SlotSet("language", "zh-Hans"))
    tracker.update(ActionExecuted("action_listen"))
    assert performance.events_in_session(tracker) == 2


def test_a_long_session_is_full_only_past_the_limit(domain):
    tracker = conversation(domain, 10)  # 41 events in the session, 43 in all
    assert performance.session_is_full(tracker, limit=40)
    assert not performance.session_is_full(tracker, limit=41)
    assert not performance.session_is_full(tracker, limit=0)  # 0 turns rolling off


def test_a_session_does_not_roll_while_a_form_waits_for_an_answer(domain):
    tracker = conversation(domain, 10)
    tracker.update(UserUttered("the customer says it is too expensive", {"name": "objection"}))
    tracker.update(ActionExecuted("objection_form"))
    tracker.update(ActiveLoop("objection_form"))
    tracker.update(ActionExecuted("action_listen"))
    assert not performance.session_is_full(tracker, limit=10)
    tracker.update(UserUttered("price was not the problem, value was", {"name": "inform"}))
    tracker.update(ActionExecuted("objection_form"))
    tracker.update(ActiveLoop(None))
    assert not performance.session_is_full(tracker, limit=10)  # the form's turn is not over yet
    tracker.update(ActionExecuted("action_listen"))
    assert performance.session_is_full(tracker, limit=10)


def test_a_session_does_not_roll_in_the_middle_of_a_turn(domain):
    tracker = conversation(domain, 10)
    tracker.update(UserUttered("what are the risks", {"name": "ask_risks"}))
    assert not performance.session_is_full(tracker, limit=10)


def test_a_session_does_not_roll_while_a_late_action_result_may_be_reused(domain):
    tracker = conversation(domain, 10, sender="rep-late")
    resilience._late[("rep-late", "action_save_meeting", "metwithmaria")] = None  # a timed-out call still running
    try:
        assert resilience.has_pending_late_result("rep-late")
        assert not performance.session_is_full(tracker, limit=10)
        assert performance.session_is_full(conversation(domain, 10, sender="rep-other"), limit=10)
    finally:
        resilience.forget_late_results()
    assert performance.session_is_full(tracker, limit=10)


@pytest.mark.parametrize("raw, expected", [("", 300), ("40", 40), ("0", 0), ("-3", 0), ("many", 300)])
def test_session_max_events_comes_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("SESSION_MAX_EVENTS", raw)
    assert performance.session_max_events() == expected


GOOD_ANSWERS = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "account", "value": "Acme"}], "responses": [{"text": "Saved"}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "action_listen"}]},
    {"responses": [{"text": "见下图", "image": "http://127.0.0.1/charts/x.png", "buttons": []}]},
]
BAD_ANSWERS = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},                 # a slot event without its name
    {"events": [{"event": "no_such_event"}]},
    {"responses": ["text instead of an object"]},
    [],
]


@pytest.mark.parametrize("answer", GOOD_ANSWERS)
def test_valid_action_answers_pass_as_with_rasas_check(answer):
    jsonschema.validate(answer, RemoteAction.action_response_format_spec())  # Rasa's own check passes
    assert RemoteAction("action_x", None)._validate_action_result(answer) is True


@pytest.mark.parametrize("answer", BAD_ANSWERS)
def test_invalid_action_answers_fail_with_rasas_error(answer):
    with pytest.raises(jsonschema.ValidationError) as rasa_way:
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        RemoteAction("action_x", None)._validate_action_result(answer)
    assert ours.value.message.startswith(rasa_way.value.message)
    assert "Failed to validate Action server response" in ours.value.message


def test_event_types_resolve_to_the_same_classes_as_rasa():
    original = performance._original_resolve_by_type
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is original(name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_the_patches_are_installed_in_the_rasa_server_process():
    from rasa.core.processor import MessageProcessor

    import bot.nlu  # noqa: F401 - what the Rasa server imports with the model's pipeline

    assert performance.installed()
    assert MessageProcessor._has_session_expired is performance._has_session_expired
    assert RemoteAction._validate_action_result is performance._validate_action_result


def test_a_new_session_gets_each_slot_once_with_its_latest_value(domain):
    from rasa.core.actions.action import ActionSessionStart

    tracker = conversation(domain, 2)
    for i in range(50):
        tracker.update(SlotSet("current_account", f"Acme {i}"))
    tracker.update(SlotSet("language", "zh-Hans"))
    tracker.update(SlotSet("current_account", "Globex"))
    tracker.update(SlotSet("language", None))
    carried = ActionSessionStart._slot_set_events_from_tracker(tracker)
    assert [(e.key, e.value) for e in carried] == [("current_account", "Globex"), ("language", None)]
    replayed = DialogueStateTracker.from_events("copy", [SessionStarted(), *carried], domain.slots)
    assert replayed.get_slot("current_account") == tracker.get_slot("current_account") == "Globex"
