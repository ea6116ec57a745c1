"""Deal risks and minefields (seed 003) detected from the facts of an account."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List

from bot.coach.facts import deciders
from bot.store import Account, TeamScope

# Titles that mark a technical expert (minefield 1: mistaking them for the decision maker).
_TECHNICAL_TITLE = re.compile(
    r"(技术|技術|工程|研发|研發|信息|資訊|资讯|IT|CTO|CIO|engineer|technical|technology|R&D|architect|总工|總工)",
    re.IGNORECASE)

# Most severe first.
ORDER = ("technical_as_decider", "no_decider", "decider_opposed", "stage_unknown", "single_contact",
         "competitor_unknown", "no_coach", "opponents_stronger", "decider_neutral", "need_unknown",
         "budget_unknown", "timeline_unknown")


@dataclass
class Risk:
    code: str
    params: Dict[str, object] = field(default_factory=dict)


def looks_technical(title: str | None, roles: List[str]) -> bool:
    """Whether a person reads as a technical expert (by buying role or title)."""
    return "technical" in roles or bool(title and _TECHNICAL_TITLE.search(title))


def detect_risks(scope: TeamScope, account: Account) -> List[Risk]:
    """The minefields and BANT gaps of an account, most severe first."""
    found: Dict[str, Risk] = {}
    people = list(account.stakeholders)
    decs = deciders(account)
    opp = scope.opportunity(account, create=False)

    if decs and all(looks_technical(p.title, p.roles) for p in decs):
        main = max(decs, key=lambda p: p.influence or 0)
        found["technical_as_decider"] = Risk("technical_as_decider", {"decider": main.name,
                                                                      "decider_title": main.title or ""})
    if not decs:
        found["no_decider"] = Risk("no_decider")
    else:
        main = max(decs, key=lambda p: p.influence or 0)
        if main.attitude == "opponent":
            found["decider_opposed"] = Risk("decider_opposed")
        elif main.attitude in (None, "neutral"):
            found["decider_neutral"] = Risk("decider_neutral")
    if len(people) <= 1:
        found["single_contact"] = Risk("single_contact")
    if not any("coach" in p.roles for p in people):
        found["no_coach"] = Risk("no_coach")
    if not (opp and opp.competitor_list):
        found["competitor_unknown"] = Risk("competitor_unknown")
    if not (opp and opp.purchase_stage):
        found["stage_unknown"] = Risk("stage_unknown")
    support = sum(p.influence or 0 for p in people if p.attitude == "supporter")
    oppose = sum(p.influence or 0 for p in people if p.attitude == "opponent")
    if oppose > support:
        found["opponents_stronger"] = Risk("opponents_stronger", {"support": support, "oppose": oppose})
    if not (opp and opp.budget is not None):
        found["budget_unknown"] = Risk("budget_unknown")
    if not (opp and opp.timeline):
        found["timeline_unknown"] = Risk("timeline_unknown")
    if not account.needs:
        found["need_unknown"] = Risk("need_unknown")
    return [found[code] for code in ORDER if code in found]
