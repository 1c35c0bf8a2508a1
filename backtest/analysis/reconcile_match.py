"""The backtest side of a reconcile and its pairing with the live positions: times in the
session time zone, the bars as a server clock off by whole hours would give them, the
re-run over the reconciled days (:class:`Backtest`, the day's IB levels) and
:func:`match_pairs` (same direction, entries within the tolerance, closest pairs first)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from backtest.core.config import SymbolSpec
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars, day_number
from backtest.data.deal_records import HOUR_NS
from backtest.strategy.params import compile_params, distance_points
from backtest.strategy.trades import trade_values


def iso_utc(ns: int | None) -> str | None:
    return None if ns is None else pd.Timestamp(int(ns), tz="UTC").isoformat()


def trading_day_of(ns: int, timezone: str) -> int:
    """The trading day (days since 1970) of a UTC ns time in the session time zone."""
    local = pd.Timestamp(int(ns), tz="UTC").tz_convert(timezone)
    return day_number(local.date())


def local_time(ns: int, timezone: str) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz="UTC").tz_convert(timezone)


def shifted_bars(bars: Bars, hours: int) -> Bars:
    """``bars`` with every time ``hours`` later (the local day, minute and weekday
    recomputed): the bars as a server clock off by that many hours would have given."""
    ns = bars.time_ns + np.int64(hours) * HOUR_NS
    local = pd.DatetimeIndex(ns.astype("datetime64[ns]"), tz="UTC").tz_convert(bars.symbol.timezone)
    naive = local.tz_localize(None)
    day = ((naive.normalize() - pd.Timestamp("1970-01-01")).days).to_numpy(np.int32)
    return replace(
        bars,
        time_ns=ns,
        day=day,
        minute=(local.hour * 60 + local.minute).to_numpy(np.int16),
        weekday=local.dayofweek.to_numpy(np.int8),
    )


# --- matching ---------------------------------------------------------------------------


def match_pairs(
    bt_entry_ns: list[int],
    bt_direction: list[int],
    live_entry_ns: list[int],
    live_direction: list[int],
    tolerance_ns: int,
) -> list[tuple[int, int]]:
    """``(backtest index, live index)`` pairs: same direction, entries at most
    ``tolerance_ns`` apart, each trade in at most one pair; the closest pairs first
    (ties: the earlier backtest trade, then the earlier live position)."""
    candidates = sorted(
        (abs(live - bt), i, j)
        for i, (bt, b_dir) in enumerate(zip(bt_entry_ns, bt_direction))
        for j, (live, l_dir) in enumerate(zip(live_entry_ns, live_direction))
        if b_dir == l_dir and abs(live - bt) <= tolerance_ns
    )
    used_bt: set[int] = set()
    used_live: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i in used_bt or j in used_live:
            continue
        used_bt.add(i)
        used_live.add(j)
        pairs.append((i, j))
    return sorted(pairs)


# --- the backtest side ------------------------------------------------------------------


@dataclass
class Backtest:
    """The re-run's trades over the reconciled days, with what the reasons need."""

    bars: Bars
    trades: np.ndarray  # TRADE_DTYPE
    r: np.ndarray
    spec: SymbolSpec
    params: dict[str, Any]

    def entry_ns(self) -> list[int]:
        return [int(t) for t in self.bars.time_ns[self.trades["entry_bar"]]]

    def exit_ns(self) -> list[int]:
        return [int(t) for t in self.bars.time_ns[self.trades["exit_bar"]]]

    def directions(self) -> list[int]:
        return [int(d) for d in self.trades["direction"]]

    def days(self) -> list[int]:
        return [int(d) for d in self.bars.day[self.trades["entry_bar"]]]


def run_backtest(
    bars: Bars, params: dict[str, Any], settings: RunSettings, engine: str
) -> Backtest:
    from backtest.engines.run import raw_trades

    ((trades, _skipped),) = raw_trades(bars, [params], settings, engine)
    r = trade_values(trades, bars)["r"] if len(trades) else np.zeros(0)
    return Backtest(bars, trades, np.asarray(r, dtype=np.float64), bars.symbol, params)


def day_levels(bars: Bars, day: int, params: dict[str, Any]) -> dict[str, Any] | None:
    """The IB of trading day ``day`` and its entry levels in points (spec section 3):
    ``{"ibh", "ibl", "ib", "long", "short", "first_bar"}``; None without IB bars."""
    cp = compile_params(params, bars.symbol)
    lo = int(np.searchsorted(bars.day, day, side="left"))
    hi = int(np.searchsorted(bars.day, day, side="right"))
    minutes = bars.minute[lo:hi]
    walk = np.flatnonzero(minutes >= cp.ib_end)
    first = lo + int(walk[0]) if len(walk) else hi
    ib = np.arange(lo, first)[minutes[: first - lo] >= cp.ib_start]
    if not len(ib):
        return None
    ibh, ibl = int(bars.high[ib].max()), int(bars.low[ib].min())
    size = ibh - ibl
    buffer = int(distance_points(cp.entry_buffer, size))
    return {
        "ibh": ibh,
        "ibl": ibl,
        "ib": size,
        "long": ibh + buffer,
        "short": ibl - buffer,
        "first_bar": first if first < hi else None,
    }
