"""Coaching that first collects facts with a form: objections, conflicts, BANT, proposal, ROI.

Each form's `validate_*` action extracts its slots from entities, button
payloads or the rep's short answer; a message that answers nothing (a
question, "cancel") fills nothing, so the rules handle the interruption and
the form asks again afterwards. The matching `action_*` renders the playbook
with the account's facts once the form is complete.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import Reply, SafeFormValidation, SalesAction, caller, store
from actions.coaching import account_events
from actions.context import entities_of, form_activating, payload
from actions.focus import focus
from actions.slots import INTERRUPT_INTENTS, SLOT_REQUESTED
from bot import i18n
from bot.coach import engine
from bot.coach.answers import clause_after, first_value, match_option, normalise, short_answer
from bot.coach.bant import DIMENSIONS, verdict
from bot.coach.facts import account_facts, deciders, empty_facts
from bot.coach.roi import compute_roi, number_text
from bot.dialogue.turns import role_of

ANSWER_INTENTS = {"inform", "affirm", "deny", "nlu_fallback", "out_of_scope"}
YES_NO_FORMS = {
    "yes": {"forms": {"en": ["yes", "yeah", "yep", "sure", "confirmed", "we do", "they do", "correct"],
                      "zh": ["是", "有", "对", "确定", "确认", "嗯", "知道", "已经"]}},
    "no": {"forms": {"en": ["no", "nope", "not yet", "none", "don't", "doesn't", "haven't"],
                     "zh": ["没有", "不是", "否", "没", "还没", "不"]}},
    "unknown": {"forms": {"en": ["not sure", "don't know", "unknown", "no idea", "unclear", "maybe"],
                          "zh": ["不确定", "不知道", "不清楚", "未知", "说不准", "不好说"]}},
}


def _intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def yes_no(tracker: Tracker) -> Optional[str]:
    """Yes / no / unknown from a payload entity, the intent or the words."""
    value = first_value(entities_of(tracker.latest_message), "answer")
    if value in YES_NO_FORMS:
        return value
    text = tracker.latest_message.get("text") or ""
    picked = match_option(text, {"unknown": YES_NO_FORMS["unknown"]})  # "don't know" before "no"
    if picked:
        return picked
    if _intent(tracker) == "affirm":
        return "yes"
    if _intent(tracker) == "deny":
        return "no"
    return match_option(text, YES_NO_FORMS)


def yes_no_buttons(reply: Reply, slot: str, extra: Optional[List[Dict[str, str]]] = None) -> List[Dict[str, str]]:
    del slot
    buttons = [{"title": reply.text("answer_yes"), "payload": payload("inform", answer="yes")},
               {"title": reply.text("answer_no"), "payload": payload("inform", answer="no")},
               {"title": reply.text("answer_unknown"), "payload": payload("inform", answer="unknown")}]
    return buttons + (extra or [])


class CoachFormValidation(SafeFormValidation, ABC):
    """Shared helpers for the coaching forms (not registered itself)."""

    @abstractmethod
    def name(self) -> Text:
        """Abstract, so rasa_sdk's executor does not register this base class."""

    #: the slot holding the form's kind (the objection or conflict intent), for forms that have one
    kind_slot: Optional[str] = None

    def starting(self, tracker: Tracker) -> bool:
        """The form is being started by the latest message (Rasa activated it with this message)."""
        return form_activating(tracker, self.form_name())

    async def get_extraction_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[EventType]:
        # the kind as it was before this message: extracting it for a switch changes the tracker's slot
        tracker.kind_before_message = tracker.get_slot(self.kind_slot) if self.kind_slot else None  # type: ignore
        return await super().get_extraction_events(dispatcher, tracker, domain)

    def switching(self, tracker: Tracker) -> Optional[str]:
        """The new kind when the rep raises another of the form's kind mid-form (a second objection)."""
        if self.starting(tracker) or not self.kind_slot:
            return None
        intent = _intent(tracker)
        confidence = (tracker.latest_message.get("intent") or {}).get("confidence")
        before = getattr(tracker, "kind_before_message", tracker.get_slot(self.kind_slot))
        role = role_of(intent, confidence, self.form_name(), before)
        return intent if role == "same_kind" else None

    def activating(self, tracker: Tracker) -> bool:
        """Started by this message, or restarted with another kind: the message's facts fill the form afresh."""
        return self.starting(tracker) or self.switching(tracker) is not None

    def asked(self, tracker: Tracker, slot: str, free_text: bool = False) -> bool:
        """The bot has just asked for `slot` and the rep's message may answer it.

        A question or request ("what is SPIN?", "cancel"), or a line meant for a buyer, never
        answers (`bot.dialogue.turns.role_of`); a free-text answer (a reason, what they complained
        about) may be any other statement.
        """
        if self.activating(tracker) or tracker.get_slot(SLOT_REQUESTED) != slot:
            return False
        intent = _intent(tracker)
        confidence = (tracker.latest_message.get("intent") or {}).get("confidence")
        current = tracker.get_slot(self.kind_slot) if self.kind_slot else None
        if role_of(intent, confidence, self.form_name(), current, free_text, INTERRUPT_INTENTS) != "answer":
            return False
        return free_text or intent in ANSWER_INTENTS or bool(entities_of(tracker.latest_message))

    def reset(self, tracker: Tracker, slots: List[str]) -> Dict[str, Any]:
        """At activation, forget values left over from an earlier run of the form."""
        return {s: None for s in slots if tracker.get_slot(s) is not None} if self.activating(tracker) else {}


