"""Saving account facts after a form, and reading them back."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from actions.base import Reply, SalesAction, caller, store
from actions.context import (
    account_buttons,
    account_from_context,
    entities_of,
    first,
    mentions_person_pronoun,
    payload,
    person_from_context,
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
from bot import charts, i18n
from bot.capture import Captured, answers_who, capture, denied
from bot.resolve import accounts_in_text, person_shaped
from bot.store import Account, InvalidFact, Stakeholder, TeamScope, lookup_key


def _clear_form() -> List[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


def person_fragments(reply: Reply, changes: Dict[str, Any]) -> List[str]:
    """Display fragments of a stakeholder's changed facts, in a fixed order."""
    out = []
    if "title" in changes:
        out.append(changes["title"])
    for role in changes.get("buying_roles", []):
        out.append(reply.label("buying_role", role))
    if "attitude" in changes:
        out.append(reply.label("attitude", changes["attitude"]))
    if "influence" in changes:
        out.append(reply.text("fact_influence", value=changes["influence"]))
    if "relationship_stage" in changes:
        out.append(reply.text("fact_relationship_stage", value=reply.label("relationship_stage",
                                                                            changes["relationship_stage"])))
    return out


def deal_fragments(reply: Reply, changes: Dict[str, Any]) -> List[str]:
    out = []
    if "purchase_stage" in changes:
        out.append(reply.text("fact_purchase_stage", value=reply.label("purchase_stage", changes["purchase_stage"])))
    if "budget" in changes:
        out.append(reply.text("fact_budget", value=i18n.money(changes["budget"], reply.lang)))
    if "timeline" in changes:
        out.append(reply.text("fact_timeline", value=changes["timeline"]))
    for comp in changes.get("competitors", []):
        out.append(reply.text("fact_competitors", value=comp))
    return out


def other_fragments(reply: Reply, result: Captured, main_person: Optional[str] = None,
                    include_deal: bool = True, include_needs: bool = True) -> List[str]:
    """Everything saved besides the message's main fact."""
    out: List[str] = []
    if "industry" in result.account_changes:
        out.append(reply.text("fact_industry", value=result.account_changes["industry"]))
    main = result.person(main_person) if main_person else None
    for change in result.people:
        if main is not None and change is main:
            continue
        frags = person_fragments(reply, change.changes)
        out.append(change.person.name + (f" ({i18n.join(frags, reply.lang)})" if frags else ""))
    if include_deal:
        out.extend(deal_fragments(reply, result.deal_changes))
    if include_needs:
        out.extend(reply.text("fact_need", value=need.description) for need, created in result.needs if created)
    return out


