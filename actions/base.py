"""Shared base for all actions: language, caller, store access, safe replies."""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import DBAPIError, OperationalError

from actions.slots import SLOT_LANGUAGE, SLOT_LANGUAGE_OVERRIDE, SLOT_RESUME_OFFER, TRANSIENT_SLOTS
from bot import i18n
from bot.identity import Caller, caller_from
from bot.language import LANGUAGES, detect, script_counts
from bot.store import AccountStore, InvalidFact, get_store

logger = logging.getLogger(__name__)


_store_override: Optional[AccountStore] = None


def use_store(store_: Optional[AccountStore]) -> None:
    """Makes every action use `store_` (tests pass a store on a fresh database)."""
    global _store_override
    _store_override = store_


def store() -> AccountStore:
    """The account store the actions use."""
    return _store_override or get_store()


T = TypeVar("T")
_workers: Optional[ThreadPoolExecutor] = None
_worker_loops = threading.local()


def _worker_pool() -> ThreadPoolExecutor:
    global _workers
    if _workers is None:
        _workers = ThreadPoolExecutor(max_workers=int(os.environ.get("ACTION_THREADS", "16")),
                                      thread_name_prefix="action")
    return _workers


def _run_on_worker_loop(make: Callable[[], Awaitable[T]]) -> T:
    loop = getattr(_worker_loops, "loop", None)
    if loop is None:
        loop = _worker_loops.loop = asyncio.new_event_loop()
    return loop.run_until_complete(make())


async def off_the_event_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Runs the coroutine `make()` builds on a worker thread (with an event loop of its own).

    The store is synchronous (SQLAlchemy): run on the action server's event loop, one rep's
    write waiting for a locked database stalled every other rep's turn, even those that read
    nothing. Each action runs on one of ``ACTION_THREADS`` (16) worker threads instead, so a slow
    write delays only its own rep.
    """
    return await asyncio.get_running_loop().run_in_executor(_worker_pool(), _run_on_worker_loop, make)


_remembered: set[Tuple[int, str, str]] = set()


def remember_conversation(who: Caller, conversation_id: str) -> None:
    """Notes once per process that `who`'s team talks in `conversation_id` (for data-rights erasure).

    On a worker thread, never in the rep's way: a busy or unreachable database only postpones
    it to a later turn.
    """
    key = (id(store()), who.team_key, conversation_id)
    if key in _remembered:
        return
    _remembered.add(key)

    def note() -> None:
        try:
            with store().team(who.team_key, who.user_key) as scope:
                scope.remember_conversation(conversation_id)
        except Exception as exc:  # noqa: BLE001 - tried again on a later turn
            logger.warning("could not note a conversation of a team (%s)", type(exc).__name__)
            _remembered.discard(key)

    _worker_pool().submit(note)


def reply_language(tracker: Tracker) -> str:
    """The language to answer in: the rep's override, else the message's own."""
    override = tracker.get_slot(SLOT_LANGUAGE_OVERRIDE)
    if override in LANGUAGES:
        return override
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    previous = tracker.get_slot(SLOT_LANGUAGE)
    if not text.startswith("/"):  # button payloads carry no language
        detected = message.get("language") or detect(text)
        if detected == "zh-Hans" and previous == "zh-Hant" and script_counts(text) == (0, 0):
            return previous  # "是", "好", "对" are written alike in both scripts: the conversation's script
        if detected in LANGUAGES:
            return detected
    return previous if previous in LANGUAGES else "en"


def caller(tracker: Tracker) -> Caller:
    """The rep and team behind the latest message."""
    message = tracker.latest_message or {}
    return caller_from(tracker.sender_id, tracker.get_latest_input_channel(), message.get("metadata"))


class Reply:
    """Collects the reply of one action in the rep's language."""

    def __init__(self, dispatcher: CollectingDispatcher, lang: str, who: Optional[Caller] = None) -> None:
        self.dispatcher = dispatcher
        self.lang = lang
        self.who = who
        self.pictures: List[Tuple[Callable[..., bytes], Tuple[Any, ...], Optional[int]]] = []

    def say(self, key: str, buttons: Optional[List[Dict[str, str]]] = None, **params: Any) -> None:
        self.dispatcher.utter_message(text=i18n.render(key, self.lang, **params), buttons=buttons or [])

    def text(self, key: str, **params: Any) -> str:
        """Renders a piece of a reply (simplified/English; converted when sent)."""
        return i18n.text(key, self.lang, **params)

    def send(self, text: str, buttons: Optional[List[Dict[str, str]]] = None, image: Optional[str] = None) -> None:
        from bot.language import to_script

        self.dispatcher.utter_message(text=to_script(text, self.lang), buttons=buttons or [], image=image)

    def picture(self, render: Callable[..., bytes], *args: Any, account_id: Optional[int] = None) -> None:
        """Queues a chart to send after the text answer.

        It is rendered once the action's database transaction is closed, off the event
        loop, so `args` must be plain data. `account_id` names the account the chart shows:
        deleting the account (or one of its people) deletes the chart.
        """
        self.pictures.append((render, args, account_id))

    async def send_pictures(self) -> List[str]:
        """Renders, publishes and sends the queued charts.

        Pictures come in addition to the text answer, which every channel shows, so a
        failure here (no CJK font, full disk) only costs the picture: it is logged, not
        shown to the rep.
        """
        from bot import media

        urls = []
        for render, args, account_id in self.pictures:
            try:
                png = await asyncio.to_thread(render, *args)
                url = media.publish(png)
                if self.who is not None:
                    with store().team(self.who.team_key, self.who.user_key) as scope:
                        scope.record_chart(media.file_name(url) or "", account_id)
            except Exception:  # noqa: BLE001 - the text answer has been sent already
                logger.exception("chart rendering failed")
                continue
            self.dispatcher.utter_message(image=url)
            urls.append(url)
        self.pictures = []
        return urls

    def label(self, kind: str, value: Optional[str]) -> str:
        return i18n.label(kind, value, self.lang)


