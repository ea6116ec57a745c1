"""BANT lead qualification (IBM): budget, authority, need, timeline."""
from __future__ import annotations

from typing import Dict, Optional

DIMENSIONS = ("budget", "authority", "need", "timeline")
ANSWERS = ("yes", "no", "unknown")


def verdict(answers: Dict[str, Optional[str]]) -> str:
    """Qualified (4/4), qualified_gap (3/4), nurture (2/4) or disqualify (0–1)."""
    score = sum(1 for d in DIMENSIONS if answers.get(d) == "yes")
    return {4: "qualified", 3: "qualified_gap", 2: "nurture"}.get(score, "disqualify")
