"""Capture every fact in a rep's message into the store.

Whatever the intent, a message may carry several kinds of facts ("刘建国是技术总监，
影响力六成，他们预算200万，对手是西门子"). `capture` applies all of them inside the
caller's transaction and reports what changed, so the action can confirm it in
one line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from bot.store import Account, Interaction, Need, Stakeholder, TeamScope, clean_name, lookup_key

Entity = Dict[str, Any]

#: entities whose value is text the store saves (names, titles, the rep's words); any other
#: entity's value is a canonical value or a number
TEXT_ENTITIES = frozenset({"account", "person", "title", "department", "industry", "competitor", "need",
                           "timeline", "criteria"})


def usable_value(entity: Optional[str], value: Any) -> bool:
    """Whether an entity value is of a type the actions can use.

    A ``/intent{json}`` message can carry a value of any JSON type: text entities take only
    non-empty strings, the others strings and numbers (not booleans).
    """
    if isinstance(value, str):
        return bool(value)
    if entity in TEXT_ENTITIES:
        return False
    return isinstance(value, int | float) and not isinstance(value, bool)


def _values(entities: List[Entity], entity: str) -> List[Any]:
    out: List[Any] = []
    for e in entities:
        value = e.get("value")
        if e.get("entity") == entity and usable_value(entity, value) and value not in out:
            out.append(value)
    return out


def _first(entities: List[Entity], entity: str) -> Any:
    found = _values(entities, entity)
    return found[0] if found else None


def _last(entities: List[Entity], entity: str) -> Any:
    found = _values(entities, entity)
    return found[-1] if found else None


def person_facts(entities: List[Entity]) -> Dict[str, Any]:
    """Stakeholder facts in a list of entities (the last attitude/stage wins)."""
    facts: Dict[str, Any] = {
        "title": _first(entities, "title"),
        "buying_roles": _values(entities, "buying_role"),
        "attitude": _last(entities, "attitude"),
        "relationship_stage": _last(entities, "relationship_stage"),
        "influence": _first(entities, "influence"),
    }
    return {k: v for k, v in facts.items() if v not in (None, [], "")}


def deal_facts(entities: List[Entity]) -> Dict[str, Any]:
    """Opportunity facts: stage, budget (first amount), timeline, competitors."""
    facts: Dict[str, Any] = {
        "purchase_stage": _last(entities, "purchase_stage"),
        "budget": _first(entities, "amount"),
        "timeline": _first(entities, "timeline"),
        "competitors": _values(entities, "competitor"),
    }
    return {k: v for k, v in facts.items() if v not in (None, [], "")}


def split_by_person(entities: List[Entity]) -> Dict[str, List[Entity]]:
    """Assigns each person-fact entity to the person named before it (or the first).

    "刘建国是技术总监，王芳是采购经理" → {刘建国: [技术总监], 王芳: [采购经理]}.
    """
    people = [e for e in entities if e.get("entity") == "person" and isinstance(e.get("start"), int)
              and usable_value("person", e.get("value"))]
    groups: Dict[str, List[Entity]] = {}
    for p in people:
        groups.setdefault(p["value"], [])
    if not people:
        return groups
    for e in entities:
        if e.get("entity") in ("person", "account"):
            continue
        start = e.get("start")
        preceding = [p for p in people if isinstance(start, int) and p["start"] <= start]
        owner = preceding[-1] if preceding else people[0]
        groups[owner["value"]].append(e)
    return groups


@dataclass
class PersonChange:
    person: Stakeholder
    created: bool
    changes: Dict[str, Any]


@dataclass
class Captured:
    """What one message changed."""

    account: Account
    account_created: bool
    account_changes: Dict[str, Any] = field(default_factory=dict)
    people: List[PersonChange] = field(default_factory=list)
    deal_changes: Dict[str, Any] = field(default_factory=dict)
    needs: List[Tuple[Need, bool]] = field(default_factory=list)
    interaction: Optional[Interaction] = None

    def person(self, name: Optional[str]) -> Optional[PersonChange]:
        if not name:
            return self.people[0] if self.people else None
        key = lookup_key(name)
        return next((p for p in self.people if p.person.name_key == key), None)


def capture(
    scope: TeamScope,
    account_name: str,
    entities: List[Entity],
    *,
    person_name: Optional[str] = None,
    need_text: Optional[str] = None,
    need_kind: Optional[str] = None,
    meeting_summary: Optional[str] = None,
) -> Captured:
    """Applies all facts of a message to the store.

    Args:
        scope: the caller's team scope (one transaction).
        account_name: the account the message is about (created if new).
        entities: the entities of the message (and of form answers).
        person_name: the person the message is about, when known from a form
            or a pronoun; other persons named in the message are saved too.
        need_text: a need to record (the rep's words) when no `need` entity says it.
        need_kind: explicit/implicit/strategic for `need_text`.
        meeting_summary: the rep's report of a meeting or call, stored verbatim.

    Returns:
        What was created or changed.
    """
    industry = _first(entities, "industry")
    account, created = scope.get_or_create_account(account_name, industry=industry)
    result = Captured(account=account, account_created=created)
    if industry:
        result.account_changes["industry"] = industry

    groups = split_by_person(entities)
    if person_name:
        person_name = clean_name(person_name)  # saved and looked up under the same name
    if person_name and lookup_key(person_name) not in {lookup_key(n) for n in groups}:
        # the person came from a form answer or a pronoun: all person facts are theirs
        unnamed = [e for e in entities if e.get("entity") not in ("person", "account")]
        groups = {person_name: unnamed, **{n: [] for n in groups}}
    for name, ents in groups.items():
        person, p_created, changes = scope.upsert_stakeholder(account, name, **person_facts(ents))
        result.people.append(PersonChange(person, p_created, changes))

    facts = deal_facts(entities)
    if facts:
        _opp, result.deal_changes = scope.update_deal(account, **facts)

    main_person = result.person(person_name).person if result.person(person_name) else None
    kind = need_kind or _first(entities, "need_type")
    stated = _values(entities, "need")
    for text in stated or ([need_text] if need_text is not None else []):  # an empty text is refused
        result.needs.append(scope.add_need(account, text, kind=kind, stakeholder=main_person,
                                           source="meeting" if meeting_summary else "rep"))
    if meeting_summary is not None:  # an empty summary is refused, never logged as nothing
        result.interaction = scope.log_interaction(account, meeting_summary, stakeholder=main_person)
    return result
