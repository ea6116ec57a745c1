"""Which account and person a coaching request is about."""
from __future__ import annotations

from typing import Optional, Tuple

from rasa_sdk import Tracker

from actions.context import (
    account_from_context,
    entities_of,
    first,
    mentions_person_pronoun,
    person_from_context,
    reconcile_entities,
)
from bot.language import name_key
from bot.store import Account, Stakeholder, TeamScope


def focus(scope: TeamScope, tracker: Tracker, want_person: bool = False
          ) -> Tuple[Optional[Account], Optional[Stakeholder]]:
    """The account (and person) in focus, never asking: named, else in context, else the only one.

    A person is found by name, by pronoun ("他", "she") from context, or — with
    `want_person` — by a title or buying role named in the message ("their CFO").
    """
    message = tracker.latest_message or {}
    ents = reconcile_entities(scope, entities_of(message), message.get("text"))
    account: Optional[Account] = None
    named = first(ents, "account")
    if named:
        account = scope.find_account(named)
    person: Optional[Stakeholder] = None
    person_name = first(ents, "person")
    if person_name:
        people = scope.find_stakeholders(person_name, account)
        if len(people) == 1:
            person = people[0]
            account = account or person.account
    if account is None and not named:
        account = account_from_context(scope, tracker)
    if want_person and person is None and not person_name:
        if mentions_person_pronoun(message.get("text") or ""):
            person = person_from_context(scope, tracker, account)
        if person is None and account is not None:
            person = _by_title_or_role(account, first(ents, "title"), first(ents, "buying_role"))
    if account is None and not named:
        accounts = scope.list_accounts()
        if len(accounts) == 1:
            account = accounts[0]
    return account, person


def _by_title_or_role(account: Account, title: Optional[str], role: Optional[str]) -> Optional[Stakeholder]:
    if title:
        key = name_key(title)
        matches = [p for p in account.stakeholders if p.title and (name_key(p.title) == key
                                                                    or key in name_key(p.title))]
        if len(matches) == 1:
            return matches[0]
    if role:
        matches = [p for p in account.stakeholders if role in p.roles]
        if matches:
            return max(matches, key=lambda p: p.influence or 0)
    return None
