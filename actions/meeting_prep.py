"""prepare_meeting: a SPIN/STAR plan for a meeting with a person, one step at a time."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from actions.base import Reply, SalesAction, caller, store
from actions.coaching import account_events
from actions.context import entities_of, first, payload
from actions.focus import focus
from bot.coach import engine
from bot.coach.facts import Facts, account_facts
from bot.store import Stakeholder

STEPS = ("situation", "problem", "implication", "need_payoff", "star", "avoid")
SLOT_STEP = "prep_next"      # the step to show when the rep says "next"/"继续"
SLOT_PERSON = "prep_person"  # who the plan is for


def role_of(person: Optional[Stakeholder], role_entity: Optional[str]) -> str:
    roles = engine.playbook("meeting_prep")["roles"]
    for role in (person.roles if person else []) + ([role_entity] if role_entity else []):
        if role in roles:
            return role
    return "unknown"


def render_step(reply: Reply, step: str, role: str, facts: Facts, needs: List[str]) -> str:
    """One step of the plan: a heading and the questions (personalised with recorded needs)."""
    book = engine.playbook("meeting_prep")
    heading = engine.text(book["steps"][step], reply.lang, facts)
    lines = [f"【{heading}】" if reply.lang.startswith("zh") else f"— {heading} —"]
    role_entry = book["roles"][role]
    if step in ("situation", "problem", "implication", "need_payoff"):
        for i, question in enumerate(role_entry[step], 1):
            lines.append(f"{i}. " + engine.text(question, reply.lang, facts))
        if step in book.get("need_questions", {}) and needs:
            lines.append(reply.text("prep_needs_header"))
            for need in needs[-2:]:
                lines.append("• " + engine.text(book["need_questions"][step], reply.lang, facts.with_extra(need=need)))
    elif step == "star":
        lines.append(engine.text(book["star"], reply.lang, facts))
    else:  # avoid + close
        lines.append(engine.text(role_entry["avoid"], reply.lang, facts))
        lines.append(engine.text(book["close"], reply.lang, facts))
    return "\n".join(line for line in lines if line)


class ActionPrepareMeeting(SalesAction):
    """Shows the plan's first step (or the requested one) with a button for the next."""

    def name(self) -> str:
        return "action_prepare_meeting"

    def requested_step(self, tracker: Tracker) -> Optional[str]:
        step = first(entities_of(tracker.latest_message), "prep_step")
        return step if step in STEPS else None

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        step = self.requested_step(tracker)
        return await self.show(reply, tracker, step)

    async def show(self, reply: Reply, tracker: Tracker, step: Optional[str]) -> List[EventType]:
        book = engine.playbook("meeting_prep")
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            continuing = step is not None
            if continuing and tracker.get_slot(SLOT_PERSON):
                account, _ = focus(scope, tracker)
                people = scope.find_stakeholders(tracker.get_slot(SLOT_PERSON), account)
                person = people[0] if len(people) == 1 else None
                account = account or (person.account if person else None)
            else:
                account, person = focus(scope, tracker, want_person=True)
            role = role_of(person, first(entities_of(tracker.latest_message), "buying_role"))
            facts = account_facts(scope, account, person)
            if person is None:
                named = first(entities_of(tracker.latest_message), "person") or first(
                    entities_of(tracker.latest_message), "title")
                if named:
                    facts.set("person", named).flag("person_known")
            needs = [n.description for n in account.needs] if account else []
            parts: List[str] = []
            if step is None:
                step = "situation"
                parts.append(engine.text(book["intro"], reply.lang, facts))
                stage = next((s for s in book["goal_by_stage"] if facts.flags.get(f"stage_{s}")), "unknown")
                parts.append(engine.text(book["goal_by_stage"][stage], reply.lang, facts))
                parts.append(engine.text(book["roles"][role]["focus"], reply.lang, facts))
            parts.append(render_step(reply, step, role, facts, needs))
            nxt = STEPS[STEPS.index(step) + 1] if STEPS.index(step) + 1 < len(STEPS) else None
            buttons: List[Dict[str, Any]] = []
            if nxt:
                label = engine.text(book["steps"][nxt], reply.lang, facts)
                buttons.append({"title": reply.text("prep_next_button", step=label),
                                "payload": payload("prepare_meeting", prep_step=nxt)})
            else:
                parts.append(reply.text("prep_done"))
            reply.send("\n\n".join(p for p in parts if p), buttons=buttons)
            events = account_events(tracker, account, person)
            events += [SlotSet(SLOT_STEP, nxt), SlotSet(SLOT_PERSON, person.name if person else
                                                       tracker.get_slot(SLOT_PERSON) if continuing else None)]
        return events