class SaveFactsAction(SalesAction):
    """Saves what the rep said once the form has the account (and person)."""

    form = ""
    intent = ""
    #: set when a message the NLU read as a bare answer is saved as these facts (no form ran)
    from_latest_message = False
    #: set when the rep picked the account for facts held back by `ask_account_first`:
    #: (messages, the account picked, the name asked about, whether "New account: <name>" was offered)
    preset: Optional[Tuple[List[Dict[str, Any]], str, str, bool]] = None

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return _clear_form()

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        messages = ([tracker.latest_message] if self.from_latest_message
                    else user_messages_since_form(tracker, self.form))
        if self.preset:
            messages = self.preset[0]
        elif self.intent == "record_stakeholder" and len(messages) > 1 and not answers_who(
                [e for m in messages[:-1] for e in m.get("entities") or []], messages[-1].get("entities") or []):
            messages = messages[-1:]  # a statement of its own, not the name asked for: the held facts are dropped
        trigger_text = (messages[0].get("text") if messages else None) or tracker.latest_message.get("text") or ""
        person_name = tracker.get_slot(SLOT_FORM_PERSON)
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            entities = [e for m in messages
                        for e in reconcile_entities(scope, m.get("entities") or [], m.get("text"))
                        if not denied(m.get("text") or "", e)]  # "影响力不是六成，是五成": 六成 is never saved
            account_name = tracker.get_slot(SLOT_FORM_ACCOUNT) or first(entities, "account")
            if self.from_latest_message:
                account_name = first(entities, "account") or tracker.get_slot(SLOT_CURRENT_ACCOUNT)
            if self.preset:
                _held, picked, asked, new_offered = self.preset
                found = scope.find_account(picked)
                if new_offered and lookup_key(picked) == lookup_key(asked):
                    account_name = asked  # "New account: Orion Labs"
                elif found is not None:
                    account_name = found.name
                else:  # a name that was not offered ("/inform{"account": "acme"}"): the same question again
                    return self.ask_account_first(reply, scope, asked, messages, scope.match_accounts(asked)
                                                  ) + _clear_form()
            elif account_name and self.intent == "add_account":
                # "ACME Corporation" beside Acme Corp: the same company, or really a new account?
                similar = [a for a in scope.match_accounts(account_name) if a.name_key != lookup_key(account_name)]
                if similar:
                    return self.ask_account_first(reply, scope, account_name, messages, similar) + _clear_form()
            elif account_name:
                matches = scope.match_accounts(account_name)
                if len(matches) > 1 or not matches and (scope.list_accounts() or person_shaped(account_name)):
                    # facts about an account the team does not have, or one of several: never one on a guess
                    return self.ask_account_first(reply, scope, account_name, messages, matches) + _clear_form()
                if matches:
                    account_name = matches[0].name  # "天润" is 天润光伏: never a second account under the short name
            if not person_name and self.intent != "add_account":
                person_name = self._person_reference(scope, tracker, entities, account_name, trigger_text)
            result = capture(scope, account_name, entities, text=trigger_text,
                             **self.capture_options(trigger_text, person_name))
            self.confirm(reply, result, person_name)
            current_person = result.person(person_name).person.name if result.person(person_name) else None
            events = [SlotSet(SLOT_CURRENT_ACCOUNT, result.account.name)]
            if current_person or tracker.get_slot(SLOT_CURRENT_ACCOUNT) != result.account.name:
                events.append(SlotSet(SLOT_CURRENT_PERSON, current_person))
        return events + _clear_form()

    def ask_account_first(self, reply: Reply, scope: TeamScope, name: str, messages: List[Dict[str, Any]],
                          matches: Optional[List[Account]] = None) -> List[EventType]:
        """One short question: which of the rep's accounts (those `name` fits), or really a new one?"""
        new_offered = not matches or self.intent == "add_account"
        held = json.dumps({"intent": self.intent, "name": name, "new": new_offered,
                           "messages": [{"text": m.get("text"), "entities": m.get("entities")} for m in messages]},
                          ensure_ascii=False)
        # "Acme" with Acme Corp and ACME Corporation on file: those two; else the team's accounts
        buttons = account_buttons(matches[:5] if matches else scope.list_accounts()[:4], "inform", reply.lang)
        if new_offered:
            buttons.append({"title": reply.text("new_account_button", name=name),
                            "payload": payload("inform", account=name)})
        reply.say("which_account" if matches else "which_account_for_facts", name=name, buttons=buttons)
        return [SlotSet(SLOT_PENDING_OFFER, "facts_for:" + held)]

    @staticmethod
    def _person_reference(scope: TeamScope, tracker: Tracker, entities: List[Dict[str, Any]],
                          account_name: Optional[str], text: str) -> Optional[str]:
        named = first(entities, "person")
        if named:
            return named
        if mentions_person_pronoun(text):
            account = scope.find_account(account_name)
            person = person_from_context(scope, tracker, account)
            return person.name if person else None
        return None

    def capture_options(self, text: str, person_name: Optional[str]) -> Dict[str, Any]:
        return {"person_name": person_name}

    def confirm(self, reply: Reply, result: Captured, person_name: Optional[str]) -> None:
        raise NotImplementedError


class ActionSaveAccount(SaveFactsAction):
    form = "account_form"
    intent = "add_account"

    def name(self) -> str:
        return "action_save_account"

    def confirm(self, reply: Reply, result: Captured, person_name: Optional[str]) -> None:
        frags = other_fragments(reply, result)
        details = reply.text("account_details", facts=i18n.join(frags, reply.lang)) if frags else ""
        key = "account_created" if result.account_created else "account_exists"
        reply.say(key, account=result.account.name, details=details)


class ActionSaveStakeholder(SaveFactsAction):
    form = "stakeholder_form"
    intent = "record_stakeholder"

    def name(self) -> str:
        return "action_save_stakeholder"

    def confirm(self, reply: Reply, result: Captured, person_name: Optional[str]) -> None:
        main = result.person(person_name)
        if main is None:  # no person in the form or the message: roll back and ask for one
            raise InvalidFact("no_person")
        frags = person_fragments(reply, main.changes) + other_fragments(reply, result, main_person=person_name)
        facts = reply.text("facts_prefix", facts=i18n.join(frags, reply.lang)) if frags else ""
        new_account = reply.text("new_account_suffix") if result.account_created else ""
        if main.created:
            reply.say("stakeholder_saved_new", person=main.person.name, account=result.account.name, facts=facts,
                      new_account=new_account)
        elif frags:
            reply.say("stakeholder_saved", person=main.person.name, account=result.account.name, facts=facts)
        else:
            reply.say("stakeholder_nothing", person=main.person.name, account=result.account.name)


