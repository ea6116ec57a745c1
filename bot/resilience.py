"""Action-server faults inside the Rasa server: a reply within seconds, never silence.

Rasa Open Source 3.6 waits up to 300 s (``rasa.core.constants.DEFAULT_REQUEST_TIMEOUT``)
for the action server, and when a call fails (server down, 5xx, timeout) the
processor logs the exception, drops the action's events and sends the rep
nothing. This module wraps `rasa.core.actions.action.RemoteAction.run`, the
single place every custom action, form validation and form question goes
through, so that:

- the rep waits at most ``ACTION_TIMEOUT_SECONDS`` (default 8) for one action call;
- a failed or timed-out call becomes one bilingual bot reply ("Sorry — I couldn't
  finish that just now, nothing was saved. Please try again in a moment.", or for
  a timeout the "that took too long" text) in the rep's language
  (``language_override`` slot, else the latest message's language, else the
  ``language`` slot); none of the action's events are written, and the bot listens;
- forms are left in a clean state: when the validation of the rep's answer fails the
  form keeps waiting for that answer; when the form was being started, or its
  question fails, it is ended without running its save action;
- a call that times out is not abandoned: the HTTP request stays open up to
  ``ACTION_LATE_RESULT_SECONDS`` (default 120) so its outcome is known. When the
  rep's next message is the same text, the late result is used instead of running
  the action a second time, so a write that finished late is not applied twice.

The tracker store gets the same treatment. Rasa wraps it in `FailSafeTrackerStore`, which
answers a failed *load* with an empty conversation (the message is then handled without its
context: a form answer taken as a new request, a fact filed under no account) and a failed
*save* with a copy in this process's memory that nothing ever reads. Here:

- a failed load stops the turn before anything runs: the rep gets "I can't reach our
  conversation history right now … nothing was saved" (``fault_history_load``) in the language
  of their message, and nothing is written anywhere;
- a failed save (at the end of the turn, after the actions ran) is said, not hidden: the
  turn's replies go out followed by ``fault_history_save`` ("what I confirmed above is saved in
  your accounts, but I may not remember this part of our conversation").

The conversation carries on from the last saved turn when the database is back.

Rasa's `SQLTrackerStore.session_scope` also turns *any* ``ValueError`` raised while it holds a
session into ``sys.exit(1)`` (it assumes a missing PostgreSQL schema): a sender id holding a lone
UTF-16 surrogate (``UnicodeEncodeError`` is a ``ValueError``) stopped the whole server. Here the
scope raises the error like any other database error, and a message whose text or sender id is
not valid Unicode is answered politely (``message_unreadable``) before Rasa looks at it.

It is installed when imported in a process that runs Rasa's agent (the Rasa
server, ``rasa shell``, ``rasa test``); `bot/nlu/__init__.py` imports it, and the
Rasa server imports `bot.nlu` when it loads the model's pipeline. Anywhere else
call `install()`. The patch checks at install time that the Rasa internals it
relies on are still there and raises otherwise, so a Rasa upgrade fails loudly
(checked against Rasa Open Source 3.6.21; see docs/faults.md).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
import time
import unicodedata
import weakref
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from bot.identity import log_name

logger = logging.getLogger(__name__)

#: Rasa versions the patch was checked against (major.minor).
CHECKED_RASA = "3.6"
DEFAULT_TIMEOUT = 8.0
DEFAULT_LATE_RESULT = 120.0
#: how long a late result stays usable for a repeated message
LATE_RESULT_RETENTION = 15 * 60
MAX_LATE_RESULTS = 1000

SLOT_LANGUAGE = "language"              # actions/slots.py: SLOT_LANGUAGE
SLOT_LANGUAGE_OVERRIDE = "language_override"  # actions/slots.py: SLOT_LANGUAGE_OVERRIDE

#: message keys in bot/content/messages/faults.yml
MESSAGE_FAILED = "fault_try_again"
MESSAGE_TIMEOUT = "fault_timeout"
MESSAGE_HISTORY_LOAD = "fault_history_load"
MESSAGE_HISTORY_SAVE = "fault_history_save"


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store failed to load (``stage="load"``) or save (``"save"``) a conversation."""

    def __init__(self, stage: str, sender_id: str, cause: BaseException) -> None:
        super().__init__(f"tracker store {stage} failed for {log_name(sender_id)}: {type(cause).__name__}")
        self.stage = stage


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        logger.warning("%s=%r is not a number; using %s", name, raw, default)
        return default
    return value if value > 0 else default


