"""Position size from risk, and the one place that turns points into money.

Spec section 5: lots = floor(risk / (D × point × value_per_point) / step + 1e-9) × step;
below ``volume_min`` the trade is not taken.
"""
from __future__ import annotations

import numpy as np

from backtest.config import SymbolSpec


def lot_size(stop_points: int | np.ndarray, symbol: SymbolSpec, risk: float) -> np.ndarray:
    """Lots for a stop distance ``D`` (points); 0.0 where below ``volume_min``.

    Works on a scalar or an array of D. The result is rounded to 8 decimals so
    that ``37 × 0.01`` prints as 0.37 (the step itself is never finer).
    """
    d = np.asarray(stop_points, dtype=np.float64)
    with np.errstate(divide="ignore"):
        raw = risk / (d * symbol.point * symbol.value_per_point)
    steps = np.floor(raw / symbol.volume_step + 1e-9)
    lots = np.round(steps * symbol.volume_step, 8)
    return np.where(lots < symbol.volume_min - 1e-12, 0.0, lots)


def pnl_money(pnl_points: int | np.ndarray, lots: float | np.ndarray, symbol: SymbolSpec) -> np.ndarray:
    """``pnl_points × point × value_per_point × lots``."""
    return np.asarray(pnl_points, dtype=np.float64) * symbol.point * symbol.value_per_point * np.asarray(lots)
