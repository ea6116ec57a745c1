"""Scores a practice against the rubric (bot/content/roleplay/rubric.yml).

Rackham's findings drive the rubric: implication and need-payoff questions
go with success in large sales, situation questions are overused, advantages
stated early provoke objections, and success is an agreed advance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot import CONTENT_DIR
from bot.roleplay.engine import MOVES, Practice, Turn

RUBRIC_FILE = CONTENT_DIR / "roleplay" / "rubric.yml"
QUESTION_MOVES = ("spin_situation", "spin_problem", "spin_implication", "spin_need_payoff")
SKILLS = ("discovery", "question_mix", "situation_restraint", "restraint", "objection_handling", "advance")


@lru_cache(maxsize=1)
def rubric() -> Dict[str, Any]:
    return yaml.safe_load(RUBRIC_FILE.read_text(encoding="utf-8"))


@dataclass
class ScoreCard:
    counts: Dict[str, int]
    shares: Dict[str, int]                      # % of questions per SPIN type
    uncovered: Dict[str, Tuple[int, int]]       # kind -> (found, total)
    premature: List[Turn]
    objections_fired: List[str]
    objections_handled: List[str]
    advance: str                                # right_time | too_early | none
    points: Dict[str, int]                      # skill -> points
    total: int
    tips: List[Tuple[str, Optional[str]]] = field(default_factory=list)  # (tip key, quoted words)
    weakest: str = "discovery"

    def skill_percent(self) -> Dict[str, int]:
        """Each skill as 0–100 (for the practice history trend)."""
        skills = rubric()["skills"]
        return {s: round(100 * self.points[s] / skills[s]["points"]) for s in SKILLS}


def score(practice: Practice) -> ScoreCard:
    """The score card of a finished (or running) practice."""
    skills = rubric()["skills"]
    turns = practice.turns
    counts = {m: sum(1 for t in turns if t.move == m) for m in MOVES}
    questions = sum(counts[m] for m in QUESTION_MOVES)
    shares = {m.replace("spin_", ""): round(100 * counts[m] / questions) if questions else 0 for m in QUESTION_MOVES}
    uncovered = {k: (len(practice.revealed_of(k)), len(practice.facts(k)))
                 for k in ("problem", "implication", "need_payoff")}

    points: Dict[str, int] = {}
    p_found, p_total = uncovered["problem"]
    i_found, i_total = uncovered["implication"]
    points["discovery"] = round(skills["discovery"]["points"] * (
        0.5 * (p_found / p_total if p_total else 0) + 0.5 * (i_found / i_total if i_total else 0)))
    deep = counts["spin_implication"] + counts["spin_need_payoff"]
    deep_share = deep / questions if questions else 0
    points["question_mix"] = round(skills["question_mix"]["points"] * min(1.0, deep_share / 0.4))
    sit_share = counts["spin_situation"] / questions if questions else 1
    restraint_sit = 1.0 if sit_share <= 0.4 else max(0.0, 1 - (sit_share - 0.4) / 0.3)
    points["situation_restraint"] = round(skills["situation_restraint"]["points"] * restraint_sit) if questions else 0
    premature = [t for t in turns if t.premature and t.move in ("pitch_product", "offer_discount")]
    points["restraint"] = max(0, skills["restraint"]["points"] - 5 * len(premature))
    fired = list(practice.fired)
    handled = [t.handled for t in turns if t.handled]
    points["objection_handling"] = round(skills["objection_handling"]["points"] * (len(handled) / len(fired))) \
        if fired else 0
    advance = practice.advance or "none"
    points["advance"] = {"right_time": skills["advance"]["points"], "too_early": 5, "none": 0}[advance]
    if not turns:
        points = {s: 0 for s in SKILLS}
    total = sum(points.values())
    card = ScoreCard(counts, shares, uncovered, premature, fired, handled, advance, points, total)
    card.tips = _tips(practice, card)
    card.weakest = min(SKILLS, key=lambda s: (points[s] / skills[s]["points"], -skills[s]["points"]))
    return card


def _first(turns: List[Turn], **cond: Any) -> Optional[Turn]:
    for t in turns:
        if all(getattr(t, k) == v for k, v in cond.items()):
            return t
    return None


def _tips(practice: Practice, card: ScoreCard) -> List[Tuple[str, Optional[str]]]:
    """Two or three tips, most important first, each quoting the rep's own words where possible."""
    turns = practice.turns
    tips: List[Tuple[str, Optional[str]]] = []
    early_pitch = next((t for t in turns if t.premature and t.move == "pitch_product"), None)
    if early_pitch:
        tips.append(("early_pitch", early_pitch.text))
    early_discount = next((t for t in turns if t.premature and t.move == "offer_discount"), None)
    if early_discount:
        tips.append(("early_discount", early_discount.text))
    if card.uncovered["problem"][0] == 0:
        tips.append(("no_problem", None))
    elif card.uncovered["implication"][0] == 0:
        problem_turn = next((t for t in turns if t.move == "spin_problem" and t.revealed), None)
        tips.append(("no_implication", problem_turn.text if problem_turn else None))
    questions = sum(card.counts[m] for m in QUESTION_MOVES)
    if questions and card.counts["spin_situation"] / questions > 0.5:
        tips.append(("too_many_situation", _first(turns, move="spin_situation").text))
    unhandled = [o for o in card.objections_fired if o not in card.objections_handled]
    if unhandled:
        said = next((t for t in turns if t.objection == unhandled[0]), None)
        quote = said.reply.splitlines()[-1] if said and said.reply else None
        tips.append(("unhandled_objection", quote))
    if card.uncovered["implication"][0] and not card.uncovered["need_payoff"][0]:
        imp = next((t for t in turns if t.move == "spin_implication" and t.revealed), None)
        tips.append(("no_need_payoff", imp.text if imp else None))
    if card.advance == "none":
        tips.append(("no_advance", None))
    elif card.advance == "too_early":
        ask = next((t for t in turns if t.move == "ask_commitment" and t.premature), None)
        tips.append(("early_commitment", ask.text if ask else None))
    good = next((t for t in turns if t.move == "spin_implication" and t.revealed), None)
    if len(tips) < 3 and good:
        tips.append(("good_implication", good.text))
    return tips[:3]