def action_timeout() -> float:
    """Seconds the rep waits for one action call (``ACTION_TIMEOUT_SECONDS``, default 8)."""
    return _seconds("ACTION_TIMEOUT_SECONDS", DEFAULT_TIMEOUT)


def busy_allowance() -> float:
    """At most this many extra seconds for a call while Rasa's own event loop was too busy.

    ``ACTION_BUSY_ALLOWANCE_SECONDS``, default 3x the timeout.
    """
    return _seconds("ACTION_BUSY_ALLOWANCE_SECONDS", 3 * action_timeout())


def late_result_timeout() -> float:
    """Seconds a timed-out call may still finish (``ACTION_LATE_RESULT_SECONDS``, default 120)."""
    return max(_seconds("ACTION_LATE_RESULT_SECONDS", DEFAULT_LATE_RESULT), action_timeout())


# --- the reply -------------------------------------------------------------------

def reply_language(tracker: Any) -> str:
    """The rep's language, as `actions.base.reply_language` decides it on the action server."""
    from bot.language import LANGUAGES, detect

    override = tracker.get_slot(SLOT_LANGUAGE_OVERRIDE)
    if override in LANGUAGES:
        return override
    message = getattr(tracker, "latest_message", None)
    text = (getattr(message, "text", None) or "") if message is not None else ""
    if text and not text.startswith("/"):  # button payloads carry no language
        detected = (getattr(message, "parse_data", None) or {}).get("language") or detect(text)
        if detected in LANGUAGES:
            return detected
    previous = tracker.get_slot(SLOT_LANGUAGE)
    return previous if previous in LANGUAGES else "en"


def text_language(text: str) -> str:
    """The language of a message when no conversation state is available."""
    from bot.language import LANGUAGES, detect

    detected = detect(text) if text and not text.startswith("/") else None
    return detected if detected in LANGUAGES else "en"


def fault_reply(tracker: Any, key: str = MESSAGE_FAILED) -> str:
    """The try-again text for the rep behind `tracker`."""
    from bot import i18n

    return i18n.render(key, reply_language(tracker))


# --- how busy Rasa's own event loop is ------------------------------------------------
#
# Under load, an action call's answer can sit in Rasa's event loop behind other turns' work
# (NLU, policies, tracker (de)serialisation run in the loop): each await of the HTTP request
# resumes only when the loop gets to it. That time is not the action server being slow, and
# timing it out turns overload into "try again" replies (3.4 % of turns at 50 conversations
# in an early load run). A sampler measures how late the loop wakes up; a call's deadline is
# extended by the lateness accumulated during the call (up to `busy_allowance()`), so a
# frozen action server on an idle loop is still cut off after `action_timeout()`.

SAMPLE_INTERVAL = 0.05
_lag = {"total": 0.0}
_sampled_loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()
_lag_at_call: dict[int, float] = {}  # loop lateness when a pending call started (for the log line)


def _sample(loop: asyncio.AbstractEventLoop) -> None:
    """Measures how late the loop runs a callback due in SAMPLE_INTERVAL, and again, for as long as it runs."""
    expected = loop.time() + SAMPLE_INTERVAL

    def tick() -> None:
        late = loop.time() - expected
        if late > 0:
            _lag["total"] += late
        _sample(loop)

    loop.call_later(SAMPLE_INTERVAL, tick)


def loop_lag_total() -> float:
    """Seconds this process's event loop has woken up late, in total, since sampling started."""
    loop = asyncio.get_running_loop()
    if loop not in _sampled_loops:
        _sampled_loops.add(loop)
        _sample(loop)
    return _lag["total"]


