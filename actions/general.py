"""General conversation: greetings, help, language, cancel, fallback, compliance."""
from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.types import DomainDict

from actions.base import Reply, SalesAction, action_named, caller, store
from actions.context import account_buttons, entities_of, first, payload, place_in_note, reconcile_entities, user_messages_since_form
from actions.slots import (
    COACHING_FORM_SLOTS,
    FORM_SLOTS,
    SLOT_LANGUAGE,
    SLOT_LANGUAGE_OVERRIDE,
    SLOT_PENDING_OFFER,
    SLOT_PREP_NEXT,
    SLOT_REQUESTED,
)
from bot import i18n
from bot.capture import PERSON_FACTS
from bot.corrections import amends_an_offer
from bot.language import LANGUAGES


class SayAction(SalesAction):
    """An action that sends one message."""

    message = ""

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reply.say(self.message)
        return []


class ActionGreet(SayAction):
    message = "greet"

    def name(self) -> str:
        return "action_greet"


class ActionGoodbye(SayAction):
    message = "goodbye"

    def name(self) -> str:
        return "action_goodbye"


class ActionThank(SayAction):
    message = "thank"

    def name(self) -> str:
        return "action_thank"


class ActionCapabilities(SalesAction):
    """Help: what the bot can do, or, while a form waits for an answer, what its question means."""

    def name(self) -> str:
        return "action_show_capabilities"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        asked = tracker.get_slot(SLOT_REQUESTED) if tracker.active_loop.get("name") else None
        if asked and i18n.has_label("form_help", asked):
            reply.say("form_help", help=i18n.label("form_help", asked, reply.lang))
            return []  # the form asks its question again right after
        reply.say("capabilities")
        return []


class ActionOutOfScope(SayAction):
    message = "out_of_scope"

    def name(self) -> str:
        return "action_out_of_scope"


class ActionFallback(SalesAction):
    """Rasa's fallback, said once per message, after which the bot listens.

    RulePolicy predicts this whenever no rule fits, also right after it ran: without ending
    the turn here, a message no rule handled (a second objection while the objection form
    waited) got ten "didn't get that" replies and tripped Rasa's circuit breaker. Inside a
    form the reply says what the form is still asking, with that question, so the rep can
    answer it or say "cancel".
    """

    def name(self) -> str:
        return "action_default_fallback"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        asked = tracker.get_slot(SLOT_REQUESTED) if tracker.active_loop.get("name") else None
        ask = action_named(f"action_ask_{asked}") if asked else None
        if isinstance(ask, SalesAction):
            reply.say("fallback_in_form")
            await ask.act(reply, tracker, domain)
            reply.say("form_way_out")
        else:
            reply.say("fallback")
        return [FollowupAction("action_listen")]


def _states_person_facts(tracker: Tracker) -> bool:

    who = caller(tracker)
    with store().team(who.team_key, who.user_key) as scope:
        entities = reconcile_entities(scope, entities_of(tracker.latest_message), tracker.latest_message.get("text"))
    return bool(first(entities, "person")) and any(first(entities, k) for k in PERSON_FACTS)


