"""Renders a score card and hints in the rep's language (texts from rubric.yml)."""
from __future__ import annotations

from typing import Any, Dict, List

from bot.language import base_language
from bot.roleplay.engine import Practice, say
from bot.roleplay.scoring import SKILLS, ScoreCard, rubric


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def _t(entry: Dict[str, Any], lang: str, **params: Any) -> str:
    return say(entry, lang).format_map(_Params(params))


def render_card(practice: Practice, card: ScoreCard, lang: str) -> str:
    """The score card as chat text (simplified Chinese or English; the sender converts the script)."""
    r = rubric()
    c = r["card"]
    zh = base_language(lang) == "zh"
    scenario = say(practice.scenario.get("title") or {}, lang)
    lines = [_t(c["title"], lang, scenario=scenario, score=card.total)]
    counts = dict(card.counts)
    counts.update({f"p_{k}": v for k, v in card.shares.items()})
    lines.append(_t(c["counts"], lang, total=len(practice.turns), **counts))
    found = {k: v[0] for k, v in card.uncovered.items()}
    totals = {f"{k}_total": v[1] for k, v in card.uncovered.items()}
    lines.append(_t(c["uncovered"], lang, problems=found["problem"], implications=found["implication"],
                    payoffs=found["need_payoff"], problems_total=totals["problem_total"],
                    implications_total=totals["implication_total"], payoffs_total=totals["need_payoff_total"]))
    missed = [say(f.get("label") or f["say"], lang) for kind in ("problem", "implication")
              for f in practice.facts(kind) if f["id"] not in practice.revealed][:3]
    if missed:
        sep = "；" if zh else "; "
        lines.append(_t(c["missed"], lang, missed=sep.join(_short(m, zh) for m in missed)))
    lines.append(_t(c["premature"], lang, count=len(card.premature)))
    lines.append(_t(c["objections"], lang, handled=len(card.objections_handled), fired=len(card.objections_fired)))
    lines.append(_t(c[f"advance_{card.advance}"], lang))
    skills = r["skills"]
    parts = [f"{say(skills[s], lang)} {card.points[s]}/{skills[s]['points']}" for s in SKILLS]
    lines.append(_t(c["breakdown"], lang, breakdown=("，" if zh else ", ").join(parts)))
    if card.tips:
        lines.append(_t(c["tips_header"], lang))
        for i, (key, quote) in enumerate(card.tips, 1):
            lines.append(f"{i}. " + _t(r["tips"][key], lang, quote=quote if quote else "…"))
    lines.append(_t(c["drill"], lang, drill=say(r["drills"][card.weakest], lang)))
    return "\n".join(lines)


def _short(text: str, zh: bool, limit: int = 40) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + "…"


def render_hint(practice: Practice, lang: str) -> str:
    """An out-of-character hint from the practice state."""
    h = rubric()["hint"]
    if practice.pending:
        key = "objection"
    elif not practice.revealed_of("problem"):
        key = "no_problem"
    elif not practice.revealed_of("implication"):
        key = "implication"
    elif not practice.revealed_of("need_payoff"):
        key = "need_payoff"
    else:
        key = "advance"
    return say(h[key], lang)


def history_lines(rows: List[Dict[str, Any]], lang: str) -> List[str]:
    """Per-skill trend as text: first → latest score per skill over the sessions given."""
    skills = rubric()["skills"]
    out = []
    for s in SKILLS:
        values = [row["skills"].get(s, 0) for row in rows]
        if not values:
            continue
        trend = " → ".join(str(v) for v in values[-6:])
        out.append(f"{say(skills[s], lang)}: {trend}")
    return out
