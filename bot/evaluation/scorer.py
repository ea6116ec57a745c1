"""How well the role-play scorer agrees with hand scores (tests/roleplay_labelled).

Two sets of hand scores for the same 24 transcripts (12 English, 12 Chinese):
`human_score` in each transcript, scored by applying the written rubric
criteria step by step; and `holistic_scores.yml`, scored independently by a
second rater acting as a sales trainer, who saw only the rubric's overview and
the scenarios (no criteria arithmetic, no other scores).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import yaml

from bot import REPO_DIR
from bot.roleplay.engine import load_scenario, replay
from bot.roleplay.scoring import score

LABELLED_DIR = REPO_DIR / "tests" / "roleplay_labelled"


@dataclass
class Agreement:
    rows: List[Tuple[str, str, str, int, int, int]]  # id, scenario, lang, rubric hand score, holistic, scorer

    def _pairs(self, column: int) -> Tuple[List[int], List[int]]:
        return [r[column] for r in self.rows], [r[5] for r in self.rows]

    def mad(self, column: int = 3) -> float:
        """Mean absolute difference between the scorer and hand scores (3: rubric, 4: holistic)."""
        human, scorer = self._pairs(column)
        return sum(abs(h - s) for h, s in zip(human, scorer, strict=False)) / len(self.rows)

    def rho(self, column: int = 3) -> float:
        """Spearman rank correlation between the scorer and hand scores (3: rubric, 4: holistic)."""
        return spearman(*self._pairs(column))

    @property
    def mean_absolute_difference(self) -> float:
        return self.mad(3)

    @property
    def spearman(self) -> float:
        return self.rho(3)


def _ranks(values: List[float]) -> List[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: List[float], b: List[float]) -> float:
    """Spearman rank correlation (ties get average ranks)."""
    ra, rb = _ranks(a), _ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=False))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def agreement(folder: Path = LABELLED_DIR) -> Agreement:
    holistic = yaml.safe_load((folder / "holistic_scores.yml").read_text(encoding="utf-8"))
    rows = []
    for path in sorted(folder.glob("t[0-9]*.yml")):
        item = yaml.safe_load(path.read_text(encoding="utf-8"))
        practice = replay(load_scenario(item["scenario"]), item["moves"], item.get("lang", "en"))
        rows.append((item["id"], item["scenario"], item.get("lang", "en"), int(item["human_score"]),
                     int(holistic[item["id"]]), score(practice).total))
    return Agreement(rows)


def format_agreement(result: Agreement) -> str:
    lines = [f"{'id':6}{'scenario':20}{'lang':9}{'rubric':>7}{'holistic':>9}{'scorer':>8}"]
    for tid, scenario, lang, human, holistic, scorer in result.rows:
        lines.append(f"{tid:6}{scenario:20}{lang:9}{human:>7}{holistic:>9}{scorer:>8}")
    lines.append(f"\n{len(result.rows)} transcripts")
    lines.append(f"  vs rubric-applied hand scores:  mean absolute difference {result.mad(3):.1f} points, "
                 f"Spearman {result.rho(3):.2f}")
    lines.append(f"  vs independent holistic scores: mean absolute difference {result.mad(4):.1f} points, "
                 f"Spearman {result.rho(4):.2f}")
    return "\n".join(lines)
