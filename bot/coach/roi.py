"""ROI and payback from the figures the rep gives (seed 000: budget X, saving Y, payback Z months)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class RoiResult:
    investment: float
    annual_saving: float
    payback_months: Optional[float]  # None when nothing is saved
    roi_3y_percent: float
    net_3y: float


def compute_roi(investment: float, annual_saving: float) -> RoiResult:
    """Payback in months and three-year ROI.

    >>> compute_roi(2_000_000, 800_000).payback_months
    30.0
    """
    if investment <= 0:
        raise ValueError("investment must be positive")
    if annual_saving < 0:
        raise ValueError("annual saving cannot be negative")
    payback = round(investment / (annual_saving / 12), 1) if annual_saving > 0 else None
    net_3y = 3 * annual_saving - investment
    return RoiResult(investment, annual_saving, payback, round(net_3y / investment * 100, 1), net_3y)


def number_text(value: float) -> str:
    """30.0 → '30', 12.5 → '12.5'."""
    return f"{value:g}"
