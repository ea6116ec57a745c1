"""Data rights: export an account's facts, delete a person (or their notes) or a whole account.

Personal information about customer contacts is regulated (PIPL in China, GDPR in
Europe), so a rep can take out everything held about an account and have people
or accounts removed. Deletion always asks first and acts only on an explicit
"yes" as the very next message; the offer names the rows by id inside the
caller's team, so it cannot reach another team's data.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from actions.account_facts import ReadAccountAction
from actions.base import Reply, SalesAction, caller, store
from actions.context import account_buttons, entities_of, first, mentioned_person, payload, reconcile_entities
from actions.slots import NAME_SLOTS, SLOT_CURRENT_ACCOUNT, SLOT_CURRENT_PERSON, SLOT_PENDING_OFFER
from bot import i18n, media
from bot.corrections import names_one_fact
from bot.store import Account, TeamScope
from bot.store.history import erase_from_conversations

logger = logging.getLogger(__name__)

#: "delete Maria's personal notes" clears the notes only; anything else removes the person
_NOTES_ONLY = re.compile(r"notes?\b|备注|笔记|備註|筆記", re.IGNORECASE)


def _line(reply: Reply, key: str, value: Any) -> Optional[str]:
    if value in (None, "", []):
        return None
    if isinstance(value, list):
        value = i18n.join([str(v) for v in value], reply.lang)
    return f"  {reply.text(key)}: {value}"


def export_text(reply: Reply, data: Dict[str, Any]) -> str:
    """The export as readable text in the rep's language (the JSON goes alongside)."""
    acc = data["account"]
    lines = [reply.text("export_header", account=acc["name"])]
    lines += [x for x in (_line(reply, "export_industry", acc.get("industry")),
                          _line(reply, "export_notes", acc.get("notes"))) if x]
    opp = data.get("opportunity") or {}
    if opp:
        lines.append(reply.text("export_deal"))
        stage = opp.get("purchase_stage")
        lines += [x for x in (
            _line(reply, "export_stage", reply.label("purchase_stage", stage) if stage else None),
            _line(reply, "export_budget", i18n.money(opp["budget"], reply.lang) if opp.get("budget") is not None
                  else None),
            _line(reply, "export_timeline", opp.get("timeline")),
            _line(reply, "export_competitors", opp.get("competitors")),
            _line(reply, "export_criteria", opp.get("criteria"))) if x]
    lines.append(reply.text("export_people", count=len(data["stakeholders"])))
    for p in data["stakeholders"]:
        facts = [p["title"]] if p.get("title") else []
        facts += [reply.label("buying_role", r) for r in p.get("buying_roles") or []]
        if p.get("attitude"):
            facts.append(reply.label("attitude", p["attitude"]))
        if p.get("influence") is not None:
            facts.append(reply.text("fact_influence", value=p["influence"]))
        if p.get("relationship_stage"):
            facts.append(reply.label("relationship_stage", p["relationship_stage"]))
        lines.append(f"  • {p['name']}" + (f" — {i18n.join(facts, reply.lang)}" if facts else ""))
        if p.get("personal_notes"):
            lines.append(f"    {reply.text('export_personal_notes')}: {p['personal_notes']}")
    lines.append(reply.text("export_needs", count=len(data["needs"])))
    for n in data["needs"]:
        kind = f"[{reply.label('need_type', n['kind'])}] " if n.get("kind") else ""
        lines.append(f"  • {kind}{n['description']}")
    lines.append(reply.text("export_meetings", count=len(data["interactions"])))
    for m in data["interactions"]:
        lines.append(f"  • {m['occurred_at'][:10]}: {m['summary']}")
    return "\n".join(lines)


class ActionExportAccount(ReadAccountAction):
    """Everything held about one account: readable text plus the same as JSON."""

    intent = "export_account"

    def name(self) -> str:
        return "action_export_account"

    def answer(self, reply: Reply, scope: TeamScope, account: Account, tracker: Tracker) -> List[EventType]:
        data = scope.export_account(account)
        reply.send(export_text(reply, data))
        # machine-readable copy for API clients and the web page's download link
        reply.dispatcher.utter_message(json_message={"type": "account_export", "format": "sales-coach/1",
                                                     "data": json.loads(json.dumps(data, default=str))})
        return []


