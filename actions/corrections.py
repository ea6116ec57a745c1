"""correct_fact and undo_last: the rep fixes what the bot saved, any time."""
from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from actions.account_facts import deal_fragments, person_fragments
from actions.base import Reply, SalesAction, caller, store
from actions.context import (
    account_from_context,
    entities_of,
    mentioned_person,
    person_from_context,
    reconcile_entities,
)
from actions.slots import SLOT_CURRENT_ACCOUNT, SLOT_CURRENT_PERSON
from bot import i18n
from bot.corrections import correct
from bot.store.changes import CREATED


class ActionCorrectFact(SalesAction):
    """Overwrites the fact a correction names (`bot.corrections.correct`) and says what it changed."""

    def name(self) -> str:
        return "action_correct_fact"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            entities = reconcile_entities(scope, entities_of(tracker.latest_message), text)
            if not any(e.get("entity") == "person" for e in entities):
                named = mentioned_person(scope, text)  # a short form the NLU did not tag ("no, Tom is the CIO")
                if named:
                    start = text.casefold().find(named.casefold())
                    entities.append({"entity": "person", "value": named, "start": max(start, 0),
                                     "end": max(start, 0) + len(named)})
            account = account_from_context(scope, tracker)
            person = person_from_context(scope, tracker, None)
            done = correct(scope, text, entities, account, person)
            if not done.changed:
                reply.say(f"correct_{done.unclear or 'nothing'}")
                return []
            parts = []
            if done.renamed_from and done.person is not None:
                parts.append(reply.text("corrected_renamed", old=done.renamed_from, new=done.person.name))
            if done.person_changes and done.person is not None:
                frags = person_fragments(reply, done.person_changes)
                parts.append(reply.text("corrected_person", person=done.person.name,
                                        facts=i18n.join(frags, reply.lang)))
            deal = deal_fragments(reply, done.deal_changes)
            if "industry" in done.account_changes:
                deal.append(reply.text("fact_industry", value=done.account_changes["industry"]))
            if deal and done.account is not None:
                parts.append(reply.text("corrected_account", account=done.account.name,
                                        facts=i18n.join(deal, reply.lang)))
            reply.send(" ".join(parts) + reply.text("correct_undo_hint"))
            events: List[EventType] = []
            if done.account is not None:
                events.append(SlotSet(SLOT_CURRENT_ACCOUNT, done.account.name))
            if done.person is not None:
                events.append(SlotSet(SLOT_CURRENT_PERSON, done.person.name))
        return events


class ActionUndoLast(SalesAction):
    """Reverts what the rep's latest message saved, and says what."""

    def name(self) -> str:
        return "action_undo_last"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            reverted = scope.undo_latest()
            if reverted is None:
                reply.say("undo_nothing")
                return []
            if not reverted:
                reply.say("undo_kept")
                return []
            lines = []
            for item in reverted:
                if item.field == CREATED:
                    lines.append(reply.text(f"undo_removed_{item.target}", name=item.name))
                elif item.field not in ("name_key",):
                    lines.append(reply.text("undo_field", name=item.name, field=reply.label("fact_field", item.field),
                                            old=_shown(reply, item.field, item.old)))
            reply.send(reply.text("undo_done") + "\n" + "\n".join(f"• {line}" for line in lines))
            events: List[EventType] = []
            if tracker.get_slot(SLOT_CURRENT_ACCOUNT) and scope.find_account(tracker.get_slot(SLOT_CURRENT_ACCOUNT)) is None:
                events += [SlotSet(SLOT_CURRENT_ACCOUNT, None), SlotSet(SLOT_CURRENT_PERSON, None)]
        return events


def _shown(reply: Reply, field: str, value: object) -> str:
    """A stored value as the rep reads it (a label for canonical values, money for the budget)."""
    if value in (None, ""):
        return reply.text("undo_empty")
    if field in ("attitude", "relationship_stage", "purchase_stage", "path_role"):
        return reply.label(field, str(value))
    if field == "buying_roles":
        return i18n.join([reply.label("buying_role", r) for r in str(value).split(",") if r], reply.lang)
    if field == "budget":
        return i18n.money(float(value), reply.lang)  # type: ignore[arg-type]
    if field == "competitors":
        return i18n.join(str(value).split("\n"), reply.lang)
    return str(value)
