"""Turn cost inside the Rasa server: constant per turn, however long the conversation.

Patches of Rasa Open Source 3.6 internals, measured in docs/benchmarks/load.md:

- **Rolling sessions.** Rasa loads, replays and featurises every event of the current
  conversation session on each turn, and sends all of them to the action server with
  every call; a session lasts until the rep has been silent for
  ``session_expiration_time`` (domain.yml), so a busy day is one ever-growing session
  and turn 400 was 6x slower than turn 1. A session now also ends once it holds
  ``SESSION_MAX_EVENTS`` events (default 300, about 30 turns; ``0`` turns this off):
  the next message starts a new session the way an expired one does
  (``action_session_start``, slots carried over — domain.yml
  ``carry_over_slots_to_new_session: true``). The account facts live in the account store
  and the dialogue state (language, current account, role-play) in slots, and the
  policies look at the last 5 turns only, so nothing the bot uses is lost. A session is
  never rolled over while a form is waiting for an answer, or while an action call that
  timed out may still deliver its result (bot/resilience.py matches the rep's repeat
  to it by counting the session's messages). The tracker store keeps every event of
  every session; only what is loaded and processed per turn is bounded.
- **Slots carried over once each.** Rasa's ``ActionSessionStart`` copies every ``SlotSet``
  *event* of the old session into the new one — a slot changed 50 times is set 50 times again,
  and each new session starts with all of the previous one's copies: with sessions rolling
  over, a 400-turn conversation held 290,000 slot events (measured). The new session now
  gets one ``SlotSet`` per slot, with its latest value and metadata: the same slot values.
- **Action answers checked against a schema built once.** ``RemoteAction._validate_action_result``
  calls ``jsonschema.validate``, which re-checks Rasa's large events schema itself before
  checking the answer: 21 ms per action call here, 0.8 ms with a validator built once.
  Same schema, same ``ValidationError`` on a bad answer.
- **Event classes looked up in a table.** ``Event.resolve_by_type`` walks every ``Event``
  subclass for every stored event it deserialises; a dictionary gives the same class.

Installed like bot/resilience.py: `bot/nlu/__init__.py` imports this module, and it
patches when Rasa's agent is loaded in the process; elsewhere call `install()`. The
patch checks the internals it relies on and raises if they changed (checked against
Rasa Open Source 3.6.21).
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any, Optional

logger = logging.getLogger(__name__)

CHECKED_RASA = "3.6"
DEFAULT_SESSION_MAX_EVENTS = 300

_installed = False
_original_has_session_expired = None
_original_resolve_by_type = None
_validator: Any = None
_event_types: dict[str, Any] = {}


def session_max_events() -> int:
    """Events after which the next message starts a new session (``SESSION_MAX_EVENTS``; 0 = never)."""
    raw = os.environ.get("SESSION_MAX_EVENTS", "").strip()
    if not raw:
        return DEFAULT_SESSION_MAX_EVENTS
    try:
        value = int(raw)
    except ValueError:
        logger.warning("SESSION_MAX_EVENTS=%r is not a whole number; using %d", raw, DEFAULT_SESSION_MAX_EVENTS)
        return DEFAULT_SESSION_MAX_EVENTS
    return max(value, 0)


def events_in_session(tracker: Any) -> int:
    """Events since the latest session start (or restart) in `tracker`."""
    from rasa.shared.core.events import Restarted, SessionStarted

    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted | Restarted):
            break
        count += 1
    return count


def session_is_full(tracker: Any, limit: Optional[int] = None) -> bool:
    """True when the next message should start a new session because this one is long.

    Only at a clean point: no form waiting for an answer, the bot listening, and no
    timed-out action call whose late result a repeat of the message may still use.
    """
    from rasa.shared.core.constants import ACTION_LISTEN_NAME

    limit = session_max_events() if limit is None else limit
    if limit <= 0 or len(tracker.events) <= limit:  # cheap exit: the whole tracker is shorter
        return False
    last = tracker.events[-1]
    if tracker.active_loop_name or getattr(last, "action_name", None) != ACTION_LISTEN_NAME:
        return False  # a form is waiting for an answer, or the latest turn is not finished
    from bot import resilience

    if resilience.has_pending_late_result(tracker.sender_id):
        return False
    return events_in_session(tracker) > limit


def _has_session_expired(self: Any, tracker: Any) -> bool:
    if _original_has_session_expired(self, tracker):
        return True
    if session_is_full(tracker):
        logger.debug("conversation %s: session holds more than %d events; starting a new one",
                     tracker.sender_id, session_max_events())
        return True
    return False


def carried_slots(tracker: Any) -> list[Any]:
    """One SlotSet per slot set in the session, with its latest value (in order of last change)."""
    from rasa.shared.core.events import SlotSet

    latest: dict[str, Any] = {}
    for event in tracker.applied_events():
        if isinstance(event, SlotSet):
            latest.pop(event.key, None)
            latest[event.key] = SlotSet(key=event.key, value=event.value, metadata=event.metadata)
    return list(latest.values())


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import DOCS_BASE_URL

    global _validator
    if _validator is None:
        from jsonschema.validators import validator_for

        schema = self.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)  # what jsonschema.validate does on every call, once
        _validator = cls(schema)
    error: Optional[ValidationError] = best_match(_validator.iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def _resolve_by_type(type_name: str, default: Any = None) -> Any:
    cls = _event_types.get(type_name)
    if cls is None:
        # first use, or an Event subclass imported since: rebuild, keeping Rasa's first-match order
        import rasa.shared.utils.common
        from rasa.shared.core.events import Event

        table: dict[str, Any] = {}
        for candidate in rasa.shared.utils.common.all_subclasses(Event):
            table.setdefault(candidate.type_name, candidate)
        _event_types.clear()
        _event_types.update(table)
        cls = table.get(type_name)
    if cls is not None:
        return cls
    return _original_resolve_by_type(type_name, default)  # Rasa's own answer for unknown names


def _check_rasa() -> None:
    import rasa
    from rasa.core.actions import action as action_module
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    problems = []
    version = getattr(rasa, "__version__", "")
    if not version.startswith(CHECKED_RASA + "."):
        problems.append(f"Rasa {version} (checked against {CHECKED_RASA}.x)")
    if not callable(getattr(MessageProcessor, "_has_session_expired", None)):
        problems.append("MessageProcessor._has_session_expired is missing")
    remote = getattr(action_module, "RemoteAction", None)
    for attr in ("_validate_action_result", "action_response_format_spec"):
        if not callable(getattr(remote, attr, None)):
            problems.append(f"RemoteAction.{attr} is missing")
    if not callable(getattr(getattr(action_module, "ActionSessionStart", None), "_slot_set_events_from_tracker", None)):
        problems.append("ActionSessionStart._slot_set_events_from_tracker is missing")
    if not hasattr(action_module, "DOCS_BASE_URL"):
        problems.append("rasa.core.actions.action.DOCS_BASE_URL is missing")
    if not callable(getattr(Event, "resolve_by_type", None)):
        problems.append("Event.resolve_by_type is missing")
    for attr in ("active_loop_name", "latest_action_name"):
        if not hasattr(DialogueStateTracker, attr):
            problems.append(f"DialogueStateTracker.{attr} is missing")
    if problems:
        raise RuntimeError("bot.performance cannot patch this Rasa: " + "; ".join(problems)
                           + ". Re-check the patch against the new version (docs/benchmarks/load.md).")


def install() -> None:
    """Applies the patches (idempotent). Raises if Rasa's internals changed."""
    global _installed, _original_has_session_expired, _original_resolve_by_type
    if _installed:
        return
    _check_rasa()
    from rasa.core.actions.action import ActionSessionStart, RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import Event

    _original_has_session_expired = MessageProcessor._has_session_expired
    MessageProcessor._has_session_expired = _has_session_expired
    RemoteAction._validate_action_result = _validate_action_result
    ActionSessionStart._slot_set_events_from_tracker = staticmethod(carried_slots)
    _original_resolve_by_type = Event.resolve_by_type
    Event.resolve_by_type = staticmethod(_resolve_by_type)
    _installed = True
    logger.info("sessions roll over after %d events; action answers checked with a prebuilt schema validator "
                "(bot.performance)", session_max_events())


def installed() -> bool:
    return _installed


if "rasa.core.agent" in sys.modules:  # inside the Rasa server (or shell/test): patch now
    install()
