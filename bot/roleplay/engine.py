"""The simulated buyer: answers the rep's moves in character and keeps score-relevant state.

Pure Python over scenario data (see docs/roleplay.md); the Rasa actions only
pass in the classified move and the rep's words and send back the reply.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any, Dict, List, Optional

import yaml

from bot import CONTENT_DIR
from bot.language import base_language, to_simplified

SCENARIO_DIR = CONTENT_DIR / "roleplay" / "scenarios"
SPIN_MOVES = {"spin_situation": "situation", "spin_problem": "problem", "spin_implication": "implication",
              "spin_need_payoff": "need_payoff"}
MOVES = tuple(SPIN_MOVES) + ("pitch_product", "offer_discount", "ask_commitment", "handle_objection", "small_talk")
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")


@cache
def load_scenario(scenario_id: str) -> Dict[str, Any]:
    path = SCENARIO_DIR / f"{scenario_id}.yml"
    if not path.exists() or not re.fullmatch(r"[a-z0-9_]+", scenario_id):
        raise KeyError(scenario_id)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def scenario_ids() -> List[str]:
    """All scenarios, easiest first."""
    ids = [p.stem for p in SCENARIO_DIR.glob("*.yml")]
    return sorted(ids, key=lambda i: (load_scenario(i).get("difficulty", 2), i))


def say(entry: Dict[str, Any], lang: str) -> str:
    return (entry.get(base_language(lang)) or entry.get("en") or "").strip()


def move_of(intent: Optional[str]) -> str:
    """The rep's move for an NLU intent (rep lines misread as a coaching report count as handling)."""
    if intent in MOVES:
        return intent
    if intent and intent.startswith("objection_"):
        return "handle_objection"
    if intent in ("greet", "thank", "goodbye"):
        return "small_talk"
    return "other"


def _bigrams(text: str) -> set:
    t = re.sub(r"\s+", "", to_simplified(text.lower()))
    return {t[i:i + 2] for i in range(len(t) - 1)} or {t}