class ActionDeleteData(SalesAction):
    """Asks to confirm deleting exactly what the rep named: a person, a person's notes, or an account.

    Nothing is deleted on a guess: a person is found by the name as the rep said it (first
    name, 王总, Ms. Lopez …) and never replaced by "the account in context" when they are not
    found; an account is deleted only when the request names it. When the request names
    nothing we know, or several people fit, the bot asks.
    """

    def name(self) -> str:
        return "action_delete_data"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            entities = reconcile_entities(scope, entities_of(tracker.latest_message), text)
            account_named = first(entities, "account")
            person_name = first(entities, "person") or mentioned_person(scope, text)
            if names_one_fact(text):  # "delete Peter's phone number": never the whole person or account
                reply.say("delete_one_fact", person=person_name or reply.text("delete_someone"))
                return []
            if person_name:
                account = None
                if account_named:
                    matches = scope.match_accounts(account_named)
                    account = matches[0] if len(matches) == 1 else None
                people = scope.find_stakeholders(person_name, account) or (
                    scope.find_stakeholders(person_name) if account is None else [])
                if not people:
                    reply.say("delete_person_not_found", person=person_name)
                    return []
                if len(people) > 1:
                    reply.say("delete_person_ambiguous", person=person_name,
                              accounts=i18n.join([f"{p.name} ({p.account.name})" for p in people], reply.lang),
                              buttons=[{"title": f"{p.name} ({p.account.name})",
                                        "payload": payload("delete_data", person=p.name, account=p.account.name)}
                                       for p in people[:5]])
                    return []
                person = people[0]
                if _NOTES_ONLY.search(text):
                    if not person.personal_notes:
                        reply.say("delete_notes_none", person=person.name)
                        return []
                    offer = f"delete:notes:{person.id}"
                    reply.say("delete_confirm_notes", person=person.name, account=person.account.name,
                              buttons=_yes_no(reply))
                else:
                    offer = f"delete:person:{person.id}"
                    reply.say("delete_confirm_person", person=person.name, account=person.account.name,
                              buttons=_yes_no(reply))
                # the person asked about is the one talked about now ("no wait, update her title then")
                return [SlotSet(SLOT_PENDING_OFFER, offer), SlotSet(SLOT_CURRENT_PERSON, person.name),
                        SlotSet(SLOT_CURRENT_ACCOUNT, person.account.name)]
            if not account_named:
                reply.say("delete_what")
                return []
            matches = scope.match_accounts(account_named)
            if len(matches) != 1:
                accounts = scope.list_accounts()
                if matches:
                    reply.say("which_account", buttons=account_buttons(matches, "delete_data", reply.lang))
                else:
                    reply.say("delete_account_not_found", name=account_named,
                              accounts=i18n.join([a.name for a in accounts[:8]], reply.lang) or "—")
                return []
            account = matches[0]
            reply.say("delete_confirm_account", account=account.name, people=len(account.stakeholders),
                      needs=len(account.needs), meetings=len(account.interactions), buttons=_yes_no(reply))
            return [SlotSet(SLOT_PENDING_OFFER, f"delete:account:{account.id}")]


def _yes_no(reply: Reply) -> List[Dict[str, str]]:
    return [{"title": reply.text("delete_button_yes"), "payload": "/affirm"},
            {"title": reply.text("delete_button_no"), "payload": "/deny"}]


def carry_out_deletion(reply: Reply, tracker: Tracker, offer: str) -> List[EventType]:
    """Runs a confirmed deletion (called by the "yes" action). Team-scoped by id.

    A person or an account goes with every trace of it: its records, the charts that show it,
    and its names in the team's conversation history (`bot.store.history`). This turn's reply
    does not repeat the names, and the slots that held them are cleared, so nothing saved after
    the erasure names them again.
    """
    _, kind, raw_id = offer.split(":", 2)
    who = caller(tracker)
    events: List[EventType] = [SlotSet(SLOT_PENDING_OFFER, None)]
    with store().team(who.team_key, who.user_key) as scope:
        if kind == "account":
            account = scope.account_by_id(int(raw_id))
            if account is None:
                reply.say("delete_gone")
                return events
            names = [account.name] + [p.name for p in account.stakeholders]
            scope.delete_account(account)
            message = "deleted_account"
        else:
            person = scope.stakeholder_by_id(int(raw_id))
            if person is None:
                reply.say("delete_gone")
                return events
            if kind == "notes":
                name = person.name
                scope.clear_personal_notes(person)
                reply.say("deleted_notes", person=name)
                return events
            names = [person.name]
            scope.delete_stakeholder(person, redact=True)
            message = "deleted_person"
        charts, conversations = scope.deleted_chart_files, scope.conversation_ids()
    media.remove(charts)
    try:
        erase_from_conversations(sorted({*conversations, tracker.sender_id}), names)
        reply.say(message)
    except Exception:  # noqa: BLE001 - the records are gone; say plainly what could not be erased
        logger.exception("could not erase names from the conversation history")
        reply.say(message)
        reply.say("deleted_history_failed")
    channel = (tracker.get_latest_input_channel() or "").lower()
    if channel in ("slack", "wecom"):  # what Slack or WeCom already shows is theirs to delete, not ours
        reply.say("deleted_posted_elsewhere", app="Slack" if channel == "slack" else reply.text("wecom_name"))
    return events + [SlotSet(slot, None) for slot in NAME_SLOTS if tracker.get_slot(slot)]
