"""Forms that ask for the facts a write needs: which account, which person.

Each form's slots (`form_account`, `form_person`) are filled by the
`extract_*` methods below from, in order: the entity in the message, the
person's known account, the account/person last discussed, or — when the bot
has just asked — the rep's bare answer. A message that answers nothing (a
question, "cancel") fills nothing, so the form is rejected and the rules handle
the interruption; afterwards the form asks again.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import SafeFormValidation, caller, reply_language, store
from actions.context import (
    account_from_context,
    entities_of,
    first,
    form_activating,
    mentions_person_pronoun,
    person_from_context,
    place_in_note,
    reconcile_entities,
    user_messages_since_form,
)
from actions.slots import ANSWER_INTENTS, INTERRUPT_INTENTS, SLOT_FORM_ACCOUNT, SLOT_FORM_PERSON, SLOT_REQUESTED
from bot import i18n
from bot.nlu.intent_rules import STATED_PERSON_FACTS
from bot.notes import names_a_place
from bot.store import MAX_NAME, InvalidFact, clean_name, lookup_key

MAX_ANSWER = 80


def _bare_answer(tracker: Tracker) -> Optional[str]:
    """The rep's message as a bare answer ("华东精密", "Maria Lopez"), if it is one."""
    text = (tracker.latest_message.get("text") or "").strip().strip("。.!！?？,，")
    if not text or text.startswith("/") or len(text) > MAX_ANSWER:
        return None
    return text