class ActionSaveDeal(SaveFactsAction):
    form = "deal_form"
    intent = "record_deal"

    def name(self) -> str:
        return "action_save_deal"

    def confirm(self, reply: Reply, result: Captured, person_name: Optional[str]) -> None:
        frags = deal_fragments(reply, result.deal_changes) + other_fragments(reply, result, include_deal=False)
        if not frags:
            reply.say("deal_nothing", account=result.account.name)
            return
        new_account = reply.text("new_account_suffix") if result.account_created else ""
        reply.say("deal_saved", account=result.account.name, facts=i18n.join(frags, reply.lang),
                  new_account=new_account)


class ActionSaveNeed(SaveFactsAction):
    form = "need_form"
    intent = "record_need"

    def name(self) -> str:
        return "action_save_need"

    def capture_options(self, text: str, person_name: Optional[str]) -> Dict[str, Any]:
        return {"person_name": person_name, "need_text": text}

    def confirm(self, reply: Reply, result: Captured, person_name: Optional[str]) -> None:
        if not result.needs:  # roll back whatever else the message carried: the need is what was asked for
            raise InvalidFact("empty_need")
        need, _created = result.needs[0]
        kind = reply.label("need_type", need.kind) if need.kind else ""
        kind_text = reply.text("need_kind_en", kind=kind) if kind else ""
        others = other_fragments(reply, result, include_needs=False)
        new_account = reply.text("new_account_suffix") if result.account_created else ""
        if others:
            new_account = "; " + i18n.join(others, reply.lang) + new_account
        reply.say("need_saved", account=result.account.name, kind=kind_text, need=need.description,
                  new_account=new_account)


# --- reading ------------------------------------------------------------------

def resolve_account(scope: TeamScope, tracker: Tracker, reply: Reply, intent: str) -> Optional[Account]:
    """Finds the account a read request is about, or asks which one.

    Order: the account named in the message, the account of a person named,
    the account last discussed, the only account. Otherwise the rep gets the
    list as buttons.
    """
    entities = entities_of(tracker.latest_message)
    named = first(entities, "account")
    accounts = scope.list_accounts()
    if named:
        matches = scope.match_accounts(named)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            if accounts:
                reply.say("account_not_found", name=named, accounts=i18n.join([a.name for a in accounts[:8]],
                                                                              reply.lang),
                          buttons=account_buttons(accounts, intent, reply.lang))
            else:
                reply.say("account_not_found_none", name=named)
            return None
        reply.say("which_account", buttons=account_buttons(matches, intent, reply.lang))
        return None
    person = first(entities, "person")
    if person:
        owners = {p.account_id: p.account for p in scope.find_stakeholders(person)}
        if len(owners) == 1:
            return next(iter(owners.values()))
    short = accounts_in_text(accounts, tracker.latest_message.get("text") or "")
    if len(short) == 1:  # "summary of Acme" for Acme Corp: never the account last discussed instead
        return short[0]
    if short:
        reply.say("which_account", buttons=account_buttons(short, intent, reply.lang))
        return None
    current = account_from_context(scope, tracker)
    if current:
        return current
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        reply.say("no_accounts")
        return None
    reply.say("which_account", buttons=account_buttons(accounts, intent, reply.lang))
    return None


class ReadAccountAction(SalesAction):
    """A read about one account: resolves it, then renders."""

    intent = ""

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account = resolve_account(scope, tracker, reply, self.intent)
            if account is None:
                return []
            events = self.answer(reply, scope, account, tracker)
            if tracker.get_slot(SLOT_CURRENT_ACCOUNT) != account.name:
                events += [SlotSet(SLOT_CURRENT_ACCOUNT, account.name), SlotSet(SLOT_CURRENT_PERSON, None)]
        return events

    def answer(self, reply: Reply, scope: TeamScope, account: Account, tracker: Tracker) -> List[EventType]:
        raise NotImplementedError


def person_line(reply: Reply, person: Stakeholder) -> str:
    details = [reply.label("buying_role", r) for r in person.roles]
    details.append(reply.label("attitude", person.attitude) if person.attitude else reply.text("unknown"))
    if person.influence is not None:
        details.append(reply.text("fact_influence", value=person.influence))
    if person.relationship_stage:
        details.append(reply.text("fact_relationship_stage",
                                  value=reply.label("relationship_stage", person.relationship_stage)))
    title = reply.text("power_map_title", value=person.title) if person.title else ""
    return reply.text("power_map_line", person=person.name, title=title, details=i18n.join(details, reply.lang))


