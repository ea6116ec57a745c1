"""Corrections: "no, actually…", "I meant…", "不对，…", "更正：…", "其实他是…" change the fact they name.

A correction overwrites: the title, attitude, influence or relationship stage it names replace
the stored one, its buying role replaces the person's roles, its budget, stage or timeline
replace the deal's, and its competitor replaces the one it denies. A value the rep denies
("not the CIO", "不是部长", "not SAP") is the old one: it is dropped, never saved. The person
is the one the correction names (in any short form, `bot.resolve`), else the one a pronoun or
the conversation points at; the account likewise. A name alone with a typo cue ("typo,
Jenna", "名字打错了，应该是欧阳静怡") renames that person.

`correct` applies what it can inside the caller's transaction (so "undo" reverts it like any
save) and returns what changed; nothing is guessed when the target is unclear.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from bot.capture import PERSON_FACTS, _first, _last, _values, denied, usable_value
from bot.resolve import plausible_person_name
from bot.store import Account, Stakeholder, TeamScope

Entity = Dict[str, Any]
_NAME_FIX = re.compile(r"typo|spell|misspel|name is|named|名字|姓名|打错|写错|打錯|寫錯|应该是|應該是|叫做|叫", re.IGNORECASE)
#: a delete request that names one fact ("delete Peter's phone number", "删掉王总的职位"), not a whole record
_ONE_FACT = re.compile(
    r"\b(?:phone|number|mobile|e-?mail|title|job|role|attitude|influence|budget|stage|competitors?|timeline|"
    r"address|wechat|birthday)\b|电话|手机|邮箱|职位|头衔|职务|角色|态度|影响力|预算|阶段|竞争对手|竞品|时间表|地址|微信|生日|"
    r"電話|手機|郵箱|信箱|職位|頭銜|職務|態度|影響力|預算|階段|競爭對手|競品|時間表", re.IGNORECASE)
_WHOLE = re.compile(r"\b(?:everything|all|whole|entire|completely)\b|全部|所有|一切|整个|整個", re.IGNORECASE)


_TOO = re.compile(r"\b(?:too|also|as well|in addition)\b|也|还是|還是|同时|同時|兼", re.IGNORECASE)
#: a reply to "save these too?" that takes most of it and fixes a part ("not quite - Jamal is procurement
#: director, not finance director", "差不多，除了…", "rest is right")
_PARTLY = re.compile(r"^\W*(?:not quite|not exactly|almost|nearly|mostly|partly|close(?: but)?|yes,? but|yeah,? but|"
                     r"all good except|except|apart from|other than)\b|\b(?:the )?rest is (?:right|correct|fine|good)\b|"
                     r"^\W*(?:差不多|基本上?(?:对|對|没错|沒錯)|大部分|不完全|不太对|不太對|除了)|其他都|其余都|其餘都|"
                     r"^\W*(?:yes|yeah|yep|ok|okay|对|對|是的?|好的?|没错|沒錯)\W*(?:but|though|不过|不過|但是|但)",
                     re.IGNORECASE)
#: "对，不过陈静那条别存", "yes but don't save Tom": the facts about the person named are left out
_LEAVE_OUT = re.compile(r"别存|別存|不要存|不用存|不存|别记|別記|不要记|不要記|don'?t (?:save|store|add|keep)|leave (?:\w+ )?out|skip",
                        re.IGNORECASE)


def leaves_out(text: str) -> bool:
    """Whether a reply to "save these too?" asks to leave part of it out."""
    return bool(_LEAVE_OUT.search(text or ""))


def amends_an_offer(text: str, intent: Optional[str]) -> bool:
    """Whether a reply to a "save these too?" list fixes part of it rather than moving on."""
    return intent == "correct_fact" or bool(_PARTLY.search(text or ""))


def names_one_fact(text: str) -> bool:
    """Whether a delete request is about one fact of a record rather than the record itself."""
    return bool(_ONE_FACT.search(text or "")) and not _WHOLE.search(text or "")




@dataclass
class Correction:
    """What a correction changed: per person or account name, the facts with their new values."""

    person: Optional[Stakeholder] = None
    account: Optional[Account] = None
    person_changes: Dict[str, Any] = field(default_factory=dict)
    deal_changes: Dict[str, Any] = field(default_factory=dict)
    account_changes: Dict[str, Any] = field(default_factory=dict)
    renamed_from: Optional[str] = None
    unclear: Optional[str] = None  # why nothing could be applied: no_target / nothing / ambiguous

    @property
    def changed(self) -> bool:
        return bool(self.person_changes or self.deal_changes or self.account_changes or self.renamed_from)


def correct(scope: TeamScope, text: str, entities: List[Entity], context_account: Optional[Account],
            context_person: Optional[Stakeholder]) -> Correction:
    """Applies a correction message to the store (see the module docstring)."""
    fresh = [e for e in entities if not denied(text, e) and usable_value(e.get("entity"), e.get("value"))]
    old = [e for e in entities if denied(text, e)]
    result = Correction()

    named_account = _first(fresh, "account")
    account = scope.find_account(named_account) if named_account else context_account
    if named_account and account is None:
        result.unclear = "no_target"
        return result

    people = [str(e["value"]) for e in fresh if e.get("entity") == "person" and plausible_person_name(str(e["value"]))]
    denied_people = [str(e["value"]) for e in old if e.get("entity") == "person"]
    person: Optional[Stakeholder] = None
    for mention in people:
        found = scope.find_stakeholders(mention, account)
        if len(found) == 1:
            person = found[0]
            break
        if len(found) > 1:
            result.unclear = "ambiguous"
            return result
    has_person_facts = any(e.get("entity") in PERSON_FACTS for e in fresh)
    if person is None and people and not has_person_facts:
        # "typo, Jenna not Jenny" / "名字打错了，应该是欧阳静怡": a new name for the person meant
        target = _one(scope, denied_people[0], account) if denied_people else context_person
        if target is not None and (denied_people or _NAME_FIX.search(text)):
            result.renamed_from, result.person = target.name, target
            scope.rename_stakeholder(target, people[0])
            return result
    if person is None and has_person_facts:
        person = context_person if not people else None
        if person is None and denied_people:
            person = _one(scope, denied_people[0], account)
    if has_person_facts and person is None:
        result.unclear = "no_target"
        return result

    if person is not None:
        result.person = person
        roles = _values(fresh, "buying_role")
        facts = {"title": _first(fresh, "title"), "attitude": _last(fresh, "attitude"),
                 "relationship_stage": _last(fresh, "relationship_stage"), "influence": _first(fresh, "influence")}
        facts = {k: v for k, v in facts.items() if v not in (None, "")}
        if roles:
            facts["buying_roles"] = roles
            if not _TOO.search(text):  # "he's our coach too": added to his roles, not instead of them
                facts["drop_buying_roles"] = [r for r in person.roles if r not in roles]
        _, _, result.person_changes = scope.upsert_stakeholder(person.account, person.name, **facts)
        account = account or person.account

    deal = {"budget": _first(fresh, "amount"), "purchase_stage": _last(fresh, "purchase_stage"),
            "timeline": _first(fresh, "timeline"), "competitors": _values(fresh, "competitor")}
    deal = {k: v for k, v in deal.items() if v not in (None, [], "")}
    gone = [str(e["value"]) for e in old if e.get("entity") == "competitor"]
    if deal or gone:
        if account is None:
            result.unclear = result.unclear or "no_target"
            return result
        _, result.deal_changes = scope.update_deal(account, drop_competitors=gone, **deal)
        if gone and "competitors" not in result.deal_changes:
            result.deal_changes["competitors"] = []
    industry = _first(fresh, "industry")
    if industry and account is not None:
        _, _ = scope.get_or_create_account(account.name, industry=industry)
        result.account_changes["industry"] = industry
    result.account = account
    if not result.changed and result.unclear is None:
        result.unclear = "nothing"
    return result


def _one(scope: TeamScope, mention: str, account: Optional[Account]) -> Optional[Stakeholder]:
    found = scope.find_stakeholders(mention, account)
    return found[0] if len(found) == 1 else None
