"""Position size from risk, points into money, and the prop-firm view of the balance.

Spec section 5: lots = floor(risk / (D × point × value_per_point) / step + 1e-9) × step;
below ``volume_min`` the trade is not taken. Spec section 6, prop-firm view: the
largest daily loss and the largest drawdown of the closed-trade balance, against
the firm's limits.
"""

from __future__ import annotations

import numpy as np

from backtest.core.config import SymbolSpec


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


def pnl_money(
    pnl_points: int | np.ndarray, lots: float | np.ndarray, symbol: SymbolSpec
) -> np.ndarray:
    """``pnl_points × point × value_per_point × lots``."""
    return (
        np.asarray(pnl_points, dtype=np.float64)
        * symbol.point
        * symbol.value_per_point
        * np.asarray(lots)
    )


# A loss within this many percentage points of a limit counts as "exactly the
# limit" (money is summed in float64; 5 % of 100 000 must stay inside 5 %).
LIMIT_TOLERANCE_PCT = 1e-9


def max_daily_loss_pct(pnl_money: np.ndarray, starts: np.ndarray, account_size: float) -> float:
    """Largest (day's start balance − day's lowest closed balance) / account × 100.

    The day's lowest balance includes its start balance (docs/READINGS.md, reading 6), so a day
    without a loss contributes 0.
    """
    if len(pnl_money) == 0:
        return 0.0
    balance = account_size + np.cumsum(pnl_money)
    before = np.concatenate(([account_size], balance[:-1]))
    start_balance = before[starts]
    lowest = np.minimum(np.minimum.reduceat(balance, starts), start_balance)
    return float((start_balance - lowest).max() * 100.0 / account_size)


def max_drawdown_pct(pnl_money: np.ndarray, account_size: float) -> float:
    """Largest (running peak − balance) / running peak × 100; the peak starts at account size."""
    if len(pnl_money) == 0:
        return 0.0
    balance = account_size + np.cumsum(pnl_money)
    peak = np.maximum(np.maximum.accumulate(balance), account_size)
    return float(max(((peak - balance) * 100.0 / peak).max(), 0.0))


def prop_ok(
    daily_loss_pct: float, drawdown_pct: float, daily_limit_pct: float, max_limit_pct: float
) -> bool:
    """Both losses at or under their limits (exactly the limit is inside)."""
    return bool(
        daily_loss_pct <= daily_limit_pct + LIMIT_TOLERANCE_PCT
        and drawdown_pct <= max_limit_pct + LIMIT_TOLERANCE_PCT
    )