async def _wait_with_allowance(task: asyncio.Task[list[Any]], timeout: float) -> list[Any]:
    """Waits for `task` up to `timeout`, plus the time the event loop was busy meanwhile."""
    busy_at_start, granted, allowance = loop_lag_total(), 0.0, busy_allowance()
    _lag_at_call[id(task)] = busy_at_start
    remaining = timeout
    while True:
        try:
            return await asyncio.wait_for(asyncio.shield(task), remaining)
        except asyncio.TimeoutError:
            if task.done():
                # The answer came in the same loop iteration as the deadline (the shield had not
                # passed it on yet): it is the answer, not a timeout. `result()` re-raises the call's
                # own error if it failed.
                return task.result()
            owed = min(loop_lag_total() - busy_at_start, allowance) - granted
            if owed < SAMPLE_INTERVAL:
                raise
            logger.info("action call: deadline extended by %.1f s, the time Rasa's event loop was busy", owed)
            granted += owed
            remaining = owed


# --- late results ------------------------------------------------------------------

@dataclass
class _Late:
    task: asyncio.Task[list[Any]]
    user_messages: int
    started: float


_late: dict[tuple[str, str, str], _Late] = {}


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text or "").casefold())


def _user_messages(tracker: Any) -> int:
    from rasa.shared.core.events import UserUttered

    return sum(1 for e in tracker.events if isinstance(e, UserUttered))


def _late_key(tracker: Any, action_name: str) -> Optional[tuple[str, str, str]]:
    message = getattr(tracker, "latest_message", None)
    text = _normalise(getattr(message, "text", None) or "") if message is not None else ""
    return (tracker.sender_id, action_name, text) if text else None


def _form_machinery(action_name: str, tracker: Any) -> Optional[str]:
    """The form whose validation or question `action_name` is, if it is one."""
    if action_name.startswith("validate_") and action_name != "validate_":
        return action_name[len("validate_"):]
    loop = getattr(tracker, "active_loop_name", None)
    if loop and action_name.startswith("action_ask_"):
        return loop
    return None


def _loop_at_latest_message(tracker: Any) -> Optional[str]:
    """The form that was waiting for an answer when the rep's latest message came in."""
    from rasa.shared.core.events import ActiveLoop, Restarted, SessionStarted, UserUttered

    loop = at_message = None
    for event in tracker.events:
        if isinstance(event, ActiveLoop):
            loop = event.name
        elif isinstance(event, Restarted | SessionStarted):
            loop = None
        elif isinstance(event, UserUttered):
            at_message = loop
    return at_message


def _turn(tracker: Any) -> tuple[str, str]:
    message = getattr(tracker, "latest_message", None)
    ident = (getattr(message, "message_id", None) or str(getattr(message, "timestamp", ""))) if message else ""
    return tracker.sender_id, ident


#: turns whose form validation failed mid-form: the form's question is not asked again in them
_failed_turns: dict[tuple[str, str], float] = {}


def _purge(now: float) -> None:
    for key in [k for k, v in _late.items() if now - v.started > LATE_RESULT_RETENTION]:
        _late.pop(key, None)
    for turn in [t for t, started in _failed_turns.items() if now - started > 600]:
        _failed_turns.pop(turn, None)
    while len(_late) > MAX_LATE_RESULTS:
        _late.pop(next(iter(_late)))


