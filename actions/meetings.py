"""log_meeting: the meeting note is logged on the day it happened; what it says about the account waits for a yes.

"Met Dave Wilson yesterday, he said SAP offered a 20% discount": the note itself (the rep's
words, dated yesterday) is stored at once, so nothing the rep wrote is ever lost. The facts the
bot reads out of it — who was there, a competitor's move, a new need, a title — are shown in
one confirmation ("I also found: … Save these too?") and stored only after a yes, so a
misreading never becomes a silent wrong fact. A meeting note never creates an account: the
form asks which account when it cannot tell.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timezone
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from actions.account_facts import deal_fragments, person_fragments
from actions.base import Reply, SalesAction, caller, store
from actions.context import (
    first,
    mentions_person_pronoun,
    person_from_context,
    place_in_note,
    reconcile_entities,
    user_messages_since_form,
)
from actions.slots import (
    FORM_SLOTS,
    SLOT_CURRENT_ACCOUNT,
    SLOT_CURRENT_PERSON,
    SLOT_FORM_ACCOUNT,
    SLOT_FORM_PERSON,
    SLOT_PENDING_OFFER,
)
from bot import i18n
from bot.capture import Captured, capture
from bot.dates import meeting_date
from bot.notes import need_clauses
from bot.resolve import plausible_person_name
from bot.store import Account, InvalidFact, TeamScope, lookup_key

OFFER = "meeting_facts:"
_KEPT = ("entity", "value", "start", "end", "person_hint")


def _as_people(entities: List[Dict[str, Any]], account: Account, scope: TeamScope) -> List[Dict[str, Any]]:
    """Entities of a meeting note with the names that are not the account read as people.

    A tagger reads "Met Dave Wilson today" as an account; in a note about a meeting at a known
    account, a name that is neither that account nor any other one of the team's is a person.
    """
    out = []
    for e in entities:
        if e.get("entity") == "account" and scope.find_account(str(e.get("value") or "")) is None:
            if plausible_person_name(str(e.get("value") or "")):
                e = {**e, "entity": "person"}
            else:
                continue
        if e.get("entity") == "account" and scope.find_account(str(e.get("value"))) is not account:
            continue  # another account named in passing: its facts are not this meeting's
        out.append(e)
    return out


def _day(when: Optional[date], today: date) -> datetime:
    if when is None or when == today:
        return datetime.now(timezone.utc)
    return datetime.combine(when, time(12, 0), tzinfo=timezone.utc)


def day_text(reply: Reply, when: Optional[date], today: date) -> str:
    if when is None or when == today:
        return reply.text("day_today")
    if (today - when).days == 1:
        return reply.text("day_yesterday")
    return reply.text("day_date", month=when.month, day=when.day)


def found_fragments(reply: Reply, result: Captured) -> List[str]:
    """What a meeting note says about the account, as the confirmation lists it."""
    frags = []
    for change in result.people:
        facts = person_fragments(reply, change.changes)
        if not facts and not change.created:
            continue  # a known person named again brings nothing to save
        label = change.person.name + (f" ({i18n.join(facts, reply.lang)})" if facts else "")
        frags.append(reply.text("found_new_person", person=label) if change.created else label)
    if "industry" in result.account_changes:
        frags.append(reply.text("fact_industry", value=result.account_changes["industry"]))
    frags += deal_fragments(reply, result.deal_changes)
    frags += [reply.text("fact_need", value=need.description) for need, created in result.needs if created]
    return frags


class ActionSaveMeeting(SalesAction):
    """Logs the note, dated, and offers the facts read from it for a yes."""

    def name(self) -> str:
        return "action_save_meeting"

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet(slot, None) for slot in FORM_SLOTS]

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        messages = user_messages_since_form(tracker, "meeting_form")
        text = (messages[0].get("text") if messages else None) or tracker.latest_message.get("text") or ""
        today = date.today()
        when = meeting_date(text, today)
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            picked = tracker.get_slot(SLOT_FORM_ACCOUNT)
            account = scope.find_account(picked)
            place = place_in_note(scope, messages[0]) if account is None and messages else None
            if place and picked and lookup_key(place) == lookup_key(picked):
                account = scope.get_or_create_account(place)[0]  # picked as new: "New account: Orion Labs"
            if account is None:
                reply.say("meeting_no_account")
                return self.on_failure(tracker)
            entities = _as_people([e for m in messages for e in reconcile_entities(
                scope, m.get("entities") or [], m.get("text"))], account, scope)
            if not first(entities, "need"):  # needs told in passing: "Paula wants to cut changeover time"
                entities += [{"entity": "need", "value": need} for need in need_clauses(text)]
            person_name = tracker.get_slot(SLOT_FORM_PERSON) or first(entities, "person")
            if not person_name and mentions_person_pronoun(text):
                context = person_from_context(scope, tracker, account)
                person_name = context.name if context else None
            known = scope.find_stakeholders(person_name, account) if person_name else []
            main = known[0] if len(known) == 1 else None
            scope.log_interaction(account, text, stakeholder=main, occurred_at=_day(when, today))
            found, unclear = self.preview(scope, account, entities, person_name, text, reply)
            events: List[EventType] = [SlotSet(SLOT_CURRENT_ACCOUNT, account.name),
                                       SlotSet(SLOT_CURRENT_PERSON, main.name if main else None)]
            with_person = reply.text("meeting_with", person=main.name) if main else ""
            reply.say("meeting_logged", account=account.name, day=day_text(reply, when, today), with_person=with_person)
            if unclear:
                reply.send(unclear)
            if not found:
                from actions.debrief import debrief_offer

                reply.say("debrief_offer", buttons=debrief_offer(reply))
                return events + [SlotSet(slot, None) for slot in FORM_SLOTS] + [SlotSet(SLOT_PENDING_OFFER, "debrief")]
            reply.say("meeting_found", facts=i18n.join(found, reply.lang),
                      buttons=[{"title": reply.text("meeting_found_yes"), "payload": "/affirm"},
                               {"title": reply.text("meeting_found_no"), "payload": "/deny"}])
            pending = {"account": account.name, "person": person_name, "text": text,
                       "entities": [{k: e.get(k) for k in _KEPT} for e in entities]}
        return events + [SlotSet(slot, None) for slot in FORM_SLOTS] + [
            SlotSet(SLOT_PENDING_OFFER, OFFER + json.dumps(pending, ensure_ascii=False))]

    @staticmethod
    def preview(scope: TeamScope, account: Account, entities: List[Dict[str, Any]], person_name: Optional[str],
                text: str, reply: Reply) -> tuple[List[str], Optional[str]]:
        """What capturing the note's facts would save, worked out and rolled back (nothing is stored)."""
        savepoint = scope.session.begin_nested()
        try:
            result = capture(scope, account.name, entities, person_name=person_name, text=text)
            return found_fragments(reply, result), None
        except InvalidFact as exc:
            if exc.code != "ambiguous_person":
                return [], None
            return [], reply.text("meeting_which_person", person=exc.params.get("mention"),
                                  people=i18n.join(exc.params.get("choices") or [], reply.lang))
        finally:
            savepoint.rollback()