# --- objections -----------------------------------------------------------------

class ValidateObjectionForm(CoachFormValidation):
    kind_slot = "objection_type"

    def name(self) -> Text:
        return "validate_objection_form"

    async def extract_objection_type(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        intent = _intent(tracker)
        if self.activating(tracker) and intent and intent.startswith("objection_"):
            return {"objection_type": intent}
        return {}

    async def extract_objection_cause(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> Dict[Text, Any]:
        intent = _intent(tracker)
        kind = intent if self.activating(tracker) and intent and intent.startswith("objection_") else \
            tracker.get_slot("objection_type")
        causes = engine.playbook("objections").get(kind or "", {}).get("causes", {})
        stale = {"objection_cause": None} if self.activating(tracker) and tracker.get_slot("objection_cause") else {}
        value = first_value(entities_of(tracker.latest_message), "objection_cause")
        if value in causes:
            return {"objection_cause": value}
        waiting = tracker.get_slot(SLOT_REQUESTED) == "objection_cause"
        if self.activating(tracker) or waiting:
            # one of the offered causes, in the rep's words, answers the question whatever else the
            # classifier reads in it ("it's over their budget" is not a new budget-cut request)
            picked = match_option(tracker.latest_message.get("text") or "", causes)
            if picked and (waiting or self.asked(tracker, "objection_cause", free_text=True) or self.activating(tracker)):
                return {"objection_cause": picked}
        return stale


class ActionAskObjectionType(SalesAction):
    """Only reached if the objection form starts without an objection intent."""

    def name(self) -> str:
        return "action_ask_objection_type"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        facts = empty_facts()
        buttons = [{"title": engine.text(entry["name"], reply.lang, facts), "payload": f"/{kind}"}
                   for kind, entry in engine.playbook("objections").items()]
        reply.say("ask_objection_type", buttons=buttons[:6])
        return []


class ActionAskObjectionCause(SalesAction):
    """Diagnose before prescribing: which cause is behind the objection?"""

    def name(self) -> str:
        return "action_ask_objection_cause"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        entry = engine.playbook("objections")[tracker.get_slot("objection_type") or "objection_price"]
        facts = empty_facts()
        options = [f"{i}. {engine.text(c['label'], reply.lang, facts)}" for i, c in
                   enumerate(entry["causes"].values(), 1)]
        text = "\n".join([engine.text(entry["acknowledge"], reply.lang, facts),
                          engine.text(entry["diagnose"], reply.lang, facts)] + options)
        buttons = [{"title": engine.text(c["label"], reply.lang, facts), "payload": payload("inform", objection_cause=k)}
                   for k, c in entry["causes"].items()]
        reply.send(text, buttons=buttons)
        return []


class ActionObjectionPlay(SalesAction):
    """The play for the diagnosed cause, with the account's facts, ending in one next action."""

    def name(self) -> str:
        return "action_objection_play"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        kind = tracker.get_slot("objection_type") or "objection_price"
        cause = tracker.get_slot("objection_cause")
        entry = engine.playbook("objections")[kind]
        cause_entry = entry["causes"].get(cause) or next(iter(entry["causes"].values()))
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account, person = focus(scope, tracker)
            facts = account_facts(scope, account, person)
            lines = [reply.text("coach_about_account", account=account.name)] if account else []
            lines.append(engine.text(cause_entry["play"], reply.lang, facts))
            lines.append(engine.text(cause_entry["next_action"], reply.lang, facts))
            if account is None:
                lines.append(reply.text("coach_no_account_hint"))
            reply.send("\n\n".join(line for line in lines if line))
            events = account_events(tracker, account)
        return events + [SlotSet("objection_type", None), SlotSet("objection_cause", None)]

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet("objection_type", None), SlotSet("objection_cause", None)]


# --- conflicts --------------------------------------------------------------------

CONFLICT_SLOTS = {"days": "conflict_days", "reason": "conflict_reason", "request": "conflict_request",
                  "priority": "conflict_priority", "cut": "conflict_cut", "keep": "conflict_keep",
                  "issue": "conflict_issue", "impact": "conflict_impact"}
_MARKERS = {
    "reason": ["因为", "由于", "原因是", "原因：", "because of", "because", "due to", "caused by", "since"],
    "request": ["要求增加", "要求加", "要加", "想加", "要增加", "想增加", "新增", "追加", "增加", "wants to add",
                "want to add", "asked to add", "asked for", "wants", "add"],
    "issue": ["投诉", "抱怨", "不满意", "不满", "complained about", "complaining about", "complaint about",
              "complains about", "complained that", "unhappy with", "upset about", "angry about"],
}


def conflict_facts_for(kind: Optional[str]) -> List[str]:
    return list(engine.playbook("conflicts").get(kind or "", {}).get("facts", []))


class ValidateConflictForm(CoachFormValidation):
    """Collects the facts that matter for the conflict at hand (see conflicts.yml `facts`)."""

    kind_slot = "conflict_type"

    def name(self) -> Text:
        return "validate_conflict_form"

    def _kind(self, tracker: Tracker) -> Optional[str]:
        intent = _intent(tracker)
        if self.activating(tracker) and intent and intent.startswith("conflict_"):
            return intent
        return tracker.get_slot("conflict_type")

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        return ["conflict_type"] + [CONFLICT_SLOTS[f] for f in conflict_facts_for(self._kind(tracker))]

    async def extract_conflict_type(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        intent = _intent(tracker)
        if self.activating(tracker) and intent and intent.startswith("conflict_"):
            return {"conflict_type": intent, **self.reset(tracker, list(CONFLICT_SLOTS.values()))}
        return {}

    def _extract(self, tracker: Tracker, fact: str) -> Optional[str]:
        slot = CONFLICT_SLOTS[fact]
        if tracker.get_slot(slot) and not self.activating(tracker):
            return None
        ents = entities_of(tracker.latest_message)
        text = tracker.latest_message.get("text") or ""
        answering = self.asked(tracker, slot, free_text=fact not in ("days", "cut"))
        if fact == "days":
            days = first_value(ents, "duration")
            if days is None and answering:
                num = normalise(text).rstrip("天日days ")
                days = int(num) if num.isdigit() else None
            return str(days) if days is not None else None
        if fact == "cut":
            amount = first_value(ents, "amount")
            if amount is not None:
                return i18n.money(amount, "zh" if normalise(text) != text.lower() or "万" in text else "en")
            pct = first_value(ents, "percentage")
            if pct is not None:
                return f"{pct}%"
            return short_answer(text) if answering else None
        if answering:
            return short_answer(text)
        if self.activating(tracker) and fact in _MARKERS:
            return clause_after(text, _MARKERS[fact])
        return None

    async def extract_conflict_days(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._slot(tracker, "days")

    async def extract_conflict_reason(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._slot(tracker, "reason")

    async def extract_conflict_request(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._slot(tracker, "request")

    async def extract_conflict_priority(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._slot(tracker, "priority")

    async def extract_conflict_cut(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._slot(tracker, "cut")

    async def extract_conflict_keep(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._slot(tracker, "keep")

    async def extract_conflict_issue(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._slot(tracker, "issue")

    async def extract_conflict_impact(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._slot(tracker, "impact")

    def _slot(self, tracker: Tracker, fact: str) -> Dict[Text, Any]:
        value = self._extract(tracker, fact)
        return {CONFLICT_SLOTS[fact]: value} if value else {}


class ActionAskConflictType(SalesAction):
    """Only reached if the conflict form starts without a conflict intent."""

    def name(self) -> str:
        return "action_ask_conflict_type"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        buttons = [{"title": reply.text(f"conflict_name_{kind}"), "payload": f"/{kind}"}
                   for kind in engine.playbook("conflicts")]
        reply.say("ask_conflict_type", buttons=buttons)
        return []


class AskConflictFact(SalesAction, ABC):
    """Asks one conflict fact (the question text is in conflicts.yml); one subclass per fact."""

    fact = ""

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        entry = engine.playbook("conflicts")[tracker.get_slot("conflict_type") or "conflict_delivery_delay"]
        reply.send(engine.text(entry["ask"][self.fact], reply.lang, empty_facts()))
        return []


# one ask action per fact: action_ask_conflict_days, action_ask_conflict_reason, …
def _ask_action(base: type, prefix: str, key: str, action_name: str) -> type:
    """A concrete ask action named `action_name` for one fact/dimension."""
    cls = type(f"{prefix}{key.title()}", (base,), {"fact": key, "dimension": key,
                                                   "name": lambda self, _n=action_name: _n})
    cls.__module__ = __name__
    return cls


for _fact, _slot in CONFLICT_SLOTS.items():
    globals()[f"ActionAskConflict{_fact.title()}"] = _ask_action(AskConflictFact, "ActionAskConflict", _fact,
                                                                 f"action_ask_{_slot}")


class ActionConflictDraft(SalesAction):
    """The seed playbook for the conflict plus a customer-facing draft with the facts filled in."""

    def name(self) -> str:
        return "action_conflict_draft"

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return self._clear()

    @staticmethod
    def _clear() -> List[EventType]:
        return [SlotSet("conflict_type", None)] + [SlotSet(s, None) for s in CONFLICT_SLOTS.values()]

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        kind = tracker.get_slot("conflict_type") or "conflict_delivery_delay"
        entry = engine.playbook("conflicts")[kind]
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account, person = focus(scope, tracker, want_person=True)
            facts = account_facts(scope, account, person)
            contact = person or (max(deciders(account), key=lambda p: p.influence or 0) if account and deciders(account)
                                 else None)
            values = {fact: tracker.get_slot(slot) or "" for fact, slot in CONFLICT_SLOTS.items()}
            if contact is not None:
                values["contact"] = contact.name
            else:
                values["contact"] = {"en": "Dear customer", "zh": "尊敬的客户"}
            facts = facts.with_extra(**values)
            parts = [reply.text("coach_about_account", account=account.name) if account else "",
                     engine.text(entry["advice"], reply.lang, facts),
                     "———",
                     engine.text(entry["draft"], reply.lang, facts),
                     "———",
                     engine.text(entry["next_action"], reply.lang, facts)]
            reply.send("\n\n".join(p for p in parts if p))
            return account_events(tracker, account) + self._clear()


# --- BANT ------------------------------------------------------------------------------

BANT_SLOTS = {d: f"bant_{d}" for d in DIMENSIONS}


class ValidateBantForm(CoachFormValidation):
    """BANT as a form: what the store already knows is filled in, the rest is asked."""

    def name(self) -> Text:
        return "validate_bant_form"

    def _known(self, tracker: Tracker) -> Dict[str, str]:
        who = caller(tracker)
        known: Dict[str, str] = {}
        ents = entities_of(tracker.latest_message)
        if first_value(ents, "amount") is not None:
            known["budget"] = "yes"
        if first_value(ents, "timeline") is not None:
            known["timeline"] = "yes"
        with store().team(who.team_key, who.user_key) as scope:
            account, _ = focus(scope, tracker)
            if account is not None:
                opp = scope.opportunity(account, create=False)
                if opp and opp.budget is not None:
                    known["budget"] = "yes"
                if opp and opp.timeline:
                    known["timeline"] = "yes"
                if deciders(account):
                    known["authority"] = "yes"
                if account.needs:
                    known["need"] = "yes"
        return known

    def _dimension(self, tracker: Tracker, dimension: str) -> Dict[Text, Any]:
        slot = BANT_SLOTS[dimension]
        if self.activating(tracker):
            value = self._known(tracker).get(dimension)
            return {slot: value} if value else ({slot: None} if tracker.get_slot(slot) else {})
        if tracker.get_slot(slot):
            return {}
        if self.asked(tracker, slot, free_text=True):
            value = yes_no(tracker)
            return {slot: value} if value else {}
        return {}

    async def extract_bant_budget(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._dimension(tracker, "budget")

    async def extract_bant_authority(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._dimension(tracker, "authority")

    async def extract_bant_need(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._dimension(tracker, "need")

    async def extract_bant_timeline(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        return self._dimension(tracker, "timeline")


class AskBantDimension(SalesAction, ABC):
    """Asks one BANT dimension with yes / no / not sure buttons; one subclass per dimension."""

    dimension = ""

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("bant")
        facts = empty_facts()
        lines = []
        if not any(tracker.get_slot(s) for s in BANT_SLOTS.values()) and self.dimension == "budget":
            lines.append(engine.text(book["intro"], reply.lang, facts))
        lines.append(engine.text(book["dimensions"][self.dimension]["question"], reply.lang, facts))
        reply.send("\n".join(lines), buttons=yes_no_buttons(reply, BANT_SLOTS[self.dimension]))
        return []


for _dim in DIMENSIONS:
    globals()[f"ActionAskBant{_dim.title()}"] = _ask_action(AskBantDimension, "ActionAskBant", _dim,
                                                            f"action_ask_bant_{_dim}")


class ActionBantVerdict(SalesAction):
    def name(self) -> str:
        return "action_bant_verdict"

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet(s, None) for s in BANT_SLOTS.values()]

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("bant")
        answers = {d: tracker.get_slot(s) or "unknown" for d, s in BANT_SLOTS.items()}
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account, _ = focus(scope, tracker)
            facts = account_facts(scope, account)
            lines = [reply.text("coach_about_account", account=account.name)] if account else []
            lines.append(engine.text(book["verdicts"][verdict(answers)], reply.lang, facts))
            for d in DIMENSIONS:
                dim = book["dimensions"][d]
                lines.append(reply.text("bant_line", title=engine.text(dim["title"], reply.lang, facts),
                                        reason=engine.text(dim[answers[d]], reply.lang, facts)))
            lines.append(engine.text(book["power_map_note"], reply.lang, facts))
            reply.send("\n".join(line for line in lines if line))
            return account_events(tracker, account) + self.on_failure(tracker)


# --- proposal timing --------------------------------------------------------------------

class ValidateProposalForm(CoachFormValidation):
    def name(self) -> Text:
        return "validate_proposal_form"

    async def extract_proposal_needs(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        if self.activating(tracker):
            return self.reset(tracker, ["proposal_needs", "proposal_criteria"])
        if tracker.get_slot("proposal_needs") or not self.asked(tracker, "proposal_needs", free_text=True):
            return {}
        value = yes_no(tracker)
        return {"proposal_needs": "no" if value == "unknown" else value} if value else {}

    async def extract_proposal_criteria(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        if self.activating(tracker) or tracker.get_slot("proposal_criteria"):
            return {}
        if not self.asked(tracker, "proposal_criteria", free_text=True):
            return {}
        value = first_value(entities_of(tracker.latest_message), "answer")
        if value not in ("yes", "no", "with_competitor"):
            options = engine.playbook("proposal")["criteria_options"]
            value = match_option(tracker.latest_message.get("text") or "", options) or yes_no(tracker)
        if value == "unknown":
            value = "no"
        return {"proposal_criteria": value} if value else {}


class ActionAskProposalNeeds(SalesAction):
    def name(self) -> str:
        return "action_ask_proposal_needs"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("proposal")
        facts = empty_facts()
        reply.send(engine.text(book["intro"], reply.lang, facts) + "\n" + engine.text(book["q_needs"], reply.lang, facts),
                   buttons=yes_no_buttons(reply, "proposal_needs")[:2])
        return []


class ActionAskProposalCriteria(SalesAction):
    def name(self) -> str:
        return "action_ask_proposal_criteria"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("proposal")
        facts = empty_facts()
        buttons = [{"title": engine.text(opt["label"], reply.lang, facts), "payload": payload("inform", answer=key)}
                   for key, opt in book["criteria_options"].items()]
        reply.send(engine.text(book["q_criteria"], reply.lang, facts), buttons=buttons)
        return []


class ActionProposalAdvice(SalesAction):
    def name(self) -> str:
        return "action_proposal_advice"

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet("proposal_needs", None), SlotSet("proposal_criteria", None)]

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("proposal")
        needs = tracker.get_slot("proposal_needs")
        criteria = tracker.get_slot("proposal_criteria")
        if criteria == "with_competitor":
            key = "criteria_with_competitor"
        elif needs == "yes" and criteria == "yes":
            key = "both_yes"
        elif needs == "yes":
            key = "needs_yes_criteria_no"
        elif criteria == "yes":
            key = "needs_no_criteria_yes"
        else:
            key = "both_no"
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account, _ = focus(scope, tracker)
            facts = account_facts(scope, account)
            lines = [reply.text("coach_about_account", account=account.name)] if account else []
            lines.append(engine.text(book["advice"][key], reply.lang, facts))
            reply.send("\n\n".join(line for line in lines if line))
            return account_events(tracker, account) + self.on_failure(tracker)


# --- ROI -----------------------------------------------------------------------------------

_SAVING_WORDS = ("节省", "省下", "省", "收益", "回报", "增收", "降低", "减少", "save", "saves", "saving", "savings",
                 "return", "benefit", "earn", "gain", "reduce", "cut")
_INVEST_WORDS = ("投入", "投资", "花费", "花", "成本", "预算", "费用", "价格", "报价", "cost", "costs", "invest",
                 "investment", "spend", "price", "budget", "capex", "pay", "in")
_MONTHLY = ("每月", "一个月", "月省", "/月", "per month", "a month", "monthly", "/mo")
_CLAUSE = re.compile(r"[，,;；。:：\n]")


def _clause(text: str, start: int, end: int) -> tuple:
    left = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    right = next((m.start() for m in _CLAUSE.finditer(text, end)), len(text))
    return text[left:start], text[end:right]


def _nearest(before: str) -> Optional[str]:
    """The kind of the keyword closest before an amount in its clause."""
    best, kind = -1, None
    for words, name in ((_SAVING_WORDS, "saving"), (_INVEST_WORDS, "investment")):
        for word in words:
            for m in re.finditer(re.escape(word) if not word.isascii() else rf"\b{re.escape(word)}\b", before):
                if m.start() > best:
                    best, kind = m.start(), name
    return kind


def split_amounts(text: str, entities: List[Dict[str, Any]]) -> Dict[str, float]:
    """Investment and yearly saving from the amounts in a message (monthly savings × 12)."""
    amounts = [e for e in entities if e.get("entity") == "amount" and e.get("value") is not None]
    out: Dict[str, float] = {}
    low = text.lower()
    for e in amounts:
        start = e.get("start") or 0
        before, after = _clause(low, start, e.get("end", start))
        kind = _nearest(before)
        if kind is None:
            if any(w in after for w in ("节省", "收益", "回报", "saving", "savings", "return")):
                kind = "saving"
            elif any(w in after for w in ("投入", "投资", "成本", "investment", "cost")):
                kind = "investment"
        if kind is None or kind in out:
            kind = "saving" if "investment" in out else "investment"
        if kind in out:
            continue
        value = float(e["value"])
        if kind == "saving" and any(w in before + after for w in _MONTHLY):
            value *= 12
        out[kind] = value
    return out


class ValidateRoiForm(CoachFormValidation):
    def name(self) -> Text:
        return "validate_roi_form"

    def _amounts(self, tracker: Tracker) -> Dict[str, float]:
        return split_amounts(tracker.latest_message.get("text") or "", entities_of(tracker.latest_message))

    async def extract_roi_investment(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        found = self._amounts(tracker)
        if self.activating(tracker):  # both figures from the request, stale values cleared
            out: Dict[Text, Any] = {}
            for key, slot in (("investment", "roi_investment"), ("saving", "roi_saving")):
                if key in found:
                    out[slot] = found[key]
                elif tracker.get_slot(slot) is not None:
                    out[slot] = None
            return out
        if tracker.get_slot("roi_investment") or not self.asked(tracker, "roi_investment"):
            return {}
        value = found.get("investment") or found.get("saving")
        return {"roi_investment": value} if value else {}

    async def extract_roi_saving(self, dispatcher, tracker, domain):  # noqa: ANN001, ANN201, D102
        if self.activating(tracker):  # set by extract_roi_investment
            return {}
        found = self._amounts(tracker)
        if tracker.get_slot("roi_saving") or not self.asked(tracker, "roi_saving"):
            return {}
        value = found.get("saving") or found.get("investment")
        if value and any(w in (tracker.latest_message.get("text") or "").lower() for w in _MONTHLY) \
                and "saving" not in found:
            value *= 12
        return {"roi_saving": value} if value else {}


class ActionAskRoiInvestment(SalesAction):
    def name(self) -> str:
        return "action_ask_roi_investment"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reply.send(engine.text(engine.playbook("roi")["ask_investment"], reply.lang, empty_facts()))
        return []


class ActionAskRoiSaving(SalesAction):
    def name(self) -> str:
        return "action_ask_roi_saving"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reply.send(engine.text(engine.playbook("roi")["ask_saving"], reply.lang, empty_facts()))
        return []


class ActionRoiResult(SalesAction):
    def name(self) -> str:
        return "action_roi_result"

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return [SlotSet("roi_investment", None), SlotSet("roi_saving", None)]

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        book = engine.playbook("roi")
        investment = float(tracker.get_slot("roi_investment") or 0)
        saving = float(tracker.get_slot("roi_saving") or 0)
        if investment <= 0:
            reply.say("roi_need_positive")
            return self.on_failure(tracker)
        result = compute_roi(investment, saving)
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account, _ = focus(scope, tracker)
            facts = account_facts(scope, account)
            money = {k: {"en": i18n.money(v, "en"), "zh": i18n.money(v, "zh")}
                     for k, v in (("investment", investment), ("saving", saving), ("net_3y", result.net_3y))}
            facts = facts.with_extra(**money, roi_3y=number_text(result.roi_3y_percent),
                                     payback_months=number_text(result.payback_months or 0))
            if result.payback_months is None:
                parts = [engine.text(book["no_payback"], reply.lang, facts)]
            else:
                parts = [engine.text(book["result"], reply.lang, facts),
                         engine.text(book["executive"], reply.lang, facts)]
            parts.append(engine.text(book["advice"], reply.lang, facts))
            reply.send("\n\n".join(p for p in parts if p))
            return account_events(tracker, account) + self.on_failure(tracker)