def _log_late_outcome(name: str, sender: str, started: float, kept: bool, task: asyncio.Task[list[Any]]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is None:
        logger.warning("action '%s' for %s finished late, %.1f s after it was called%s", name, log_name(sender),
                       time.monotonic() - started, "; its result is kept for a repeat of the same message"
                       if kept else "; its events are dropped")
    else:
        logger.warning("action '%s' for %s failed late: %s", name, log_name(sender), type(error).__name__)


def _fresh(events: list[Any]) -> list[Any]:
    now = time.time()
    for event in events:
        event.timestamp = now
    return events


def has_pending_late_result(sender_id: str) -> bool:
    """True while a timed-out action call of `sender_id` may still be matched to a repeat."""
    return any(key[0] == sender_id for key in _late)


def forget_late_results() -> None:
    """Drops every remembered late result (tests)."""
    _late.clear()
    _failed_turns.clear()


# --- the patch -------------------------------------------------------------------

_installed = False
_original_run = None


def _fallback_events(action: Any, tracker: Any, domain: Any, key: str) -> list[Any]:
    """One try-again reply, and a form left in a clean state.

    - The form's validation failed on the rep's answer to its question: the form keeps
      waiting for that answer (not asked again: the reply says to try again), so the
      rep simply sends it again.
    - The form was being started, or its question failed: the form is ended without
      its save action and its slots are cleared, so sending the message again starts
      it afresh.
    """
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME, REQUESTED_SLOT
    from rasa.shared.core.events import ActiveLoop, FollowupAction, SlotSet

    events: list[Any] = [create_bot_utterance({"text": fault_reply(tracker, key)})]
    form = _form_machinery(action.name(), tracker)
    if form and form in getattr(domain, "form_names", ()):
        required = domain.required_slots_for_form(form)
        requested = tracker.get_slot(REQUESTED_SLOT)
        known_slots = {slot.name for slot in domain.slots}
        if action.name() == f"validate_{form}" and requested in known_slots and _loop_at_latest_message(
                tracker) == form:
            _failed_turns[_turn(tracker)] = time.monotonic()
            # The same question stays open (the action server may narrow a form's slots, so Rasa
            # must not pick the next one itself), and its slot is "validated" as still missing,
            # which keeps Rasa from rejecting the form for this message.
            events += [SlotSet(REQUESTED_SLOT, requested), SlotSet(requested, None)]
        else:
            events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)] + [SlotSet(s, None) for s in required]
    if action.name() != ACTION_SESSION_START_NAME:  # after a session start the rep's message is still to answer
        # The reply is the turn's answer: listen next instead of continuing a chain of actions
        # (or running a form's save action) against an action server that just failed.
        events.append(FollowupAction(ACTION_LISTEN_NAME))
    return events


async def _resilient_run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
    """`RemoteAction.run` with a deadline and a try-again reply instead of an exception."""
    from rasa.core.actions.action import ActionExecutionRejection

    name = self.name()
    timeout = action_timeout()
    now = time.monotonic()
    _purge(now)
    if name.startswith("action_ask_") and _turn(tracker) in _failed_turns:
        return []  # the form's validation just failed in this turn; the rep has the try-again reply
    key = None if _form_machinery(name, tracker) else _late_key(tracker, name)
    count = _user_messages(tracker) if key else 0

    task, started = None, now
    late = _late.pop(key, None) if key else None
    if late is not None and late.user_messages + 1 == count:
        if not late.task.done():
            # still running: wait for it again rather than run the action a second time
            task, started = late.task, late.started
        elif not late.task.cancelled() and late.task.exception() is None:
            logger.info("action '%s' for %s: using the late result of the previous attempt", name, log_name(tracker.sender_id))
            return _fresh(late.task.result())
    if task is None:
        task = asyncio.ensure_future(_original_run(self, output_channel, nlg, tracker, domain))

    try:
        return await _wait_with_allowance(task, timeout)
    except ActionExecutionRejection:
        raise  # a form rejecting the message: Rasa's normal flow
    except asyncio.TimeoutError:
        if task.done():  # the HTTP request itself timed out: no late result to wait for
            logger.error("action '%s' for %s timed out", name, log_name(tracker.sender_id))
        else:
            logger.error("action '%s' for %s: no answer after %.1f s (timeout %.0f s; Rasa's event loop was busy "
                         "%.1f s of that, allowance %.0f s); the rep is asked to try again", name, log_name(tracker.sender_id),
                         time.monotonic() - now, timeout, loop_lag_total() - _lag_at_call.get(id(task), 0.0),
                         busy_allowance())
            if started == now:  # first time this call ran late
                sender = tracker.sender_id
                task.add_done_callback(lambda t: _log_late_outcome(name, sender, started, key is not None, t))
            if key:
                _late[key] = _Late(task, count, started)
        message = MESSAGE_FAILED if _form_machinery(name, tracker) else MESSAGE_TIMEOUT
        return _fallback_events(self, tracker, domain, message)
    except Exception as exc:  # noqa: BLE001 - server down, 5xx, invalid answer: the rep still gets a reply
        logger.error("action '%s' for %s failed (%s: %s); the rep is asked to try again", name,
                     tracker.sender_id, type(exc).__name__, exc)
        return _fallback_events(self, tracker, domain, MESSAGE_FAILED)
    finally:
        _lag_at_call.pop(id(task), None)


