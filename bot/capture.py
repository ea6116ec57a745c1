"""Capture every fact in a rep's message into the store.

Whatever the intent, a message may carry several kinds of facts ("刘建国是技术总监，
影响力六成，他们预算200万，对手是西门子"). `capture` applies all of them inside the
caller's transaction and reports what changed, so the action can confirm it in
one line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from bot.resolve import better_name, plausible_person_name, same_company, without_title
from bot.store import Account, Interaction, InvalidFact, Need, Stakeholder, TeamScope, clean_name, lookup_key

Entity = Dict[str, Any]

#: entities whose value is text the store saves (names, titles, the rep's words); any other
#: entity's value is a canonical value or a number
TEXT_ENTITIES = frozenset({"account", "person", "title", "department", "industry", "competitor", "need",
                           "timeline", "criteria"})


_NEGATION = re.compile(r"(?:\bnot\b|n't\b|\bnever\b|\binstead of\b|不是|并非|并不是|而不是|而非|不叫|並非|並不是)"
                       r"[\s,，、]*(?:the|a|an|really|our|their|his|her)?\s*$", re.IGNORECASE)


def denied(text: str, entity: Entity) -> bool:
    """Whether the rep denies this value ("not the CIO", "不是部长"): it is the old one, never saved."""
    start = entity.get("start")
    if not isinstance(start, int) or not text:
        return False
    return bool(_NEGATION.search(text[max(0, start - 14):start]))


#: what a message can say about one person
PERSON_FACTS = frozenset({"title", "buying_role", "attitude", "influence", "relationship_stage"})
#: what a message can say about the deal or the account's needs
DEAL_FACTS = frozenset({"purchase_stage", "amount", "timeline", "competitor", "need", "need_type"})


def answers_who(held: List[Entity], answer: List[Entity]) -> bool:
    """Whether the message after "who is this about?" names the person the held facts are about.

    "Megan Doyle, COO" after "she signs off on it, 50%" adds to them; "总经理 曾冠宇 拍板的 影响力五成"
    after "设备部经理 技术型 影响力四成" is another person's own statement (it gives a fact of a kind
    the held message already gave), and "时程的话 他们希望明年Q2完成验收" is about the deal: the held
    facts are then dropped rather than given to someone they were never about.
    """
    kinds = {e.get("entity") for e in answer}
    if kinds & DEAL_FACTS:
        return False
    return not (kinds & PERSON_FACTS & {e.get("entity") for e in held})


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


_BUDGET_CUE = re.compile(r"budget|budgeted|to spend|spend|funding|funds|allocated|set aside|approved|capex|"
                         r"预算|经费|资金|拨款|投入|可以花|能花|批了|预计花|預算|經費", re.IGNORECASE)
_NOT_BUDGET = re.compile(r"\blost\b|\bloss|costs? (?:them|us)|penalt|fine|discount|\boff\b|cheaper|saving|save|"
                         r"revenue|sales of|turnover|损失|亏|罚|赔|折扣|打折|便宜|降价|节省|省下|营收|销售额|营業額|損失|虧",
                         re.IGNORECASE)


def budget_amount(entities: List[Entity], text: Optional[str]) -> Any:
    """The amount that is the deal's budget: one said with a budget word near it, never a loss or a discount.

    Without the message text (a form's answer), the first amount.
    """
    amounts = [e for e in entities if e.get("entity") == "amount" and usable_value("amount", e.get("value"))]
    if not amounts:
        return None
    if not text:
        return amounts[0]["value"]
    for e in amounts:
        start, end = e.get("start"), e.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            return e["value"] if _BUDGET_CUE.search(text) and not _NOT_BUDGET.search(text) else None
        around = text[max(0, start - 24):min(len(text), end + 16)]
        if _BUDGET_CUE.search(around) and not _NOT_BUDGET.search(around):
            return e["value"]
    return None


#: words that say a sentence is about where the deal stands, not about a person's part in it
_STAGE_CUE = re.compile(r"\b(?:stage|phase|status|now in|are in|they're in|moved to|moving to|entered|entering|"
                        r"we're at|we are at|deal is|project is|currently)\b|阶段|階段|进入|進入|到了|已经在|已經在|"
                        r"正在|在做|在走|推进到|推進到|目前在|现在在|現在在|项目在|項目在|专案在|專案在", re.IGNORECASE)


def deal_facts(entities: List[Entity], text: Optional[str] = None, account_name: Optional[str] = None,
               people: Optional[List[str]] = None) -> Dict[str, Any]:
    """Opportunity facts: stage, budget, timeline, competitors.

    The budget is an amount said as a budget (`budget_amount`); a competitor is never the
    account itself nor one of its people.
    """
    others = {lookup_key(n) for n in [account_name or "", *(people or [])] if n}
    competitors = [c for c in _values(entities, "competitor") if lookup_key(c) not in others
                   and not (account_name and same_company(c, account_name))]
    stage = _last(entities, "purchase_stage")
    if stage and people and text and not _STAGE_CUE.search(text):
        stage = None  # "maybe 40% say in the decision", "李工负责评估": the person's part, not the deal's stage
    facts: Dict[str, Any] = {
        "purchase_stage": stage,
        "budget": budget_amount(entities, text),
        "timeline": _first(entities, "timeline"),
        "competitors": competitors,
    }
    return {k: v for k, v in facts.items() if v not in (None, [], "")}


def split_by_person(entities: List[Entity], text: Optional[str] = None) -> Dict[str, List[Entity]]:
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
    markers = people + _later_mentions(people, text)
    for e in entities:
        if e.get("entity") in ("person", "account"):
            continue
        start = e.get("start")
        preceding = [p for p in markers if isinstance(start, int) and p["start"] <= start]
        owner = max(preceding, key=lambda p: p["start"]) if preceding else min(people, key=lambda p: p["start"])
        end = e.get("end")
        following = sorted((p for p in people if isinstance(end, int) and p["start"] >= end), key=lambda p: p["start"])
        if e.get("entity") == "title" and following and _just_before(e, following[0], text):
            owner = following[0]  # "her maintenance lead Rick Santos", "生产副总秦国华": the title of who follows
        hint = e.get("person_hint")
        if hint in groups:
            owner = next(p for p in people if p["value"] == hint)  # said together: "Jamal is procurement director"
        groups[owner["value"]].append(e)
    return groups


def _later_mentions(people: List[Entity], text: Optional[str]) -> List[Entity]:
    """Short forms of the people a message names, where it uses them ("… Caroline Ashworth … Caroline makes the call").

    A short form two of them share ("both Chrises") marks nobody.
    """
    from bot.language import to_simplified
    from bot.resolve import short_forms

    if not text or not people:
        return []
    folded = to_simplified(text).casefold()
    owners: Dict[str, set] = {}
    for p in people:
        for form in short_forms(str(p["value"])):
            if len(form) >= 2 and lookup_key(form) != lookup_key(str(p["value"])):
                owners.setdefault(to_simplified(form).casefold(), set()).add(p["value"])
    out: List[Entity] = []
    for form, names in owners.items():
        if len(names) != 1:
            continue
        pattern = rf"(?<![a-z0-9]){re.escape(form)}(?![a-z0-9])" if form.isascii() else re.escape(form)
        for m in re.finditer(pattern, folded):
            if not any(p["start"] <= m.start() < p.get("end", p["start"]) for p in people):
                out.append({"entity": "person", "value": next(iter(names)), "start": m.start(), "end": m.end()})
    return out


def _just_before(entity: Entity, person: Entity, text: Optional[str]) -> bool:
    gap = text[entity["end"]:person["start"]] if text else " " * (person["start"] - entity["end"])
    return bool(re.fullmatch(r"[\s的:：]{0,3}", gap))


@dataclass
class PersonChange:
    person: Stakeholder
    created: bool
    changes: Dict[str, Any]
    mention: Optional[str] = None  # how the message named them (王总 for 王海涛)


def stored_name(scope: TeamScope, account: Account, mention: str, text: Optional[str] = None) -> str:
    """The name to save a person under: the stored person `mention` means, or `mention` for someone new.

    "Tom" when Tom Becker is on file is Tom Becker; "Tom Becker" when only "Tom" is on file
    renames Tom to the fuller name. When several people fit ("Tom" and two Toms), nothing is
    saved: `InvalidFact("ambiguous_person")` makes the action ask which one, with the message
    re-sent with each full name as the choices.
    """
    people = scope.find_stakeholders(mention, account)
    if len(people) > 1:
        raise InvalidFact("ambiguous_person", mention=mention, choices=[p.name for p in people], text=text or "")
    if people:
        person = people[0]
        fuller = better_name(person.name, mention)
        if fuller:
            scope.rename_stakeholder(person, fuller)
        return person.name
    return without_title(mention)


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
        found = next((p for p in self.people if key in (p.person.name_key, lookup_key(p.mention or ""))), None)
        if found is None:  # "Ms. Chaudhry" saved under the full name the message gave (Farah Chaudhry)
            fuller = [p for p in self.people if better_name(name, p.person.name)]
            found = fuller[0] if len(fuller) == 1 else None
        return found


_SAID = re.compile(r"^.{0,60}?\b(?:said|says|told (?:me|us)|mentioned|explained|complained)(?: that)?\s+|"
                   r"^.{0,20}?(?:说|說|表示|提到|抱怨)(?:说|說|了)?", re.IGNORECASE)


def _need_words(value: str) -> str:
    """A need in the customer's words: "Met Sandra yesterday, she said the core system keeps failing" → the failing."""
    rest = _SAID.sub("", value, count=1).strip(" ,，:：")
    return rest if _a_need(rest) else value


def _a_need(text: str) -> bool:
    """A need the tagger cut to a fragment ("15yrs", "cycle", "董事会") is not saved."""
    words = re.findall(r"[A-Za-z]{2,}", text)
    han = re.findall(r"[\u4e00-\u9fff]", text)
    return len(words) >= 2 or len(han) >= 4 or (len(words) >= 1 and len(han) >= 2)


def _not_a_person(scope: TeamScope, name: str, account: Account, entities: List[Entity]) -> bool:
    """A name the tagger took for a person that names a company.

    The account (康铂 for 康铂医疗), another of the team's accounts, or a competitor ("Manhattan" of
    Manhattan Associates, 卫宁 of 卫宁健康).
    """
    from bot.language import name_key

    key = name_key(name)
    if not key or scope.find_stakeholders(name, account):
        return False
    companies = [account.name] + [e.get("value") for e in entities if e.get("entity") == "competitor"]
    opp = scope.opportunity(account, create=False)
    companies += opp.competitor_list if opp else []
    if any(key == name_key(str(c)) or (len(key) >= 2 and name_key(str(c)).startswith(key)) for c in companies if c):
        return True
    return any(a.id != account.id for a in scope.match_accounts(name))


def _merge_same_person(groups: Dict[str, List[Entity]]) -> Dict[str, List[Entity]]:
    """One person named twice in one message ("劉冠宇劉課長", "秦国华 … 秦总说").

    The short form's facts go to the full name when it fits only that one.
    """
    from bot.resolve import is_short_name, same_person

    out = {n: list(e) for n, e in groups.items()}
    for short in [n for n in groups if is_short_name(n)]:
        fulls = [n for n in groups if n != short and not is_short_name(n) and same_person(short, n)]
        if len(fulls) == 1:
            out[fulls[0]] += out.pop(short)
    return out


def capture(
    scope: TeamScope,
    account_name: str,
    entities: List[Entity],
    *,
    person_name: Optional[str] = None,
    need_text: Optional[str] = None,
    need_kind: Optional[str] = None,
    meeting_summary: Optional[str] = None,
    text: Optional[str] = None,
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
        text: the rep's message (to offer it back with a full name when a short one is ambiguous).

    Returns:
        What was created or changed.
    """
    industry = _first(entities, "industry")
    account, created = scope.get_or_create_account(account_name, industry=industry)
    result = Captured(account=account, account_created=created)
    if industry:
        result.account_changes["industry"] = industry

    groups = {name: ents for name, ents in split_by_person(entities, text).items()
              if plausible_person_name(name) and not _not_a_person(scope, name, account, entities)}
    groups = _merge_same_person(groups)
    if person_name and (not plausible_person_name(person_name) or _not_a_person(scope, person_name, account, entities)):
        person_name = None  # "孙总和", "林課長則": a tagger's slip is nobody
    if person_name:
        person_name = clean_name(person_name)  # saved and looked up under the same name
        if lookup_key(person_name) not in {lookup_key(n) for n in groups}:
            fuller = [n for n in groups if better_name(person_name, n)]
            if len(fuller) == 1:
                person_name = fuller[0]  # "Ms. Chaudhry is the CEO, Farah Chaudhry": the message's full name
    if person_name and lookup_key(person_name) not in {lookup_key(n) for n in groups} | {
            lookup_key(stored_name(scope, account, n, text)) for n in groups}:
        # the person came from a form answer or a pronoun: all person facts are theirs
        unnamed = [e for e in entities if e.get("entity") not in ("person", "account")]
        groups = {person_name: unnamed, **{n: [] for n in groups}}
    for mention, ents in groups.items():
        name = stored_name(scope, account, mention, text)
        person, p_created, changes = scope.upsert_stakeholder(account, name, **person_facts(ents))
        result.people.append(PersonChange(person, p_created, changes, mention))

    facts = deal_facts(entities, text, account.name, [p.person.name for p in result.people]
                       + [n for n in groups])
    if facts:
        _opp, result.deal_changes = scope.update_deal(account, **facts)

    main_person = result.person(person_name).person if result.person(person_name) else None
    kind = need_kind or _first(entities, "need_type")
    stated = [_need_words(str(n)) for n in _values(entities, "need") if _a_need(str(n))]
    stated = [n for n in stated if not re.match(r"对手|對手|竞争|競爭|competitor|的", n, re.IGNORECASE)]
    for text in stated or ([need_text] if need_text is not None else []):  # an empty text is refused
        result.needs.append(scope.add_need(account, text, kind=kind, stakeholder=main_person,
                                           source="meeting" if meeting_summary else "rep"))
    if meeting_summary is not None:  # an empty summary is refused, never logged as nothing
        result.interaction = scope.log_interaction(account, meeting_summary, stakeholder=main_person)
    return result