def similar(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def is_vague(text: str) -> bool:
    """Too short to be a real question ("and?", "说说看", "anything else")."""
    t = to_simplified(text).strip()
    han = len(re.findall(r"[\u4e00-\u9fff]", t))
    words = len(re.findall(r"[A-Za-z]+", t))
    return (han < 4 and words < 3) or bool(re.fullmatch(r"(anything else|what else|and|so|还有吗|还有呢|然后呢|说说看)[?？!！。.]*",
                                                 t.lower()))


@dataclass
class Turn:
    """One exchange: the rep's move and words, and what it achieved."""

    move: str
    text: str
    reply: str = ""
    revealed: Optional[str] = None        # fact id revealed by this move
    objection: Optional[str] = None       # objection id fired after this move
    handled: Optional[str] = None         # objection id this move handled
    premature: bool = False               # pitch/discount/commitment before the need was established
    repeat: bool = False
    vague: bool = False


@dataclass
class Practice:
    """The state of one practice; serialisable into the tracker as a dict."""

    scenario: Dict[str, Any]
    lang: str = "en"
    turns: List[Turn] = field(default_factory=list)
    revealed: List[str] = field(default_factory=list)
    fired: List[str] = field(default_factory=list)
    pending: Optional[str] = None
    guarded_asked: List[str] = field(default_factory=list)  # fact types a guarded buyer deflected once
    advance: Optional[str] = None        # "right_time" once an advance was agreed, "too_early" if only asked early

    # -- serialisation --------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Practice":
        data = dict(data)
        data["turns"] = [Turn(**t) for t in data.get("turns", [])]
        return cls(**data)

    # -- facts ------------------------------------------------------------------
    def facts(self, kind: str) -> List[Dict[str, Any]]:
        return list((self.scenario.get("facts") or {}).get(kind) or [])

    def fact(self, fact_id: str) -> Optional[Dict[str, Any]]:
        for kind in ("situation", "problem", "implication", "need_payoff"):
            for f in self.facts(kind):
                if f["id"] == fact_id:
                    return f
        return None

    def revealed_of(self, kind: str) -> List[str]:
        ids = {f["id"] for f in self.facts(kind)}
        return [r for r in self.revealed if r in ids]

    def line(self, key: str) -> str:
        return say((self.scenario.get("lines") or {}).get(key) or {}, self.lang)

    # -- the buyer ----------------------------------------------------------------
    def opening(self) -> str:
        return say(self.scenario["persona"]["opening"], self.lang)

    def respond(self, move: str, text: str) -> Turn:
        """The buyer's answer to one rep move; updates the practice state."""
        turn = Turn(move=move, text=text)
        turn.repeat = any(t.move == move and similar(t.text, text) >= 0.8 for t in self.turns)
        parts: List[str] = []
        if self.pending and move == "handle_objection":
            objection = self._objection(self.pending)
            turn.handled = self.pending
            self.pending = None
            parts.append(say(objection["handled"], self.lang))
        elif move in SPIN_MOVES:
            parts.append(self._answer_question(turn, SPIN_MOVES[move]))
        elif move == "pitch_product":
            if not self.revealed_of("implication"):
                turn.premature = True
                parts.append(self._fire("early_pitch", turn) or self.line("vague"))
            else:
                parts.append(self.line("pitch_ok"))
        elif move == "offer_discount":
            if not self.revealed_of("need_payoff"):
                turn.premature = True
                parts.append(self._fire("early_discount", turn) or self.line("discount"))
            else:
                parts.append(self.line("discount"))
        elif move == "ask_commitment":
            if self.revealed_of("need_payoff"):
                self.advance = "right_time"
                parts.append(self.line("commitment_yes"))
            else:
                turn.premature = True
                if self.advance is None:
                    self.advance = "too_early"
                parts.append(self._fire("early_commitment", turn) or self.line("commitment_not_yet"))
        elif move == "handle_objection":
            parts.append(self.line("other"))
        elif move == "small_talk":
            parts.append(self.line("small_talk"))
        else:
            parts.append(self.line("other"))
        self.turns.append(turn)
        scheduled = self._scheduled(len(self.turns))
        if scheduled:
            parts.append(scheduled)
            turn.objection = turn.objection or self.pending
        turn.reply = "\n".join(p for p in parts if p)
        return turn

    def _answer_question(self, turn: Turn, kind: str) -> str:
        if turn.repeat:
            return self.line("repeat")
        if kind == "need_payoff" and not self.revealed_of("problem"):
            return self.line("too_early_need_payoff")
        if is_vague(turn.text):
            turn.vague = True
            return self.line("vague")
        if self.scenario.get("guarded") and kind in ("problem", "implication") and kind not in self.guarded_asked:
            self.guarded_asked.append(kind)
            return self.line("guarded") or self.line("vague")
        open_facts = [f for f in self.facts(kind) if f["id"] not in self.revealed]
        ready = [f for f in open_facts if not f.get("requires") or f["requires"] in self.revealed]
        if not ready:
            return self.line("nothing_more") if not open_facts else self.line("vague")
        best = max(ready, key=lambda f: self._overlap(f, turn.text))
        if self._overlap(best, turn.text) == 0:
            best = ready[0]
        self.revealed.append(best["id"])
        turn.revealed = best["id"]
        return say(best["say"], self.lang)

    @staticmethod
    def _overlap(fact: Dict[str, Any], text: str) -> int:
        norm = to_simplified(text.lower())
        keys = fact.get("keys") or {}
        return sum(1 for k in list(keys.get("en") or []) + list(keys.get("zh") or [])
                   if to_simplified(str(k).lower()) in norm)

    def _objection(self, objection_id: str) -> Dict[str, Any]:
        return next(o for o in self.scenario.get("objections") or [] if o["id"] == objection_id)

    def _fire(self, when: str, turn: Turn) -> Optional[str]:
        for objection in self.scenario.get("objections") or []:
            if objection.get("when") == when and objection["id"] not in self.fired:
                self.fired.append(objection["id"])
                self.pending = objection["id"]
                turn.objection = objection["id"]
                return say(objection["say"], self.lang)
        return None

    def _scheduled(self, turn_no: int) -> Optional[str]:
        """An objection that fires at its turn anyway (once nothing else is pending)."""
        if self.pending:
            return None
        for objection in self.scenario.get("objections") or []:
            if objection.get("when") == "turn" and objection["id"] not in self.fired \
                    and turn_no >= int(objection.get("turn", 5)):
                self.fired.append(objection["id"])
                self.pending = objection["id"]
                return say(objection["say"], self.lang)
        return None

    def hint_facts(self) -> Dict[str, int]:
        """How many facts of each kind are still hidden (for hints)."""
        return {k: len([f for f in self.facts(k) if f["id"] not in self.revealed])
                for k in ("situation", "problem", "implication", "need_payoff")}


def start(scenario: Dict[str, Any], lang: str) -> Practice:
    return Practice(scenario=scenario, lang=lang)


def replay(scenario: Dict[str, Any], moves: List[Dict[str, str]], lang: str = "en") -> Practice:
    """Runs a whole transcript [{move, text}, …] through the buyer (for scoring and tests)."""
    practice = start(scenario, lang)
    for m in moves:
        practice.respond(m["move"], m["text"])
    return practice


def tokens(text: str) -> List[str]:
    return _WORD.findall(to_simplified(text.lower()))
