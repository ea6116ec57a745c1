"""What the coach knows: placeholder values and condition flags from the store.

`account_facts` turns an account (and optionally one of its people) into a
`Facts` object for the playbook engine. Unknown facts get neutral phrases, so
every placeholder renders; flags say what is known (see docs/playbooks.md).
"""
from __future__ import annotations

from typing import List, Optional

from bot import i18n
from bot.coach.engine import Facts, playbook
from bot.store import Account, Stakeholder, TeamScope

EARLY = ("need_emerges", "project_set_up", "info_gathering")
MID = ("technical_screening", "evaluation")
LATE = ("decision", "implementation")

_FALLBACK = {
    "account": ("the account", "这个客户"),
    "stage": ("unknown stage", "阶段未知"),
    "budget": ("unknown budget", "预算未知"),
    "timeline": ("unknown timeline", "时间表未知"),
    "competitor": ("the competitor", "竞争对手"),
    "competitors": ("none known", "暂无"),
    "decider": ("the economic buyer", "拍板的人"),
    "decider_title": ("decision maker", "决策者"),
    "coach": ("an insider", "内线"),
    "technical": ("their technical evaluator", "对方的技术把关人"),
    "top_need": ("their main problem", "他们的核心问题"),
    "needs": ("none recorded yet", "暂无记录"),
    "supporters": ("none known", "暂无"),
    "opponents": ("none known", "暂无"),
    "person": ("your contact", "对方"),
    "person_title": ("title unknown", "职位未知"),
    "person_role": ("role unknown", "角色未知"),
    "person_attitude": ("attitude unknown", "态度未知"),
    "person_stage": ("relationship stage unknown", "关系阶段未知"),
    "person_influence": ("unknown", "未知"),
    "stage_action": ("find out where the purchase stands", "先弄清项目处在哪个采购阶段"),
    "stage_goal": ("know the decision process", "掌握决策流程"),
}


def _both(value: Optional[str], name: str) -> dict:
    if value:
        return {"en": value, "zh": value}
    en, zh = _FALLBACK[name]
    return {"en": en, "zh": zh}


def _label(kind: str, value: str) -> dict:
    return {"en": i18n.label(kind, value, "en"), "zh": i18n.label(kind, value, "zh")}


def _names(people: List[Stakeholder], lang_sep: tuple = (", ", "、")) -> dict:
    return {"en": lang_sep[0].join(p.name for p in people), "zh": lang_sep[1].join(p.name for p in people)}


def empty_facts() -> Facts:
    """Facts when no account is known: every placeholder has its neutral phrase."""
    facts = Facts({name: {"en": en, "zh": zh} for name, (en, zh) in _FALLBACK.items()})
    facts.set("people_count", 0)
    return facts


def deciders(account: Account) -> List[Stakeholder]:
    return [p for p in account.stakeholders if "economic_buyer" in p.roles]


def account_facts(scope: TeamScope, account: Optional[Account], person: Optional[Stakeholder] = None) -> Facts:
    """Facts about an account (and one person) for rendering playbooks."""
    facts = empty_facts()
    if account is None:
        return _person_facts(facts, person)
    facts.flag("account_known")
    facts.set("account", account.name)
    opp = scope.opportunity(account, create=False)
    stage = opp.purchase_stage if opp else None
    if stage:
        entry = playbook("stages").get(stage, {}) if _has_playbook("stages") else {}
        facts.flag("stage_known").flag(f"stage_{stage}")
        facts.flag("early_stage", stage in EARLY).flag("mid_stage", stage in MID).flag("late_stage", stage in LATE)
        facts.put("stage", _label("purchase_stage", stage))
        if entry.get("action"):
            facts.put("stage_action", entry["action"])
        if entry.get("goal"):
            facts.put("stage_goal", entry["goal"])
    if opp and opp.budget is not None:
        facts.flag("budget_known")
        facts.put("budget", {"en": i18n.money(opp.budget, "en"), "zh": i18n.money(opp.budget, "zh")})
    if opp and opp.timeline:
        facts.flag("timeline_known")
        facts.put("timeline", _both(opp.timeline, "timeline"))
    competitors = opp.competitor_list if opp else []
    if competitors:
        facts.flag("competitor_known")
        facts.put("competitor", _both(competitors[0], "competitor"))
        facts.put("competitors", {"en": ", ".join(competitors), "zh": "、".join(competitors)})

    people = list(account.stakeholders)
    facts.set("people_count", len(people))
    facts.flag("single_contact", len(people) <= 1)
    decs = deciders(account)
    if decs:
        main = max(decs, key=lambda p: p.influence or 0)
        facts.flag("decider_known")
        facts.put("decider", _names(decs))
        if main.title:
            facts.put("decider_title", _both(main.title, "decider_title"))
        facts.flag("decider_supportive", main.attitude == "supporter")
        facts.flag("decider_neutral", main.attitude in (None, "neutral"))
        facts.flag("decider_opposed", main.attitude == "opponent")
    technical = [p for p in people if "technical" in p.roles]
    if technical:
        facts.flag("technical_known")
        facts.put("technical", _names(technical))
    coaches = [p for p in people if "coach" in p.roles]
    if coaches:
        facts.flag("coach_known")
        facts.put("coach", _names(coaches))
    supporters = [p for p in people if p.attitude == "supporter"]
    opponents = [p for p in people if p.attitude == "opponent"]
    if supporters:
        facts.put("supporters", _names(supporters))
    if opponents:
        facts.flag("opponent_known")
        facts.put("opponents", _names(opponents))
    needs = list(account.needs)
    if needs:
        facts.flag("need_known")
        facts.put("top_need", _both(needs[-1].description, "top_need"))
        recent = [n.description for n in needs[-3:]]
        facts.put("needs", {"en": "; ".join(recent), "zh": "；".join(recent)})
    return _person_facts(facts, person)


def _person_facts(facts: Facts, person: Optional[Stakeholder]) -> Facts:
    if person is None:
        return facts
    facts.flag("person_known")
    facts.set("person", person.name)
    if person.title:
        facts.set("person_title", person.title)
    if person.roles:
        role = person.roles[0]
        facts.put("person_role", _label("buying_role", role))
        for r in person.roles:
            facts.flag(f"person_role_{r}")
    if person.attitude:
        facts.flag(f"person_attitude_{person.attitude}")
        facts.put("person_attitude", _label("attitude", person.attitude))
    if person.relationship_stage:
        facts.flag(f"person_stage_{person.relationship_stage}")
        facts.put("person_stage", _label("relationship_stage", person.relationship_stage))
    if person.influence is not None:
        facts.set("person_influence", f"{person.influence}%")
    return facts


def _has_playbook(name: str) -> bool:
    from bot.coach.engine import PLAYBOOK_DIR

    return (PLAYBOOK_DIR / f"{name}.yml").exists()
