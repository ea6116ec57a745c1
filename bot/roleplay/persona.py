"""A buyer built from one of the rep's own stakeholders, in the scenario format.

Buying role, attitude and relationship stage shape the persona; the account's
recorded needs become the hidden problems, its stage and competitor the
situation facts and objections. An opposed technical evaluator is guarded,
sceptical and raises a switching-risk objection early; a supportive economic
buyer is open and asks about return.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional

import yaml

from bot import CONTENT_DIR, i18n
from bot.language import to_simplified
from bot.store import Account, Stakeholder, TeamScope

OWN_DEAL_FILE = CONTENT_DIR / "roleplay" / "own_deal.yml"


@lru_cache(maxsize=1)
def templates() -> Dict[str, Any]:
    return yaml.safe_load(OWN_DEAL_FILE.read_text(encoding="utf-8"))


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(entry: Dict[str, str], values: Dict[str, Dict[str, str]]) -> Dict[str, str]:
    """Formats a bilingual template with per-language values."""
    return {lang: entry[lang].format_map(_Fill({k: v[lang] for k, v in values.items()})) for lang in ("en", "zh")}


def _both(value: str) -> Dict[str, str]:
    return {"en": value, "zh": value}


def _keys(text: str) -> Dict[str, List[str]]:
    """Question words that point at a need: its longer words (English) and 2-char pieces (Chinese)."""
    import re

    simple = to_simplified(text.lower())
    en = [w for w in re.findall(r"[a-z]{4,}", simple)][:6]
    han = "".join(re.findall(r"[\u4e00-\u9fff]", simple))
    zh = [han[i:i + 2] for i in range(0, max(len(han) - 1, 0), 2)][:6]
    return {"en": en, "zh": zh}


def build_persona(scope: TeamScope, person: Stakeholder, account: Optional[Account] = None) -> Dict[str, Any]:
    """A role-play scenario whose buyer is `person`, from what the store knows."""
    t = templates()
    account = account or person.account
    opp = scope.opportunity(account, create=False)
    role = next((r for r in person.roles if r in t["cares_about"]), "unknown")
    attitude = person.attitude or "neutral"
    competitor = opp.competitor_list[0] if opp and opp.competitor_list else None
    known = "known" if competitor else "unknown"
    v: Dict[str, Dict[str, str]] = {
        "person": _both(person.name), "account": _both(account.name),
        "title": _both(person.title) if person.title else {"en": "contact", "zh": "联系人"},
        "competitor": _both(competitor or ""),
        "role_label": {"en": i18n.label("buying_role", role, "en") if role != "unknown" else "unknown",
                       "zh": i18n.label("buying_role", role, "zh") if role != "unknown" else "未知"},
        "attitude_label": {"en": i18n.label("attitude", attitude, "en"), "zh": i18n.label("attitude", attitude, "zh")},
        "stage_label": {"en": i18n.label("relationship_stage", person.relationship_stage, "en") or "unknown",
                        "zh": i18n.label("relationship_stage", person.relationship_stage, "zh") or "未知"},
        "stage": {"en": i18n.label("purchase_stage", opp.purchase_stage, "en"),
                  "zh": i18n.label("purchase_stage", opp.purchase_stage, "zh")} if opp and opp.purchase_stage
        else {"en": "early", "zh": "早期"},
        "timeline": _both(opp.timeline if opp and opp.timeline else ""),
        "role_work": t["role_work"][role], "role_consequence": t["role_consequence"][role],
    }
    v["competitor_sentence"] = _fill(t["competitor_sentence"][known], v)
    v["competitor_short"] = _fill(t["competitor_short"][known], v)
    v["timeline_sentence"] = _fill(t["timeline_sentence"]["known" if opp and opp.timeline else "unknown"], v)
    v["current_sentence"] = _fill(t["current_sentence"][known], v)

    needs = [n.description for n in account.needs][-3:]
    problem_texts: List[Dict[str, str]] = [_both(n) for n in needs]
    for generic in t["generic_problems"][role]:
        if len(problem_texts) >= 3:
            break
        problem_texts.append(generic)
    facts: Dict[str, List[Dict[str, Any]]] = {"situation": [], "problem": [], "implication": [], "need_payoff": []}
    for fact in t["situation"]:
        facts["situation"].append({"id": fact["id"], "keys": fact["keys"], "say": _fill(fact["say"], v)})
    for i, need in enumerate(problem_texts, 1):
        nv = dict(v, need=need)
        keys = {"en": _keys(need["en"])["en"] + ["problem", "difficult", "challenge", "issue"],
                "zh": _keys(need["zh"])["zh"] + ["问题", "困难", "头疼", "挑战"]}
        facts["problem"].append({"id": f"p{i}", "keys": keys, "say": _fill(t["problem_from_need"], nv),
                                 "label": need})
        facts["implication"].append({"id": f"i{i}", "requires": f"p{i}",
                                     "keys": {"en": keys["en"] + ["impact", "cost", "affect", "lead"],
                                              "zh": keys["zh"] + ["影响", "损失", "后果", "导致"]},
                                     "say": _fill(t["implication_from_need"], nv), "label": need})
    for i in range(1, min(2, len(problem_texts)) + 1):
        facts["need_payoff"].append({"id": f"n{i}", "requires": f"p{i}",
                                     "keys": {"en": ["help", "solve", "worth", "mean", "benefit"],
                                              "zh": ["帮助", "解决", "价值", "意味", "好处"]},
                                     "say": _fill(t["need_payoff_from_need"], v)})
    objections = [
        {"id": "o_pitch", "when": "early_pitch", "say": _fill(t["objections"]["early_pitch"][attitude], v),
         "handled": t["objections"]["handled"]},
        {"id": "o_discount", "when": "early_discount", "say": t["objections"]["early_discount"],
         "handled": t["objections"]["handled"]},
        {"id": "o_turn", "when": "turn", "turn": 3 if attitude == "opponent" else 5,
         "say": _fill(t["objections"]["turn"][attitude], v), "handled": t["objections"]["handled"]},
        {"id": "o_role", "when": "turn", "turn": 7, "say": t["objections"]["role_turn"][role],
         "handled": t["objections"]["handled"]},
    ]
    lines = {k: (val[attitude] if k == "small_talk" else val) for k, val in t["lines"].items()}
    return {
        "id": f"own:{person.id}",
        "account_id": account.id,  # its score card shows the person: deleted with them
        "title": _fill(t["title"], v),
        "difficulty": 3 if attitude == "opponent" else (1 if attitude == "supporter" else 2),
        "setting": _fill(t["setting"], v),
        "guarded": attitude == "opponent" or person.relationship_stage in (None, "acquainted") and attitude != "supporter",
        "persona": {"name": _both(person.name), "title": v["title"], "buying_role": role,
                    "attitude": attitude,
                    "personality": _fill(t["personality"][attitude], v),
                    "cares_about": t["cares_about"][role],
                    "opening": _fill(t["opening"][attitude], v)},
        "facts": facts,
        "objections": objections,
        "lines": lines,
    }