async def _save_person_facts(reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
    """The latest message saved as a stakeholder fact, though the NLU read it as an answer or a "yes"."""
    from actions.account_facts import ActionSaveStakeholder

    save = ActionSaveStakeholder()
    save.from_latest_message = True
    return await save.act(reply, tracker, domain)


async def _save_held_facts(reply: Reply, tracker: Tracker, domain: DomainDict, held: str, account: str
                           ) -> List[EventType]:
    """The facts held back by `SaveFactsAction.ask_account_first`, saved at the account the rep picked."""
    import json

    from actions.account_facts import ActionSaveAccount, ActionSaveDeal, ActionSaveNeed, ActionSaveStakeholder

    data = json.loads(held.split(":", 1)[1])
    kinds = {a.intent: a for a in (ActionSaveAccount, ActionSaveStakeholder, ActionSaveDeal, ActionSaveNeed)}
    save = kinds.get(data.get("intent"), ActionSaveStakeholder)()
    save.preset = (data.get("messages") or [], account, str(data.get("name") or account), bool(data.get("new")))
    return await save.act(reply, tracker, domain)


class ActionAffirmIdle(SalesAction):
    """"Yes"/"next" outside a question: accepts a standing offer, else asks what's next."""

    keeps_offers = True

    def name(self) -> str:
        return "action_affirm_idle"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        offer = tracker.get_slot(SLOT_PENDING_OFFER) or ""
        if offer == "debrief":
            return [SlotSet(SLOT_PENDING_OFFER, None), FollowupAction("debrief_form")]
        if offer.startswith("delete:"):
            from actions.data_rights import carry_out_deletion
            from bot.nlu.intent_rules import plain_yes

            text = tracker.latest_message.get("text") or ""
            if not text.startswith("/") and not plain_yes(text):
                # "yes, and Emily said…": a deletion needs a plain yes, so nothing goes on a half-read answer
                reply.say("delete_cancelled")
                return [SlotSet(SLOT_PENDING_OFFER, None)]
            return carry_out_deletion(reply, tracker, offer)
        if offer.startswith("meeting_facts:"):
            from actions.meetings import save_meeting_facts

            events = save_meeting_facts(reply, tracker, offer)
            if _states_person_facts(tracker):  # "yes. Ade I'd put as opponent": that is saved too
                events += await _save_person_facts(reply, tracker, domain)
            return events
        step = tracker.get_slot(SLOT_PREP_NEXT)
        if step:
            from actions.meeting_prep import ActionPrepareMeeting

            return await ActionPrepareMeeting().show(reply, tracker, step)
        if _states_person_facts(tracker):  # "yes, and Pete is a supporter" with nothing to confirm
            return await _save_person_facts(reply, tracker, domain)
        reply.say("affirm_idle")
        return []


class ActionDenyIdle(SalesAction):
    """"No" outside a question; after a deletion offer it confirms nothing was deleted."""

    def name(self) -> str:
        return "action_deny_idle"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        offer = tracker.get_slot(SLOT_PENDING_OFFER) or ""
        if offer.startswith("meeting_facts:") and amends_an_offer(tracker.latest_message.get("text") or "", "deny"):
            return []  # "not quite, …": the list was saved without what the reply denies (SalesAction.run)
        reply.say("delete_cancelled" if offer.startswith("delete:") else
                  "meeting_facts_declined" if offer.startswith("meeting_facts:") else "deny_idle")
        return []  # the offer is withdrawn by the base class


class ActionDeclineGift(SayAction):
    """Compliance: never coach gifts or favours meant to sway a purchase decision."""

    message = "gift_decline"

    def name(self) -> str:
        return "action_decline_gift"


class ActionCancel(SalesAction):
    """Stops the active form and forgets its half-collected answers."""

    def name(self) -> str:
        return "action_cancel"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.active_loop.get("name"):
            reply.say("cancel_done")
            return [ActiveLoop(None), SlotSet(SLOT_REQUESTED, None)] + [
                SlotSet(s, None) for s in FORM_SLOTS + COACHING_FORM_SLOTS if tracker.get_slot(s) is not None]
        reply.say("cancel_nothing")
        return []


class ActionSetLanguage(SalesAction):
    """Sets (or clears) the rep's reply-language override."""

    def name(self) -> str:
        return "action_set_language"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        wanted = first(entities_of(tracker.latest_message), "language")
        if wanted not in LANGUAGES:
            reply.say("language_auto")
            return [SlotSet(SLOT_LANGUAGE_OVERRIDE, None)]
        answer = Reply(reply.dispatcher, wanted)
        answer.say("language_set", language=answer.label("language", wanted))
        return [SlotSet(SLOT_LANGUAGE_OVERRIDE, wanted), SlotSet(SLOT_LANGUAGE, wanted)]


class ActionAskFormAccount(SalesAction):
    """Asks which account (or the new account's name), offering known accounts as buttons."""

    def name(self) -> str:
        return "action_ask_form_account"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.active_loop.get("name") == "account_form":
            reply.say("ask_form_account_new")
            return []
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            accounts = scope.list_accounts()
            buttons = account_buttons(accounts, "inform", reply.lang)
            place = place_in_note(scope, (user_messages_since_form(tracker, "meeting_form") or [{}])[0]) \
                if tracker.active_loop.get("name") == "meeting_form" else None
            if place:  # "met Jane at Orion Labs": maybe a new account
                buttons = buttons[:4] + [{"title": reply.text("new_account_button", name=place),
                                          "payload": payload("inform", account=place)}]
            reply.say("ask_form_account", buttons=buttons)
        return []


class ActionAskFormPerson(SayAction):
    message = "ask_form_person"

    def name(self) -> str:
        return "action_ask_form_person"


class ActionHandleInform(SalesAction):
    """A bare answer with no question pending: a scenario pick, an account name, or unclear."""

    keeps_offers = True

    def name(self) -> str:
        return "action_handle_inform"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from actions.account_facts import ActionAccountSummary
        from actions.roleplay import ActionStartRoleplay, pick_scenario
        from bot.roleplay.engine import load_scenario

        if tracker.get_slot(SLOT_PENDING_OFFER) == "scenario":
            sid = pick_scenario(tracker.latest_message.get("text") or "")
            if sid:
                return ActionStartRoleplay.begin(reply, load_scenario(sid))
        events: List[EventType] = [SlotSet(s, None) for s in (SLOT_PENDING_OFFER, SLOT_PREP_NEXT)
                                   if tracker.get_slot(s)]
        entities = entities_of(tracker.latest_message)
        held = tracker.get_slot(SLOT_PENDING_OFFER) or ""
        if held.startswith("facts_for:") and first(entities, "account"):
            return events + await _save_held_facts(reply, tracker, domain, held, first(entities, "account"))
        if first(entities, "person") and any(first(entities, k) for k in PERSON_FACTS) and (
                first(entities, "account") or tracker.get_slot("current_account")):
            return events + await _save_person_facts(reply, tracker, domain)  # "Maria Lopez is the CIO at Acme"
        name = first(entities_of(tracker.latest_message), "account") or (tracker.latest_message.get("text") or "")
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            account = scope.find_account(name.strip()) if len(name.strip()) <= 80 else None
            if account is not None:
                return events + ActionAccountSummary().answer(reply, scope, account, tracker) + [
                    SlotSet("current_account", account.name)]
        reply.say("fallback")
        return events
