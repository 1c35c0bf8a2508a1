"""Section 6 metrics of many combinations over a window of days, in compiled code.

The readable reference is :func:`backtest.strategy.metrics.combo_metrics` (one
combination, numpy). This module scores a whole *panel* at once: every
combination's trades over the run's span, stored compactly (the trading day, ``r`` and
``pnl_money`` of each trade, in entry order) plus the days its lot skip hit. A window
``lo_day..hi_day`` (day numbers, inclusive) is a slice of that panel: trades never span
days (an open position is closed at ``close_time`` or the day's last bar, spec section
3.4), so the trades of a separate run over the window are exactly the panel's trades on
the window's days, and its metrics are these (``tests/analysis/test_window_slices.py``).

Floats are summed in trade order, where numpy's ``sum`` is pairwise: values agree with
the reference to ~1e-12 relative, integers and flags exactly
(``tests/strategy/test_metrics_nb.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from backtest.strategy.metrics import SQRT_252
from backtest.strategy.risk_manager import LIMIT_TOLERANCE_PCT

# Columns of the float and integer outputs of window_metrics_nb, in order.
FLOAT_COLUMNS = (
    "total_r",
    "gross_win_r",
    "gross_loss_r",
    "max_dd_r",
    "sharpe",
    "total_pnl",
    "worst_day_r",
    "max_daily_loss_pct",
    "max_drawdown_pct",
)
INT_COLUMNS = ("trades", "wins", "losses", "max_losing_streak", "skipped", "days_traded")


@njit(cache=True, nogil=True)
def window_metrics_nb(
    offsets, day, r, pnl, skip_offsets, skip_day, lo_day, hi_day, n_days, account, out_f, out_i
):
    """Score combination ``c`` on its trades ``offsets[c]:offsets[c+1]`` whose day lies in
    ``lo_day..hi_day``; ``n_days`` is the number of trading days in the window (sharpe).

    ``out_f[c]`` gets FLOAT_COLUMNS, ``out_i[c]`` INT_COLUMNS. ``worst_day_r`` is NaN
    with no trades. The money view starts from ``account`` at the window's start, as a
    separate run over the window would.
    """
    n_combos = len(offsets) - 1
    longest = 1
    for c in range(n_combos):
        longest = max(longest, offsets[c + 1] - offsets[c])
    scratch = np.empty(longest)
    for c in range(n_combos):
        a = _first_at_or_after(day, offsets[c], offsets[c + 1], lo_day)
        b = _first_at_or_after(day, a, offsets[c + 1], hi_day + 1)
        total = 0.0
        gross_win = 0.0
        gross_loss = 0.0
        peak_r = 0.0
        max_dd = 0.0
        wins = 0
        losses = 0
        streak = 0
        longest = 0
        total_pnl = 0.0
        balance = account
        peak_bal = account
        max_dd_pct = 0.0
        max_day_loss = 0.0
        day_start_bal = account
        day_low = account
        k = 0  # days with a trade
        for i in range(a, b):
            if i == a or day[i] != day[i - 1]:
                if i > a:
                    max_day_loss = max(max_day_loss, day_start_bal - day_low)
                    k += 1
                scratch[k] = 0.0
                day_start_bal = balance
                day_low = balance
            x = r[i]
            scratch[k] += x
            total += x
            if x > 0:
                gross_win += x
                wins += 1
            if x < 0:
                gross_loss += x
                losses += 1
                streak += 1
                longest = max(longest, streak)
            else:
                streak = 0
            peak_r = max(peak_r, total)
            max_dd = max(max_dd, peak_r - total)
            total_pnl += pnl[i]
            balance = account + total_pnl
            day_low = min(day_low, balance)
            peak_bal = max(peak_bal, balance)
            max_dd_pct = max(max_dd_pct, (peak_bal - balance) * 100.0 / peak_bal)
        if b > a:
            max_day_loss = max(max_day_loss, day_start_bal - day_low)
            k += 1
        out_f[c, 0] = total
        out_f[c, 1] = gross_win
        out_f[c, 2] = gross_loss
        out_f[c, 3] = max_dd
        out_f[c, 4] = _sharpe(scratch, k, n_days)
        out_f[c, 5] = total_pnl
        out_f[c, 6] = _lowest(scratch, k)
        out_f[c, 7] = max_day_loss * 100.0 / account
        out_f[c, 8] = max_dd_pct
        skipped = 0
        for s in range(skip_offsets[c], skip_offsets[c + 1]):
            if lo_day <= skip_day[s] <= hi_day:
                skipped += 1
        out_i[c, 0] = b - a
        out_i[c, 1] = wins
        out_i[c, 2] = losses
        out_i[c, 3] = longest
        out_i[c, 4] = skipped
        out_i[c, 5] = k


@njit(cache=True, nogil=True)
def _first_at_or_after(day, lo, hi, target):
    """The first index in ``lo..hi`` whose ``day >= target`` (``day`` sorted); ``hi`` if none."""
    while lo < hi:
        mid = (lo + hi) // 2
        if day[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _lowest(values, k):
    """The lowest of ``values[:k]``; NaN when ``k == 0``."""
    if k == 0:
        return np.nan
    low = values[0]
    for i in range(1, k):
        low = min(low, values[i])
    return low


@njit(cache=True, nogil=True)
def _sharpe(traded, k, n_days):
    """As :func:`backtest.strategy.metrics.sharpe` over ``traded[:k]`` (the days with a
    trade; the other ``n_days - k`` days count as 0 R)."""
    if n_days < 2 or k == 0:
        return 0.0
    lowest, highest, total = traded[0], traded[0], 0.0
    for i in range(k):
        lowest = min(lowest, traded[i])
        highest = max(highest, traded[i])
        total += traded[i]
    if lowest == highest and (k == n_days or lowest == 0.0):
        return 0.0
    mean = total / n_days
    ss = 0.0
    for i in range(k):
        ss += (traded[i] - mean) * (traded[i] - mean)
    ss += (n_days - k) * mean * mean
    std = math.sqrt(ss / (n_days - 1))
    if std == 0.0:
        return 0.0
    return mean / std * SQRT_252


def window_metrics(
    panel: Any,
    lo_day: int,
    hi_day: int,
    n_days: int,
    account_size: float,
    daily_limit_pct: float,
    max_limit_pct: float,
) -> dict[str, np.ndarray]:
    """Every combination's section-6 metrics over ``lo_day..hi_day``, one array per name.

    ``panel`` has the compact arrays ``offsets, day, r, pnl, skip_offsets, skip_day``
    (:func:`backtest.strategy.daily.compact_trades`). ``profit_factor`` is NaN where the
    spec says null (no losing trade); ``worst_day_r`` NaN with no trades.
    """
    n = len(panel.offsets) - 1
    out_f = np.zeros((n, len(FLOAT_COLUMNS)))
    out_i = np.zeros((n, len(INT_COLUMNS)), dtype=np.int64)
    window_metrics_nb(
        panel.offsets,
        panel.day,
        panel.r,
        panel.pnl,
        panel.skip_offsets,
        panel.skip_day,
        lo_day,
        hi_day,
        n_days,
        float(account_size),
        out_f,
        out_i,
    )
    cols: dict[str, np.ndarray] = {name: out_f[:, j] for j, name in enumerate(FLOAT_COLUMNS)}
    cols.update({name: out_i[:, j] for j, name in enumerate(INT_COLUMNS)})
    trades = cols["trades"]
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["winrate"] = np.where(trades > 0, cols["wins"] / np.maximum(trades, 1), 0.0)
        cols["avg_r"] = np.where(trades > 0, cols["total_r"] / np.maximum(trades, 1), 0.0)
        cols["profit_factor"] = np.where(
            cols["losses"] > 0, cols["gross_win_r"] / -cols["gross_loss_r"], np.nan
        )
    cols["prop_ok"] = (cols["max_daily_loss_pct"] <= daily_limit_pct + LIMIT_TOLERANCE_PCT) & (
        cols["max_drawdown_pct"] <= max_limit_pct + LIMIT_TOLERANCE_PCT
    )
    return cols


def metrics_dict(cols: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    """Combination ``i``'s metrics in the shape of ``combo_metrics`` (nulls as None)."""
    from backtest.strategy.metrics import METRIC_KEYS

    out: dict[str, Any] = {}
    for key in METRIC_KEYS:
        value = cols[key][i].item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[key] = value
    return out