# --- the tracker store --------------------------------------------------------------

_original_handle_message = None


async def _strict_retrieve(self: Any, sender_id: str) -> Any:
    """`FailSafeTrackerStore.retrieve`: an error is an error, not an empty conversation."""
    try:
        return await self._tracker_store.retrieve(sender_id)
    except Exception as exc:  # noqa: BLE001 - any database error
        logger.error("tracker store: loading the conversation of %s failed (%s)", log_name(sender_id), type(exc).__name__)
        raise TrackerStoreUnavailable("load", sender_id, exc) from exc


async def _strict_save(self: Any, tracker: Any) -> None:
    """`FailSafeTrackerStore.save`: no silent copy in this process's memory."""
    try:
        await self._tracker_store.save(tracker)
    except Exception as exc:  # noqa: BLE001
        logger.error("tracker store: saving the conversation of %s failed (%s)", log_name(tracker.sender_id),
                     type(exc).__name__)
        raise TrackerStoreUnavailable("save", tracker.sender_id, exc) from exc


class TrackerStoreSchemaMissing(RuntimeError):
    """The tracker store's PostgreSQL schema (``POSTGRESQL_SCHEMA``) does not exist."""


@contextlib.contextmanager
def _session_scope(self: Any) -> Iterator[Any]:
    """`SQLTrackerStore.session_scope` without Rasa's ``sys.exit`` on any ``ValueError``."""
    from rasa.core.tracker_store import ensure_schema_exists

    session = self.sessionmaker()
    try:
        try:
            ensure_schema_exists(session)
        except ValueError as exc:
            raise TrackerStoreSchemaMissing(f"PostgreSQL schema {exc} does not exist") from None
        yield session
    finally:
        session.close()


async def _reply_instead(message: Any, text: str, recipient: Optional[str] = None) -> Optional[list[dict[str, Any]]]:
    """Sends `text` as the whole answer to `message` (nothing else is done with it)."""
    from rasa.core.channels.channel import CollectingOutputChannel

    output = message.output_channel
    if output is not None:
        try:
            await output.send_text_message(recipient or message.sender_id, text)
        except Exception as send_error:  # noqa: BLE001 - the channel itself is failing
            logger.error("could not answer a message: %s", type(send_error).__name__)
    return output.messages if isinstance(output, CollectingOutputChannel) else None


async def _handle_message(self: Any, message: Any) -> Optional[list[dict[str, Any]]]:
    """`MessageProcessor.handle_message`, telling the rep when their conversation cannot be kept.

    A message whose text, sender id or metadata is not valid Unicode (a lone surrogate) gets the
    polite ``message_unreadable`` reply and goes no further: no model, store or log could take it.
    """
    from bot import i18n
    from bot.channels.limits import invalid_unicode, unreadable_reply

    if invalid_unicode([message.sender_id, message.text or "", getattr(message, "metadata", None)]):
        logger.warning("a message that is not valid Unicode text was refused")
        recipient = message.sender_id.encode("utf-8", "replace").decode("utf-8")
        return await _reply_instead(message, unreadable_reply(message.text or ""), recipient)
    try:
        return await _original_handle_message(self, message)
    except TrackerStoreUnavailable as exc:
        key = MESSAGE_HISTORY_LOAD if exc.stage == "load" else MESSAGE_HISTORY_SAVE
        return await _reply_instead(message, i18n.render(key, text_language(message.text or "")))


