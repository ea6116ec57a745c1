"""Shared base for all actions: language, caller, store access, safe replies."""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import DBAPIError, OperationalError

from actions.slots import SLOT_LANGUAGE, SLOT_LANGUAGE_OVERRIDE, TRANSIENT_SLOTS
from bot import i18n
from bot.identity import Caller, caller_from
from bot.language import LANGUAGES, detect
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


def reply_language(tracker: Tracker) -> str:
    """The language to answer in: the rep's override, else the message's own."""
    override = tracker.get_slot(SLOT_LANGUAGE_OVERRIDE)
    if override in LANGUAGES:
        return override
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    if not text.startswith("/"):  # button payloads carry no language
        detected = message.get("language") or detect(text)
        if detected in LANGUAGES:
            return detected
    previous = tracker.get_slot(SLOT_LANGUAGE)
    return previous if previous in LANGUAGES else "en"


def caller(tracker: Tracker) -> Caller:
    """The rep and team behind the latest message."""
    message = tracker.latest_message or {}
    return caller_from(tracker.sender_id, tracker.get_latest_input_channel(), message.get("metadata"))


class Reply:
    """Collects the reply of one action in the rep's language."""

    def __init__(self, dispatcher: CollectingDispatcher, lang: str) -> None:
        self.dispatcher = dispatcher
        self.lang = lang
        self.pictures: List[Tuple[Callable[..., bytes], Tuple[Any, ...]]] = []

    def say(self, key: str, buttons: Optional[List[Dict[str, str]]] = None, **params: Any) -> None:
        self.dispatcher.utter_message(text=i18n.render(key, self.lang, **params), buttons=buttons or [])

    def text(self, key: str, **params: Any) -> str:
        """Renders a piece of a reply (simplified/English; converted when sent)."""
        return i18n.text(key, self.lang, **params)

    def send(self, text: str, buttons: Optional[List[Dict[str, str]]] = None, image: Optional[str] = None) -> None:
        from bot.language import to_script

        self.dispatcher.utter_message(text=to_script(text, self.lang), buttons=buttons or [], image=image)

    def picture(self, render: Callable[..., bytes], *args: Any) -> None:
        """Queues a chart to send after the text answer.

        It is rendered once the action's database transaction is closed, off the event
        loop, so `args` must be plain data.
        """
        self.pictures.append((render, args))

    async def send_pictures(self) -> List[str]:
        """Renders, publishes and sends the queued charts.

        Pictures come in addition to the text answer, which every channel shows, so a
        failure here (no CJK font, full disk) only costs the picture: it is logged, not
        shown to the rep.
        """
        from bot import media

        urls = []
        for render, args in self.pictures:
            try:
                png = await asyncio.to_thread(render, *args)
                url = media.publish(png)
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
        reply = Reply(dispatcher, lang)
        events: List[EventType] = []
        try:
            events = await self.act(reply, tracker, domain)
            await reply.send_pictures()
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

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        """Events to return when the action failed (e.g. clear a form)."""
        return []

    @staticmethod
    def _explain(reply: Reply, exc: InvalidFact) -> None:
        explain(reply, exc)


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
        try:
            return await super().run(dispatcher, tracker, domain)
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
