"""The SPIN debrief after a logged meeting: problems, implications, need-payoffs, people.

Each answer is saved as soon as it is given (needs with their SPIN type,
stakeholder updates), so stopping half-way loses nothing.
"""
from __future__ import annotations

import logging
from abc import ABC
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import DBAPIError, OperationalError

from actions.base import Reply, SalesAction, caller, explain, reply_language, store
from actions.coaching_forms import CoachFormValidation, _intent
from actions.context import entities_of
from bot.capture import capture
from bot.coach import engine
from bot.coach.answers import normalise, short_answer
from bot.coach.facts import account_facts
from bot.store import InvalidFact

DEBRIEF_SLOTS = {"problems": "debrief_problems", "implications": "debrief_implications",
                 "need_payoff": "debrief_payoffs", "people": "debrief_people"}
SPIN_OF = {"problems": "problem", "implications": "implication", "need_payoff": "need_payoff"}
SKIPPED = "-"
logger = logging.getLogger(__name__)
_SKIP_WORDS = ("skip", "pass", "none", "nothing", "no", "n/a", "跳过", "没有", "无", "没", "略过", "下一个", "next")


def _is_skip(text: str, intent: Optional[str]) -> bool:
    norm = normalise(text).strip("。.!！ ")
    return intent == "deny" or norm in _SKIP_WORDS


class ValidateDebriefForm(CoachFormValidation):
    """Takes the rep's free-text answer to each debrief question and saves it at once."""

    def name(self) -> Text:
        return "validate_debrief_form"

    def _answer(self, tracker: Tracker, key: str) -> Dict[Text, Any]:
        slot = DEBRIEF_SLOTS[key]
        if self.activating(tracker):
            return self.reset(tracker, [slot])
        if tracker.get_slot(slot) or tracker.get_slot("requested_slot") != slot:
            return {}
        text = tracker.latest_message.get("text") or ""
        intent = _intent(tracker)
        if _is_skip(text, intent):
            return {slot: SKIPPED}
        short = len(text.split()) <= 3 and len(text) <= 12  # "ok", "thanks", "确定" (not "Hank wants a pilot")
        if intent in ("affirm", "thank") and short or not self.asked(tracker, slot, free_text=True):
            return {}  # "ok" / "确定" says nothing about the meeting; a request or a buyer line is not an answer
        answer = short_answer(text, limit=len(text))  # stored whole: the channels limit a message's length
        return {slot: answer} if answer else {}

    async def extract_debrief_problems(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._answer(tracker, "problems")

    async def extract_debrief_implications(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._answer(tracker, "implications")

    async def extract_debrief_payoffs(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._answer(tracker, "need_payoff")

    async def extract_debrief_people(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._answer(tracker, "people")

    def _save(self, tracker: Tracker, key: str, value: Any) -> None:
        if not value or value == SKIPPED:
            return
        account_name = tracker.get_slot("current_account")
        if not account_name:
            return
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account = scope.find_account(account_name)
            if account is None:
                return
            if key == "people":
                capture(scope, account.name, entities_of(tracker.latest_message))
                return
            people = scope.find_stakeholders(tracker.get_slot("current_person") or "", account)
            scope.add_need(account, str(value), stakeholder=people[0] if len(people) == 1 else None,
                           source="meeting", spin=SPIN_OF[key])

    async def _validate(self, key: str, value: Any, dispatcher: CollectingDispatcher,
                        tracker: Tracker) -> Dict[Text, Any]:
        """Saves the answer; one that cannot be saved is explained and asked again (nothing was stored)."""
        slot = DEBRIEF_SLOTS[key]
        try:
            self._save(tracker, key, value)
        except InvalidFact as exc:  # 150 % influence, a 300-character name
            explain(Reply(dispatcher, reply_language(tracker)), exc)
            return {slot: None}
        except (OperationalError, DBAPIError):
            logger.exception("database error saving the debrief answer %s", key)
            Reply(dispatcher, reply_language(tracker)).say("error_unavailable")
            return {slot: None}
        return {slot: value}

    async def validate_debrief_problems(self, value, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return await self._validate("problems", value, dispatcher, tracker)

    async def validate_debrief_implications(self, value, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return await self._validate("implications", value, dispatcher, tracker)

    async def validate_debrief_payoffs(self, value, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return await self._validate("need_payoff", value, dispatcher, tracker)

    async def validate_debrief_people(self, value, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return await self._validate("people", value, dispatcher, tracker)


class AskDebrief(SalesAction, ABC):
    """Asks one debrief question; the first one comes with the introduction. One subclass per question."""

    key = ""

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("debrief")
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account = scope.find_account(tracker.get_slot("current_account") or "")
            people = scope.find_stakeholders(tracker.get_slot("current_person") or "", account) if account else []
            facts = account_facts(scope, account, people[0] if len(people) == 1 else None)
            lines = [engine.text(book["intro"], reply.lang, facts)] if self.key == "problems" else []
            lines.append(engine.text(book["questions"][self.key], reply.lang, facts))
        reply.send("\n".join(lines))
        return []


def _make_ask(key: str) -> type:
    cls = type(f"ActionAskDebrief{key.title().replace('_', '')}", (AskDebrief,),
               {"key": key, "name": lambda self, _n=f"action_ask_{DEBRIEF_SLOTS[key]}": _n})
    cls.__module__ = __name__
    return cls


for _key in DEBRIEF_SLOTS:
    globals()[f"ActionAskDebrief{_key.title().replace('_', '')}"] = _make_ask(_key)


class ActionDebriefSummary(SalesAction):
    """Sums up what the debrief recorded and suggests the next step."""

    def name(self) -> str:
        return "action_debrief_summary"

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet(s, None) for s in DEBRIEF_SLOTS.values()]

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("debrief")
        answers = {k: tracker.get_slot(s) for k, s in DEBRIEF_SLOTS.items()}
        skipped = reply.text("skipped")
        shown = {k: (v if v and v != SKIPPED else skipped) for k, v in answers.items()}
        count = sum(1 for k, v in answers.items() if v and v != SKIPPED and k != "people")
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account = scope.find_account(tracker.get_slot("current_account") or "")
            facts = account_facts(scope, account).with_extra(
                count=count, problems=shown["problems"], implications=shown["implications"],
                payoffs=shown["need_payoff"], people=shown["people"])
            parts = [engine.text(book["saved"], reply.lang, facts), engine.text(book["summary"], reply.lang, facts),
                     engine.text(book["next"], reply.lang, facts)]
            reply.send("\n\n".join(p for p in parts if p))
        return self.on_failure(tracker)


def debrief_offer(reply: Reply) -> List[Dict[str, str]]:
    """Buttons offering a debrief right after a meeting was logged."""
    return [{"title": reply.text("debrief_now"), "payload": "/start_debrief"},
            {"title": reply.text("debrief_later"), "payload": "/deny"}]


