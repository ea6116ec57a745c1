"""Coaching answers that need no form: methods, next step, risks, relationship, negotiation."""
from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from actions.account_facts import resolve_account
from actions.base import Reply, SalesAction, caller, store
from actions.context import entities_of, first, payload
from actions.focus import focus
from actions.slots import SLOT_CURRENT_ACCOUNT, SLOT_CURRENT_PERSON
from bot.coach import engine
from bot.coach.facts import account_facts, empty_facts
from bot.coach.risks import detect_risks
from bot.lexicon import canonical_values


def account_events(tracker: Tracker, account, person=None) -> List[EventType]:  # noqa: ANN001
    """Context updates after advice about an account/person."""
    events: List[EventType] = []
    if account is not None and tracker.get_slot(SLOT_CURRENT_ACCOUNT) != account.name:
        events += [SlotSet(SLOT_CURRENT_ACCOUNT, account.name), SlotSet(SLOT_CURRENT_PERSON, None)]
    if person is not None:
        events.append(SlotSet(SLOT_CURRENT_PERSON, person.name))
    return events


class ActionExplainMethod(SalesAction):
    """ask_methodology: a concise explanation with an example for each method value."""

    def name(self) -> str:
        return "action_explain_method"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        methods = engine.playbook("methods")
        method = first(entities_of(tracker.latest_message), "method")
        facts = empty_facts()
        if method not in methods:
            buttons = [{"title": reply.label("method", m), "payload": payload("ask_methodology", method=m)}
                       for m in canonical_values("method")]
            reply.send(engine.text(methods["overview"], reply.lang, facts) + "\n" + reply.text("method_menu"),
                       buttons=buttons)
            return []
        entry = methods[method]
        parts = [engine.text(entry["title"], reply.lang, facts), engine.text(entry["explain"], reply.lang, facts),
                 engine.text(entry["example"], reply.lang, facts), engine.text(entry["try_next"], reply.lang, facts)]
        reply.send("\n\n".join(p for p in parts if p))
        return []


class ActionDealRisks(SalesAction):
    """ask_deal_risks: minefields and gaps detected from the account's facts."""

    def name(self) -> str:
        return "action_deal_risks"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("risks")
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account = resolve_account(scope, tracker, reply, "ask_deal_risks")
            if account is None:
                return []
            facts = account_facts(scope, account)
            risks = detect_risks(scope, account)
            lines = [engine.text(book["header"], reply.lang, facts)]
            if not risks:
                lines.append(engine.text(book["none"], reply.lang, facts))
            for risk in risks:
                entry = book["risks"][risk.code]
                f = facts.with_extra(**{k: v for k, v in risk.params.items()})
                lines.append(reply.text("risk_line", title=engine.text(entry["title"], reply.lang, f),
                                        why=engine.text(entry["why"], reply.lang, f),
                                        fix=engine.text(entry["fix"], reply.lang, f)))
            reply.send("\n".join(lines))
            return account_events(tracker, account)


class ActionNextStep(SalesAction):
    """ask_next_step: the purchase-stage table (stage → action → goal) plus the account's gaps."""

    def name(self) -> str:
        return "action_next_step"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        stages = engine.playbook("stages")
        risks_book = engine.playbook("risks")
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account = resolve_account(scope, tracker, reply, "ask_next_step")
            if account is None:
                return []
            facts = account_facts(scope, account)
            opp = scope.opportunity(account, create=False)
            stage = opp.purchase_stage if opp and opp.purchase_stage else "unknown"
            entry = stages[stage]
            lines = [reply.text("next_step_header", account=account.name, stage=facts.get("stage", reply.lang))]
            if stage != "unknown":
                lines.append(reply.text("next_step_action", action=engine.text(entry["action"], reply.lang, facts),
                                        goal=engine.text(entry["goal"], reply.lang, facts)))
            lines.append(engine.text(entry["do"], reply.lang, facts))
            gaps = [r for r in detect_risks(scope, account) if r.code != "stage_unknown"][:3]
            if gaps:
                lines.append(reply.text("next_step_gaps"))
                for risk in gaps:
                    f = facts.with_extra(**risk.params)
                    lines.append("• " + engine.text(risks_book["risks"][risk.code]["fix"], reply.lang, f))
            lines.append(reply.text("next_step_key_question", question=engine.text(entry["ask"], reply.lang, facts)))
            reply.send("\n".join(line for line in lines if line))
            return account_events(tracker, account)


class ActionRelationshipAdvice(SalesAction):
    """ask_relationship_advice: from the person's relationship stage and attitude."""

    def name(self) -> str:
        return "action_relationship_advice"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("relationship")
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account, person = focus(scope, tracker, want_person=True)
            facts = account_facts(scope, account, person)
            stage = (person.relationship_stage if person and person.relationship_stage else
                     first(entities_of(tracker.latest_message), "relationship_stage") or "unknown")
            attitude = person.attitude if person and person.attitude else "unknown"
            entry = book["stages"][stage]
            lines = []
            if person is not None:
                title = f" ({person.title})" if person.title and reply.lang == "en" else (
                    f"（{person.title}）" if person.title else "")
                lines.append(reply.text("relationship_header", person=person.name, title=title,
                                        stage=facts.get("person_stage", reply.lang),
                                        attitude=facts.get("person_attitude", reply.lang)))
            else:
                lines.append(reply.text("relationship_no_person"))
            for key in ("meaning", "goal", "actions", "signals"):
                lines.append(engine.text(entry[key], reply.lang, facts))
            lines.append(engine.text(book["attitudes"][attitude], reply.lang, facts))
            lines.append(engine.text(book["compliance"], reply.lang, facts))
            reply.send("\n".join(line for line in lines if line))
            return account_events(tracker, account, person)


class ActionNegotiationAdvice(SalesAction):
    """ask_negotiation: stepped concessions and condition-for-condition trades."""

    def name(self) -> str:
        return "action_negotiation_advice"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("negotiation")
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account, _person = focus(scope, tracker)
            facts = account_facts(scope, account)
            lines = [reply.text("coach_about_account", account=account.name)] if account else []
            if account is not None and (facts.flags.get("early_stage") or not facts.flags.get("need_known")):
                lines.append(engine.text(book["too_early"], reply.lang, facts))
            text = (tracker.latest_message.get("text") or "").lower()
            if any(w in text for w in ("discount", "折扣", "降价", "便宜", "让利", "砍价", "打折", "cheaper", "price cut")):
                lines.append(engine.text(book["discount_demand"], reply.lang, facts))
            lines += [engine.text(book[k], reply.lang, facts) for k in ("principles", "ladder", "trades")]
            lines.append(engine.text(book["next_action"], reply.lang, facts))
            if account is None:
                lines.append(reply.text("coach_no_account_hint"))
            reply.send("\n\n".join(line for line in lines if line))
            return account_events(tracker, account)