class ActionAccountSummary(ReadAccountAction):
    intent = "ask_account_summary"

    def name(self) -> str:
        return "action_account_summary"

    def answer(self, reply: Reply, scope: TeamScope, account: Account, tracker: Tracker) -> List[EventType]:
        opp = scope.opportunity(account, create=False)
        unknown = reply.text("unknown")
        lines = [reply.text("summary_header", account=account.name,
                            industry=reply.text("summary_industry", value=account.industry) if account.industry
                            else "")]
        lines.append(reply.text(
            "summary_deal",
            stage=reply.label("purchase_stage", opp.purchase_stage) if opp and opp.purchase_stage else unknown,
            budget=i18n.money(opp.budget, reply.lang) if opp and opp.budget is not None else unknown,
            timeline=(opp.timeline if opp and opp.timeline else unknown),
            competitors=i18n.join(opp.competitor_list, reply.lang) if opp and opp.competitor_list
            else reply.text("none_known")))
        if account.stakeholders:
            people = [p.name + (f" ({p.title})" if p.title else "") for p in account.stakeholders]
            lines.append(reply.text("summary_people", count=len(people), people=i18n.join(people, reply.lang)))
        else:
            lines.append(reply.text("summary_people_none"))
        if account.needs:
            needs = [(f"[{reply.label('need_type', n.kind)}] " if n.kind else "") + n.description
                     for n in account.needs[-5:]]
            lines.append(reply.text("summary_needs", needs="; ".join(needs)))
        else:
            lines.append(reply.text("summary_needs_none"))
        if account.interactions:
            lines.append(reply.text("summary_last_meeting", summary=account.interactions[-1].summary))
        reply.send("\n".join(lines))
        return []


class ActionPowerMap(ReadAccountAction):
    intent = "ask_power_map"

    def name(self) -> str:
        return "action_power_map"

    def answer(self, reply: Reply, scope: TeamScope, account: Account, tracker: Tracker) -> List[EventType]:
        people = sorted(account.stakeholders, key=lambda p: -(p.influence or 0))
        if not people:
            example = ("华东精密的刘建国是总经理，拍板的人，支持我们" if reply.lang.startswith("zh")
                       else "Maria Lopez is the CEO at Acme and makes the final call")
            reply.say("power_map_empty", account=account.name, example=example)
            return []
        lines = [reply.text("power_map_header", account=account.name)]
        lines += [person_line(reply, p) for p in people]
        deciders = [p.name for p in people if "economic_buyer" in p.roles]
        lines.append(reply.text("power_map_decides", people=i18n.join(deciders, reply.lang)) if deciders
                     else reply.text("power_map_decides_unknown"))
        supporters = [p for p in people if p.attitude == "supporter"]
        opponents = [p for p in people if p.attitude == "opponent"]
        neutral = [p for p in people if p.attitude not in ("supporter", "opponent")]
        if supporters:
            lines.append(reply.text("power_map_supporters", people=i18n.join([p.name for p in supporters],
                                                                             reply.lang)))
        if opponents:
            lines.append(reply.text("power_map_opponents", people=i18n.join([p.name for p in opponents],
                                                                            reply.lang)))
        if neutral:
            lines.append(reply.text("power_map_neutral", people=i18n.join([p.name for p in neutral], reply.lang)))
        if any(p.influence is not None for p in people):
            lines.append(reply.text("power_map_balance", support=sum(p.influence or 0 for p in supporters),
                                    oppose=sum(p.influence or 0 for p in opponents)))
        if not any("coach" in p.roles for p in people):
            lines.append(reply.text("power_map_no_coach"))
        reply.send("\n".join(lines))
        reply.picture(charts.power_map_png, account.name, [
            {"name": p.name, "title": p.title, "roles": list(p.roles), "attitude": p.attitude,
             "influence": p.influence, "relationship_stage": p.relationship_stage} for p in people], reply.lang,
            account_id=account.id)
        return []


class ActionListAccounts(SalesAction):
    def name(self) -> str:
        return "action_list_accounts"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            accounts = scope.list_accounts()
            if not accounts:
                reply.say("no_accounts")
                return []
            lines = [reply.text("accounts_header", count=len(accounts))]
            for account in accounts:
                opp = scope.opportunity(account, create=False)
                stage = (reply.label("purchase_stage", opp.purchase_stage) if opp and opp.purchase_stage
                         else reply.text("stage_unknown"))
                budget = (reply.text("accounts_budget", value=i18n.money(opp.budget, reply.lang))
                          if opp and opp.budget is not None else "")
                lines.append(reply.text("accounts_line", account=account.name, stage=stage,
                                        people=len(account.stakeholders), budget=budget))
            reply.send("\n".join(lines), buttons=account_buttons(accounts, "ask_account_summary", reply.lang))
        return []