def _check_rasa() -> Any:
    """The Rasa internals the patch relies on; raises when one is missing or changed."""
    import rasa
    import rasa.core.actions.action as action_module
    from rasa.core.actions import forms
    from rasa.shared.core import events
    from rasa.shared.core.domain import Domain

    problems = []
    version = getattr(rasa, "__version__", "")
    if not version.startswith(CHECKED_RASA + "."):
        problems.append(f"Rasa {version} (checked against {CHECKED_RASA}.x)")
    remote = getattr(action_module, "RemoteAction", None)
    run = getattr(remote, "run", None)
    run = getattr(run, "__wrapped__", run)  # checked again after install: look at Rasa's own run
    if run is None or not asyncio.iscoroutinefunction(run):
        problems.append("rasa.core.actions.action.RemoteAction.run (async) is missing")
    elif "DEFAULT_REQUEST_TIMEOUT" not in run.__code__.co_names:
        problems.append("RemoteAction.run no longer reads DEFAULT_REQUEST_TIMEOUT")
    for module, attr in ((action_module, "DEFAULT_REQUEST_TIMEOUT"), (action_module, "ActionExecutionRejection"),
                         (action_module, "create_bot_utterance"), (events, "ActiveLoop"),
                         (events, "FollowupAction"), (events, "SlotSet"), (events, "UserUttered"),
                         (events, "Restarted"), (events, "SessionStarted"),
                         (Domain, "required_slots_for_form")):
        if not hasattr(module, attr):
            problems.append(f"{module.__name__}.{attr} is missing")
    from rasa.core import tracker_store
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore

    if not hasattr(tracker_store, "ensure_schema_exists") or not callable(
            getattr(getattr(tracker_store, "SQLTrackerStore", None), "session_scope", None)):
        problems.append("rasa.core.tracker_store.SQLTrackerStore.session_scope / ensure_schema_exists is missing")
    for owner, attr in ((FailSafeTrackerStore, "retrieve"), (FailSafeTrackerStore, "save"),
                        (MessageProcessor, "handle_message")):
        if not asyncio.iscoroutinefunction(getattr(owner, attr, None)):
            problems.append(f"{owner.__name__}.{attr} (async) is missing")
    validate = getattr(getattr(forms, "FormAction", None), "validate_slots", None)
    if validate is None or "RemoteAction" not in validate.__code__.co_names:
        problems.append("FormAction.validate_slots no longer calls RemoteAction")
    if problems:
        raise RuntimeError("bot.resilience cannot patch this Rasa: " + "; ".join(problems)
                           + ". Re-check the patch against the new version (docs/faults.md).")
    return action_module


def install() -> None:
    """Patches `RemoteAction.run` (idempotent). Raises if Rasa's internals changed."""
    global _installed, _original_run, _original_handle_message
    if _installed:
        return
    action_module = _check_rasa()
    # The HTTP request itself may run until the late-result limit; the rep waits `action_timeout()`.
    action_module.DEFAULT_REQUEST_TIMEOUT = late_result_timeout()
    _original_run = action_module.RemoteAction.run
    _resilient_run.__wrapped__ = _original_run  # type: ignore[attr-defined]
    action_module.RemoteAction.run = _resilient_run
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore

    SQLTrackerStore.session_scope = _session_scope
    FailSafeTrackerStore.retrieve = _strict_retrieve
    FailSafeTrackerStore.save = _strict_save
    _original_handle_message = MessageProcessor.handle_message
    MessageProcessor.handle_message = _handle_message
    _installed = True
    logger.info("action calls: %.0f s timeout, try-again reply on failure (bot.resilience)", action_timeout())


def installed() -> bool:
    return _installed


if "rasa.core.agent" in sys.modules:  # inside the Rasa server (or shell/test): patch now
    install()
