"""Metrics of one combination over a period (spec section 6), as pure functions.

Every metric is a small function on plain numpy arrays so that a test can feed
it hand-made numbers; :func:`combo_metrics` values the trades once
(:func:`backtest.strategy.trades.trade_values`) and assembles the JSON-ready dict that
both engines' results go through. A sweep scores thousands of combinations, so
everything here is numpy only and the per-bars work (the number of trading
days) is cached.

Trades arrive in entry order; with one position at a time that is also exit
order, the order in which R and the balance accumulate.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.strategy.risk_manager import max_daily_loss_pct, max_drawdown_pct, prop_ok
from backtest.strategy.trades import trade_values

SQRT_252 = math.sqrt(252.0)

METRIC_KEYS = (
    "trades",
    "winrate",
    "total_r",
    "avg_r",
    "profit_factor",
    "max_dd_r",
    "sharpe",
    "total_pnl",
    "worst_day_r",
    "max_losing_streak",
    "skipped",
    "max_daily_loss_pct",
    "max_drawdown_pct",
    "prop_ok",
)


def winrate(r: np.ndarray) -> float:
    """Share of trades with ``r > 0`` (a fraction; 0 with no trades)."""
    return float(np.count_nonzero(r > 0) / len(r)) if len(r) else 0.0


def total_r(r: np.ndarray) -> float:
    return float(r.sum())


def avg_r(r: np.ndarray) -> float:
    """Mean R per trade (0 with no trades)."""
    return float(r.sum() / len(r)) if len(r) else 0.0


def profit_factor(r: np.ndarray) -> float | None:
    """Σ positive r / |Σ negative r|; None when no trade lost (``r < 0``)."""
    losses = r[r < 0]
    if len(losses) == 0:
        return None
    return float(r[r > 0].sum() / -losses.sum())


def max_dd_r(r: np.ndarray) -> float:
    """Largest fall of cumulative R from its running peak (peak starts at 0)."""
    if len(r) == 0:
        return 0.0
    equity = np.cumsum(r)
    peak = np.maximum(np.maximum.accumulate(equity), 0.0)
    return float(max((peak - equity).max(), 0.0))


def max_losing_streak(r: np.ndarray) -> int:
    """Most consecutive trades with ``r < 0``; a win or an ``r == 0`` trade ends a run."""
    not_loss = np.flatnonzero(r >= 0)
    bounds = np.empty(len(not_loss) + 2, dtype=np.intp)
    bounds[0], bounds[1:-1], bounds[-1] = -1, not_loss, len(r)
    # a run of losses sits between two consecutive non-losses (or the ends)
    return int((bounds[1:] - bounds[:-1]).max()) - 1


def day_starts(day: np.ndarray) -> np.ndarray:
    """Index of each day's first trade, for trades in day order (for ``reduceat``)."""
    if len(day) == 0:
        return np.zeros(0, dtype=np.intp)
    return np.concatenate(([0], np.flatnonzero(day[1:] != day[:-1]) + 1))


def daily_r(r: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Σ r of each day that has a trade (``starts`` from :func:`day_starts`)."""
    if len(r) == 0:
        return np.zeros(0, dtype=np.float64)
    return np.add.reduceat(r, starts)


def sharpe(traded_day_r: np.ndarray, n_days: int) -> float:
    """mean / std (ddof 1) × √252 of the daily R over ``n_days`` trading days.

    ``traded_day_r`` holds the days with a trade; the other
    ``n_days - len(traded_day_r)`` days count as 0 R (docs/READINGS.md, reading 7). 0 when the
    std is 0 or there are fewer than 2 days.
    """
    if n_days < 2 or _all_days_equal(traded_day_r, n_days):
        return 0.0
    mean = traded_day_r.sum() / n_days
    dev = traded_day_r - mean
    ss = float(dev @ dev) + (n_days - len(traded_day_r)) * mean * mean
    std = math.sqrt(ss / (n_days - 1))
    if std == 0.0:
        return 0.0
    return float(mean / std * SQRT_252)


def _all_days_equal(traded_day_r: np.ndarray, n_days: int) -> bool:
    """Whether every one of the ``n_days`` daily R values is the same number.

    Their std is then exactly 0 (spec: sharpe 0), which the float sum of squared
    deviations misses: three days of 0.1 R give a mean of 0.10000000000000002,
    a std of ~1e-17 and a sharpe of ~1e17.
    """
    if len(traded_day_r) == 0:
        return True
    lowest, highest = traded_day_r.min(), traded_day_r.max()
    return bool(lowest == highest and (len(traded_day_r) == n_days or lowest == 0.0))


def worst_day_r(traded_day_r: np.ndarray) -> float | None:
    """Lowest daily R over the days with a trade; None with no trades."""
    return float(traded_day_r.min()) if len(traded_day_r) else None


_DAY_COUNTS: dict[int, tuple[weakref.ref, int]] = {}


def trading_day_count(bars: Bars) -> int:
    """``len(bars.trading_days())``, cached per day array (a sweep asks thousands of times)."""
    key = id(bars.day)
    hit = _DAY_COUNTS.get(key)
    if hit is not None and hit[0]() is bars.day:
        return hit[1]
    count = len(bars.trading_days())
    if len(_DAY_COUNTS) >= 16:
        _DAY_COUNTS.clear()
    _DAY_COUNTS[key] = (weakref.ref(bars.day), count)
    return count


def combo_metrics(
    trades: np.ndarray, skipped: int, bars: Bars, settings: RunSettings
) -> dict[str, Any]:
    """The spec section 6 metrics of one combination, JSON-ready.

    ``bars`` is the period slice the trades index into; ``trades`` are in
    entry order (sorted here if they are not).
    """
    entry_bar = trades["entry_bar"]
    if (entry_bar[1:] < entry_bar[:-1]).any():
        trades = trades[np.argsort(trades["entry_bar"], kind="stable")]
    values = trade_values(trades, bars)
    r = values["r"]
    pnl = values["pnl_money"]
    starts = day_starts(values["day"])
    per_day = daily_r(r, starts)
    daily_loss = max_daily_loss_pct(pnl, starts, settings.account_size)
    drawdown = max_drawdown_pct(pnl, settings.account_size)
    return {
        "trades": int(len(trades)),
        "winrate": winrate(r),
        "total_r": total_r(r),
        "avg_r": avg_r(r),
        "profit_factor": profit_factor(r),
        "max_dd_r": max_dd_r(r),
        "sharpe": sharpe(per_day, trading_day_count(bars)),
        "total_pnl": float(pnl.sum()),
        "worst_day_r": worst_day_r(per_day),
        "max_losing_streak": max_losing_streak(r),
        "skipped": int(skipped),
        "max_daily_loss_pct": daily_loss,
        "max_drawdown_pct": drawdown,
        "prop_ok": prop_ok(
            daily_loss, drawdown, settings.daily_loss_limit_pct, settings.max_loss_limit_pct
        ),
    }