class FactFormValidation(SafeFormValidation, ABC):
    """Shared slot extraction for the fact-writing forms (not registered itself)."""

    #: the form creates a new account, so context must not be used
    new_account = False
    #: a name the team has no account for may become a new account (never for a meeting note:
    #: "Met Dave Wilson today" is about a person, not a company called "Met Dave Wilson")
    creates_accounts = True

    @abstractmethod
    def name(self) -> Text:
        """Abstract, so rasa_sdk's executor does not register this base class."""

    def _activating(self, tracker: Tracker) -> bool:
        return form_activating(tracker, self.form_name())

    def _answering(self, tracker: Tracker, slot: str) -> bool:
        """A reply to the form's question: an answer-like intent, or any short non-question."""
        if tracker.get_slot(SLOT_REQUESTED) != slot or self._activating(tracker):
            return False
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ANSWER_INTENTS or intent == self.trigger_intent():
            return True
        return intent not in INTERRUPT_INTENTS and _bare_answer(tracker) is not None and len(
            (tracker.latest_message.get("text") or "").split()) <= 4

    def trigger_intent(self) -> str:
        return ""

    async def extract_form_account(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        activating = self._activating(tracker)
        if tracker.get_slot(SLOT_FORM_ACCOUNT) and not activating:
            return {}
        found = self._find_account(tracker, activating)
        if found is None and activating and tracker.get_slot(SLOT_FORM_ACCOUNT):
            return {SLOT_FORM_ACCOUNT: None}  # a value left over from an abandoned form
        return {SLOT_FORM_ACCOUNT: found} if found else {}

    def _find_account(self, tracker: Tracker, activating: bool) -> Optional[str]:
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            entities = reconcile_entities(scope, entities_of(tracker.latest_message),
                                          tracker.latest_message.get("text"))
            named = first(entities, "account")
            answering = self._answering(tracker, SLOT_FORM_ACCOUNT)
            if not (activating or answering or named):
                return None
            if named or answering:
                about_someone = any(e.get("entity") in STATED_PERSON_FACTS for e in entities)
                # "Sophie Laurent, revenue manager, user + coach" tells about a person: never the account's name
                answer = named or (None if about_someone else first(entities, "person") or _bare_answer(tracker))
                if not answer:
                    return None
                match = scope.find_account(answer)
                if match is not None or self.creates_accounts:
                    return match.name if match and not self.new_account else answer
                if answering:  # "New account: Orion Labs" for a note at Orion Labs, else the form asks again
                    place = place_in_note(scope, (user_messages_since_form(tracker, self.form_name()) or [{}])[0])
                    return answer if place and lookup_key(place) == lookup_key(answer) else None
                if names_a_place(tracker.latest_message.get("text") or "", named):
                    return None  # the form asks, with the team's accounts (and the named one) as buttons
            if self.new_account:
                return None
            person = first(entities, "person")
            if person:
                owners = {p.account_id: p.account.name for p in scope.find_stakeholders(person)}
                if len(owners) == 1:
                    return next(iter(owners.values()))
            current = account_from_context(scope, tracker)
            if current:
                return current.name
            accounts = scope.list_accounts()
            if len(accounts) == 1:
                return accounts[0].name
        return None

    async def extract_form_person(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        activating = self._activating(tracker)
        if tracker.get_slot(SLOT_FORM_PERSON) and not activating:
            return {}
        found = self._find_person(tracker, activating)
        if found is None and activating and tracker.get_slot(SLOT_FORM_PERSON):
            return {SLOT_FORM_PERSON: None}
        return {SLOT_FORM_PERSON: found} if found else {}

    def _find_person(self, tracker: Tracker, activating: bool) -> Optional[str]:
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            entities = reconcile_entities(scope, entities_of(tracker.latest_message),
                                          tracker.latest_message.get("text"))
        named = first(entities, "person")
        if named:
            return named
        if self._answering(tracker, SLOT_FORM_PERSON):
            from bot.resolve import plausible_person_name

            answer = _bare_answer(tracker)  # only a name answers "who?": another request gets its own answer
            return answer if answer and plausible_person_name(answer) and len(answer) <= 40 else None
        if activating and mentions_person_pronoun(tracker.latest_message.get("text") or ""):
            who = caller(tracker)
            with store().team(who.team_key, who.user_key) as scope:
                account_name = tracker.get_slot(SLOT_FORM_ACCOUNT)
                account = scope.find_account(account_name) if account_name else None
                person = person_from_context(scope, tracker, account)
                if person:
                    return person.name
        return None

    def _validate_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str
                       ) -> Dict[Text, Any]:
        if value is None:
            return {slot: None}
        try:
            name = clean_name(value if isinstance(value, str) else None)
        except InvalidFact:  # empty, invisible, no letters to find it by, or too long
            dispatcher.utter_message(text=i18n.render("invalid_name", reply_language(tracker), limit=MAX_NAME))
            return {slot: None}
        return {slot: name}

    def validate_form_account(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        return self._validate_name(value, dispatcher, tracker, SLOT_FORM_ACCOUNT)

    def validate_form_person(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        from bot.resolve import plausible_person_name

        if isinstance(value, str) and not plausible_person_name(value):  # "she signs off on it, 50%" is no name
            dispatcher.utter_message(text=i18n.render("not_a_person_name", reply_language(tracker)))
            return {SLOT_FORM_PERSON: None}
        return self._validate_name(value, dispatcher, tracker, SLOT_FORM_PERSON)


class ValidateAccountForm(FactFormValidation):
    new_account = True

    def name(self) -> Text:
        return "validate_account_form"

    def trigger_intent(self) -> str:
        return "add_account"


class ValidateStakeholderForm(FactFormValidation):
    def name(self) -> Text:
        return "validate_stakeholder_form"

    def trigger_intent(self) -> str:
        return "record_stakeholder"


class ValidateDealForm(FactFormValidation):
    def name(self) -> Text:
        return "validate_deal_form"

    def trigger_intent(self) -> str:
        return "record_deal"


class ValidateNeedForm(FactFormValidation):
    def name(self) -> Text:
        return "validate_need_form"

    def trigger_intent(self) -> str:
        return "record_need"


class ValidateMeetingForm(FactFormValidation):
    creates_accounts = False

    def name(self) -> Text:
        return "validate_meeting_form"

    def trigger_intent(self) -> str:
        return "log_meeting"


FORM_TRIGGERS: List[str] = ["add_account", "record_stakeholder", "record_deal", "record_need", "log_meeting"]