def save_meeting_facts(reply: Reply, tracker: Tracker, offer: str, drop: Optional[List[Dict[str, Any]]] = None,
                       offer_debrief: bool = True, drop_people: Optional[List[str]] = None) -> List[EventType]:
    """The rep said yes to the facts read from a meeting note: store them (one batch, so "undo" reverts them).

    `drop`: values the rep's reply denies ("not finance director"), left out of what is saved;
    `drop_people`: people the reply leaves out ("陈静那条别存"), with what was read about them.
    """
    from actions.debrief import debrief_offer
    from bot.capture import split_by_person
    from bot.resolve import same_person

    pending = json.loads(offer[len(OFFER):])
    denied_values = {(e.get("entity"), str(e.get("value")).casefold()) for e in drop or []}
    pending["entities"] = [e for e in pending["entities"]
                           if (e.get("entity"), str(e.get("value")).casefold()) not in denied_values]
    if drop_people:
        groups = split_by_person(pending["entities"], pending.get("text"))
        gone = [name for name in groups if any(same_person(name, p) for p in drop_people)]
        unwanted = [id(e) for name in gone for e in groups[name]]
        pending["entities"] = [e for e in pending["entities"] if id(e) not in unwanted and not (
            e.get("entity") == "person" and e.get("value") in gone)]
    who = caller(tracker)
    with store().team(who.team_key, who.user_key) as scope:
        account = scope.find_account(pending["account"])
        if account is None:
            reply.say("delete_gone")
            return [SlotSet(SLOT_PENDING_OFFER, None)]
        result = capture(scope, account.name, pending["entities"], person_name=pending.get("person"),
                         text=pending.get("text"))
        reply.say("meeting_facts_saved", facts=i18n.join(found_fragments(reply, result), reply.lang) or "—")
    if not offer_debrief:
        return []
    reply.say("debrief_offer", buttons=debrief_offer(reply))
    return [SlotSet(SLOT_PENDING_OFFER, "debrief")]


def save_amended_offer(reply: Reply, tracker: Tracker) -> None:
    """"Not quite – Jamal is procurement director, not finance director" after "save these too?".

    The rep took the list and fixed a part: the facts read from the meeting note are saved without
    the values the reply denies, and the reply itself is then handled as usual (the fix is saved).
    """
    from bot.capture import denied
    from bot.corrections import amends_an_offer, leaves_out

    offer = tracker.get_slot(SLOT_PENDING_OFFER) or ""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    if not offer.startswith(OFFER) or not amends_an_offer(text, (message.get("intent") or {}).get("name")):
        return
    entities = message.get("entities") or []
    left_out = [str(e.get("value")) for e in entities if e.get("entity") == "person"] if leaves_out(text) else []
    save_meeting_facts(reply, tracker, offer, drop=[e for e in entities if denied(text, e)], offer_debrief=False,
                       drop_people=left_out)