class SalesAction(Action, ABC):
    """Base of every action: answers in the rep's language and never leaks an error.

    Subclasses implement `act`. A fact that cannot be stored gets a polite
    explanation; a database outage or a bug gets a clear "nothing was saved"
    reply. The store's transaction has rolled back by then, so nothing is
    half-written. Offers that only stand for the next message ("debrief now?",
    "next step of the plan") are withdrawn by any action that does not keep them.
    """

    #: actions that act on a standing offer keep it (they clear it themselves)
    keeps_offers = False

    @abstractmethod
    def name(self) -> str:
        ...

    @abstractmethod
    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        lang = reply_language(tracker)
        who = caller(tracker)
        reply = Reply(dispatcher, lang, who)
        events: List[EventType] = []
        if self.name().startswith("action_ask_") and returning_from_interruption(tracker):
            # A form's question, right after its question was interrupted by another request
            # that has just been answered: offer to go back rather than ask out of the blue; and
            # if the offer itself was passed over, let the form go.
            language = [SlotSet(SLOT_LANGUAGE, lang)] if tracker.get_slot(SLOT_LANGUAGE) != lang else []
            form = tracker.active_loop.get("name")
            if tracker.get_slot(SLOT_RESUME_OFFER) == form or offered_this_turn(tracker):
                # passed over once already, or the interruption asked a question of its own ("Delete
                # Tom Reed? yes / no"): the rep's next "yes" must answer that, so the form gives way
                reply.say("resume_dropped", topic=form_topic(reply, tracker, form))
                return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(SLOT_RESUME_OFFER, None),
                        FollowupAction("action_listen")] + language
            offer_resume(reply, tracker)
            return [SlotSet(SLOT_RESUME_OFFER, form)] + language
        try:
            events = await off_the_event_loop(lambda: self._act_and_draw(reply, tracker, domain))
        except InvalidFact as exc:
            self._explain(reply, exc)
            events = self.on_failure(tracker)
        except (OperationalError, DBAPIError):
            logger.exception("database error in %s", self.name())
            reply.say("error_unavailable")
            events = self.on_failure(tracker)
        except Exception:  # noqa: BLE001 - the rep must get a reply, never a stack trace
            logger.exception("action %s failed", self.name())
            reply.say("error_generic")
            events = self.on_failure(tracker)
        if not self.keeps_offers:
            events = [SlotSet(s, None) for s in TRANSIENT_SLOTS if tracker.get_slot(s)] + list(events)
        if tracker.get_slot(SLOT_LANGUAGE) != lang:
            events = [SlotSet(SLOT_LANGUAGE, lang)] + list(events)
        return events

    async def _act_and_draw(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if reply.who is not None:
            remember_conversation(reply.who, tracker.sender_id)
        if not self.keeps_offers:
            from actions.meetings import save_amended_offer

            save_amended_offer(reply, tracker)
        events = await self.act(reply, tracker, domain)
        await reply.send_pictures()
        return events

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        """Events to return when the action failed (e.g. clear a form)."""
        return []

    @staticmethod
    def _explain(reply: Reply, exc: InvalidFact) -> None:
        explain(reply, exc)


def returning_from_interruption(tracker: Tracker) -> bool:
    """The form was interrupted in this turn (it rejected the message) by a request other than help."""
    rejected = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "action_execution_rejected":
            rejected = True
        if event.get("event") == "action" and event.get("name") == "action_show_capabilities":
            return False  # help about the question: ask it again as it is
    return rejected


def offered_this_turn(tracker: Tracker) -> bool:
    """An action of this turn left a question that stands for the next message (a confirmation, a choice)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") in TRANSIENT_SLOTS and event.get("value"):
            return True
    return False


def form_topic(reply: Reply, tracker: Tracker, form: Optional[str]) -> str:
    """What a form is about, for "Back to the budget cut?": the conflict or objection kind, else the form."""
    kind = tracker.get_slot("conflict_type") if form == "conflict_form" else (
        tracker.get_slot("objection_type") if form == "objection_form" else None)
    return i18n.label("form_topic", kind or form or "", reply.lang)


def offer_resume(reply: Reply, tracker: Tracker) -> None:
    reply.say("resume_offer", topic=form_topic(reply, tracker, tracker.active_loop.get("name")),
              buttons=[{"title": reply.text("resume_yes"), "payload": "/affirm"},
                       {"title": reply.text("resume_no"), "payload": "/deny"}])


_actions_by_name: Dict[str, Action] = {}


def action_named(name: str) -> Optional[Action]:
    """The registered action called `name` (an instance), or None."""
    if not _actions_by_name:
        pending = list(Action.__subclasses__())
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            if not getattr(cls, "__abstractmethods__", None):
                try:
                    _actions_by_name.setdefault(cls().name(), cls())
                except Exception:  # noqa: BLE001 - a helper class that cannot stand alone
                    continue
    return _actions_by_name.get(name)


#: store refusals that need no value to be explained: InvalidFact code -> message key
_PLAIN_REFUSALS = {"empty_need": "empty_need", "empty_summary": "empty_summary", "no_user": "no_user",
                   "no_person": "person_missing"}


def explain(reply: Reply, exc: InvalidFact) -> None:
    """Tells the rep why a fact was not stored (nothing was changed)."""
    if exc.code in ("empty_name", "name_too_long"):
        reply.say("invalid_name", limit=exc.params.get("limit", 200))
    elif exc.code == "bad_influence":
        reply.say("invalid_influence", value=exc.params.get("value"))
    elif exc.code == "bad_amount":
        reply.say("invalid_amount", value=exc.params.get("value", ""))
    elif exc.code in _PLAIN_REFUSALS:
        reply.say(_PLAIN_REFUSALS[exc.code])
    elif exc.code == "ambiguous_person":
        # one short question, with the message back as the answer: it is re-sent with the full name
        mention, text = str(exc.params.get("mention") or ""), str(exc.params.get("text") or "")
        choices = [str(c) for c in exc.params.get("choices") or []][:5]
        buttons = [{"title": c, "payload": text.replace(mention, c, 1)} for c in choices if text and mention in text]
        reply.say("which_person", person=mention, people=i18n.join(choices, reply.lang), buttons=buttons)
    else:
        reply.say("invalid_value", value=exc.params.get("value", ""), field=exc.params.get("field", ""))


class SafeFormValidation(FormValidationAction, ABC):
    """A form validation action that never lets an error escape `run()` (not registered itself).

    An uncaught error would make the action server answer 500 and the rep hear nothing.
    A fact the store refuses is explained; a database outage or a bug gets the "nothing was
    saved" reply (logged with its traceback). A refused fact sets no slot, so the form asks
    for it again; after an outage or a bug the form is ended and the bot listens (its
    question or save action would only fail again), so the rep gets one reply and simply
    sends the message again later — as bot/resilience.py does when the action server fails.
    """

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa_sdk's executor does not register this base class."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot(SLOT_RESUME_OFFER) == self.form_name():
            answer = (tracker.latest_message.get("intent") or {}).get("name")
            if answer == "affirm":  # back to it: the form asks the same question again
                return [SlotSet(SLOT_RESUME_OFFER, None), SlotSet("requested_slot", tracker.get_slot("requested_slot"))]
            if answer in ("deny", "cancel"):
                reply = Reply(dispatcher, reply_language(tracker))
                saved_as_told = self.form_name() == "debrief_form"  # each debrief answer is saved when given
                reply.say("resume_declined_kept" if saved_as_told else "resume_declined",
                          topic=form_topic(reply, tracker, self.form_name()))
                return [SlotSet(SLOT_RESUME_OFFER, None)] + self._end_form(domain)
        try:
            return await off_the_event_loop(lambda: super(SafeFormValidation, self).run(dispatcher, tracker, domain))
        except InvalidFact as exc:
            explain(Reply(dispatcher, reply_language(tracker)), exc)
        except (OperationalError, DBAPIError):
            logger.exception("database error in %s", self.name())
            Reply(dispatcher, reply_language(tracker)).say("error_unavailable")
            return self._end_form(domain)
        except Exception:  # noqa: BLE001 - the rep must get a reply, never a stack trace
            logger.exception("form validation %s failed", self.name())
            Reply(dispatcher, reply_language(tracker)).say("error_generic")
            return self._end_form(domain)
        return []

    def _end_form(self, domain: DomainDict) -> List[EventType]:
        """The form ended without its save action, its slots cleared, the bot listening."""
        form = (domain.get("forms") or {}).get(self.form_name()) or {}
        required = form.get("required_slots") or []
        return ([ActiveLoop(None), SlotSet("requested_slot", None)] + [SlotSet(slot, None) for slot in required]
                + [FollowupAction("action_listen")])

