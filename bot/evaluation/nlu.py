"""NLU quality on the held-out test set: intent accuracy and entity F1 per script.

The held-out set lives in `tests/nlu/heldout/<script>/*.yml`, is never used for
training, and annotates every entity with its canonical value. Entities are
compared as (entity, normalised value) pairs per message, so a correct value
with a slightly different span still counts.
"""
from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from bot import REPO_DIR
from bot.language import name_key

HELDOUT_DIR = REPO_DIR / "tests" / "nlu" / "heldout"
# Written later by someone who saw only docs/nlu-data-guide.md and the contract, never the
# training data or the held-out set, and never used to change the data: the honest figure.
FRESH_DIR = REPO_DIR / "tests" / "nlu" / "fresh"
TEST_SETS = {"heldout": HELDOUT_DIR, "fresh": FRESH_DIR}
SCRIPTS = ("en", "zh-Hans", "zh-Hant")
REP_MOVES = ("spin_situation", "spin_problem", "spin_implication", "spin_need_payoff", "pitch_product",
             "offer_discount", "ask_commitment")


@dataclass
class Example:
    script: str
    text: str
    intent: str
    entities: List[Tuple[str, str]]


@dataclass
class Result:
    example: Example
    intent: Optional[str]
    entities: List[Tuple[str, str]]


def _norm(entity: str, value: Any) -> str:
    value = str(value)
    if entity in ("account", "person", "title", "industry", "competitor", "need", "timeline"):
        return name_key(value)
    try:
        return str(int(float(value))) if float(value).is_integer() else str(float(value))
    except ValueError:
        return value.strip().lower()


def load_examples(root: Path = HELDOUT_DIR) -> List[Example]:
    """All held-out examples with their script."""
    from rasa.shared.nlu.training_data.loading import load_data

    out = []
    for script in SCRIPTS:
        folder = root / script
        paths = sorted(folder.glob("*.yml")) if folder.is_dir() else []
        if (root / f"{script}.yml").is_file():
            paths.append(root / f"{script}.yml")
        for path in paths:
            for m in load_data(str(path)).training_examples:
                ents = [(e["entity"], _norm(e["entity"], e["value"])) for e in m.get("entities") or []]
                out.append(Example(script, m.get("text"), m.get("intent"), ents))
    return out


async def _parse_all(model_path: str, examples: Iterable[Example]) -> List[Result]:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    results = []
    for ex in examples:
        parsed = await agent.parse_message(ex.text)
        ents = [(e["entity"], _norm(e["entity"], e.get("value"))) for e in parsed.get("entities") or []]
        results.append(Result(ex, (parsed.get("intent") or {}).get("name"), ents))
    return results


def parse_all(model_path: str, examples: Iterable[Example]) -> List[Result]:
    return asyncio.run(_parse_all(model_path, list(examples)))


@dataclass
class Report:
    results: List[Result]
    confusions: collections.Counter = field(default_factory=collections.Counter)

    def intent_accuracy(self, script: Optional[str] = None, intents: Optional[Iterable[str]] = None) -> float:
        wanted = set(intents) if intents else None
        rows = [r for r in self.results if (script is None or r.example.script == script)
                and (wanted is None or r.example.intent in wanted)]
        return sum(r.intent == r.example.intent for r in rows) / len(rows) if rows else float("nan")

    def count(self, script: Optional[str] = None, intents: Optional[Iterable[str]] = None) -> int:
        wanted = set(intents) if intents else None
        return sum(1 for r in self.results if (script is None or r.example.script == script)
                   and (wanted is None or r.example.intent in wanted))

    def entity_scores(self, script: Optional[str] = None) -> Dict[str, Tuple[float, float, float, int]]:
        """Precision, recall, F1 and support per entity type, plus 'all' (micro)."""
        tp: collections.Counter = collections.Counter()
        fp: collections.Counter = collections.Counter()
        fn: collections.Counter = collections.Counter()
        for r in self.results:
            if script is not None and r.example.script != script:
                continue
            gold = collections.Counter(r.example.entities)
            pred = collections.Counter(r.entities)
            for (ent, _v), n in (gold & pred).items():
                tp[ent] += n
            for (ent, _v), n in (pred - gold).items():
                fp[ent] += n
            for (ent, _v), n in (gold - pred).items():
                fn[ent] += n
        out = {}
        for ent in sorted(set(tp) | set(fp) | set(fn)) + ["all"]:
            t = sum(tp.values()) if ent == "all" else tp[ent]
            p_ = sum(fp.values()) if ent == "all" else fp[ent]
            n_ = sum(fn.values()) if ent == "all" else fn[ent]
            precision = t / (t + p_) if t + p_ else 0.0
            recall = t / (t + n_) if t + n_ else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[ent] = (precision, recall, f1, t + n_)
        return out

    def errors(self) -> List[Result]:
        return [r for r in self.results if r.intent != r.example.intent]


def evaluate(model_path: str, root: Path = HELDOUT_DIR) -> Report:
    return Report(parse_all(model_path, load_examples(root)))


def format_report(report: Report, show_errors: bool = True, title: str = "") -> str:
    lines = [title or "NLU on the held-out set (tests/nlu/heldout, never trained on)", ""]
    lines.append(f"{'':24}{'all':>10}" + "".join(f"{s:>10}" for s in SCRIPTS))
    lines.append(f"{'examples':24}{report.count():>10}" + "".join(f"{report.count(s):>10}" for s in SCRIPTS))
    lines.append(f"{'intent accuracy':24}{report.intent_accuracy():>10.1%}"
                 + "".join(f"{report.intent_accuracy(s):>10.1%}" for s in SCRIPTS))
    lines.append(f"{'rep moves (7) accuracy':24}{report.intent_accuracy(intents=REP_MOVES):>10.1%}"
                 + "".join(f"{report.intent_accuracy(s, REP_MOVES):>10.1%}" for s in SCRIPTS))
    lines.append(f"{'entity F1 (micro)':24}{report.entity_scores()['all'][2]:>10.1%}"
                 + "".join(f"{report.entity_scores(s)['all'][2]:>10.1%}" for s in SCRIPTS))
    lines.append("")
    lines.append(f"{'entity':20}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}")
    for ent, (p, r, f, n) in report.entity_scores().items():
        lines.append(f"{ent:20}{p:>10.1%}{r:>10.1%}{f:>10.1%}{n:>10}")
    if show_errors:
        errs = report.errors()
        lines.append("")
        lines.append(f"intent errors ({len(errs)}):")
        for r in errs:
            lines.append(f"  [{r.example.script}] {r.example.intent} → {r.intent}: {r.example.text}")
    return "\n".join(lines)
