"""A run's trades in compact form: what windows, walk-forward and overfitting statistics need.

Per combination, each trade's trading day, ``r``, ``pnl_money`` and adverse excursion in
money (entry order) and the days its lot skip hit, concatenated over the combinations of a
group with offsets. That is 28 bytes a trade instead of a trade record, and enough for
every section-6 metric of any window of days (:mod:`backtest.strategy.metrics_nb`), for the
days × combinations matrix of daily R (:func:`daily_r_matrix`) and for an account's
equity-based daily low (``backtest.analysis.challenge.symbol_days``).

The adverse excursion (``adverse``) is optional: files written before the trades recorded
their excursions (issue 23) lack it, and read back (:meth:`CompactTrades.from_arrays`) it is
None, "closed-trade balance only".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import DTypeLike

from backtest.data.bars import Bars
from backtest.strategy.trades import empty_trades as ordered_empty

FIELDS = ("offsets", "day", "r", "pnl", "skip_offsets", "skip_day")  # in every file
OPTIONAL_FIELDS = ("adverse",)  # where known (files written before it lack it)


@dataclass(frozen=True)
class CompactTrades:
    """Trades of many combinations: combination ``c`` owns ``day/r/pnl[offsets[c]:offsets[c+1]]``
    and ``skip_day[skip_offsets[c]:skip_offsets[c+1]]``."""

    offsets: np.ndarray  # int64, n + 1
    day: np.ndarray  # int32 trading day (Bars.day numbering) of each trade's entry
    r: np.ndarray  # float64
    pnl: np.ndarray  # float64, money
    skip_offsets: np.ndarray  # int64, n + 1
    skip_day: np.ndarray  # int32
    # float64 money <= 0 per trade: its worst open P&L (maximum adverse excursion less the
    # charged costs, valued with its lots, ``trades.trade_adverse``); None: not known
    adverse: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store (``adverse`` only where known)."""
        out = {name: getattr(self, name) for name in FIELDS}
        if self.adverse is not None:
            out["adverse"] = self.adverse
        return out

    @classmethod
    def from_arrays(cls, arrays: Any) -> CompactTrades:
        """Back from :meth:`arrays` (a mapping such as an ``np.load`` of a ``.npz``; a
        missing FIELDS name raises KeyError); an older file's missing ``adverse``: None."""
        names = set(arrays.keys())
        return cls(
            **{name: arrays[name] for name in FIELDS},
            **{name: arrays[name] for name in OPTIONAL_FIELDS if name in names},
        )


def compact_trades(results: list[tuple[np.ndarray, np.ndarray]], bars: Bars) -> CompactTrades:
    """From ``(trades, skip_days)`` per combination (trades index into ``bars``); valued
    once for the whole group (one compiled pass, not one call per combination)."""
    ordered = [
        t
        if not (t["entry_bar"][1:] < t["entry_bar"][:-1]).any()
        else t[np.argsort(t["entry_bar"], kind="stable")]
        for t, _ in results
    ]
    skips = [np.asarray(s, dtype=np.int32) for _, s in results]
    return compact_runs(
        [(np.concatenate(ordered) if ordered else ordered_empty(), None)],
        np.array([len(t) for t in ordered], dtype=np.int64),
        np.array([len(s) for s in skips], dtype=np.int64),
        _concat(skips, np.int32),
        bars,
    )


def compact_runs(
    pieces: list[tuple[np.ndarray, np.ndarray | None]],
    counts: np.ndarray,
    skip_counts: np.ndarray,
    skip_day: np.ndarray,
    bars: Bars,
    excursions: bool = True,
) -> CompactTrades:
    """From the trades of many combinations one after another (``counts[c]`` each, each
    combination's in entry order) and their lot-skip days likewise (``skip_counts[c]``
    each), valued in one compiled pass (:func:`_values_nb`), no copy of the trades.

    The trades come in ``pieces`` of ``(trades, position)``, one piece's after the other's;
    within a piece, trade ``i`` is the ``position[i]``-th (None: the ``i``-th): the values
    are put in that order, the trades stay where they are. Without ``excursions`` (trades
    that recorded none, ``mae`` -1) ``adverse`` is None."""
    n = sum(len(trades) for trades, _ in pieces)
    day, r, pnl, adverse = np.empty(n, np.int32), np.empty(n), np.empty(n), np.empty(n)
    sym = bars.symbol
    at = 0
    for trades, position in pieces:
        k = len(trades)
        _values_nb(
            trades["direction"],
            trades["entry"],
            trades["exit"],
            trades["stop_points"],
            trades["lots"],
            trades["entry_bar"],
            trades["mae"],
            np.arange(k) if position is None else position,
            bars.day,
            sym.charged_points,
            sym.point * 1.0,
            sym.value_per_point * 1.0,
            day[at : at + k],
            r[at : at + k],
            pnl[at : at + k],
            adverse[at : at + k],
        )
        at += k
    return CompactTrades(
        offsets=_offsets(counts),
        day=day,
        r=r,
        pnl=pnl,
        skip_offsets=_offsets(skip_counts),
        skip_day=np.asarray(skip_day, dtype=np.int32),
        adverse=adverse if excursions else None,
    )


@njit(cache=True, nogil=True)
def _values_nb(
    direction,
    entry,
    exit_,
    stop,
    lots,
    entry_bar,
    mae,
    position,
    bar_day,
    charged,
    point,
    value,
    day,
    r,
    pnl,
    adverse,
):
    """:func:`backtest.strategy.trades.trade_values` of trade ``i`` into ``day[k]``, ``r[k]``,
    ``pnl[k]`` and :func:`backtest.strategy.trades.trade_adverse` into ``adverse[k]``
    (``k = position[i]``), in one pass over the trades as stored: the same operations in
    the same order (``pnl_points`` with ``charged`` = ``SymbolSpec.charged_points``, then
    ``pnl_points / D`` and ``pnl_points × point × value_per_point × lots``; ``min(-mae -
    charged, 0)`` valued so), so the same floats (``tests/strategy/test_compact_values.py``)."""
    for i in range(len(position)):
        k = position[i]
        points = np.int64(direction[i]) * (exit_[i] - entry[i]) - charged
        day[k] = bar_day[entry_bar[i]]
        r[k] = points / np.float64(stop[i])
        pnl[k] = np.float64(points) * point * value * lots[i]
        worst = min(-mae[i] - charged, 0)
        adverse[k] = np.float64(worst) * point * value * lots[i]


def concat_compact(parts: list[CompactTrades]) -> CompactTrades:
    """Several groups' compact trades as one, combinations in the order given (one part:
    that part itself, not a copy)."""
    if len(parts) == 1:
        return parts[0]
    known = all(p.adverse is not None for p in parts)
    return CompactTrades(
        offsets=_offsets(_concat([np.diff(p.offsets) for p in parts], np.int64)),
        day=_concat([p.day for p in parts], np.int32),
        r=_concat([p.r for p in parts], np.float64),
        pnl=_concat([p.pnl for p in parts], np.float64),
        skip_offsets=_offsets(_concat([np.diff(p.skip_offsets) for p in parts], np.int64)),
        skip_day=_concat([p.skip_day for p in parts], np.int32),
        adverse=_concat([p.adverse for p in parts if p.adverse is not None], np.float64)
        if known
        else None,
    )


def select_compact(compact: CompactTrades, rows: list[int]) -> CompactTrades:
    """The combinations ``rows`` of ``compact`` (in that order) as a compact set of their own."""

    def part(offsets: np.ndarray, values: np.ndarray) -> list[np.ndarray]:
        return [values[offsets[i] : offsets[i + 1]] for i in rows]

    days, rs, pnls = (part(compact.offsets, a) for a in (compact.day, compact.r, compact.pnl))
    skips = part(compact.skip_offsets, compact.skip_day)
    adverse = None if compact.adverse is None else part(compact.offsets, compact.adverse)
    return CompactTrades(
        offsets=_offsets([len(d) for d in days]),
        day=_concat(days, np.int32),
        r=_concat(rs, np.float64),
        pnl=_concat(pnls, np.float64),
        skip_offsets=_offsets([len(s) for s in skips]),
        skip_day=_concat(skips, np.int32),
        adverse=None if adverse is None else _concat(adverse, np.float64),
    )


def daily_r_matrix(
    compact: CompactTrades, trading_days: np.ndarray, dtype: DTypeLike = np.float32
) -> np.ndarray:
    """Days × combinations matrix of daily R over ``trading_days`` (sorted day numbers;
    0 on days without a trade). Trades on days outside ``trading_days`` are left out."""
    n = len(compact)
    out = np.zeros((len(trading_days), n), dtype=dtype)
    if len(compact.day) == 0:
        return out
    combo = np.repeat(np.arange(n), np.diff(compact.offsets))
    # trades are in (combination, day) order: sum each (combination, day) run once
    starts = np.flatnonzero(
        np.concatenate(([True], (combo[1:] != combo[:-1]) | (compact.day[1:] != compact.day[:-1])))
    )
    day_sum = np.add.reduceat(compact.r, starts)
    day, combo = compact.day[starts], combo[starts]
    row = np.searchsorted(trading_days, day)
    inside = (row < len(trading_days)) & (
        trading_days[np.minimum(row, len(trading_days) - 1)] == day
    )
    out[row[inside], combo[inside]] = day_sum[inside]
    return out


def _offsets(counts: list[int] | np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(np.asarray(counts, dtype=np.int64)))).astype(np.int64)


def _concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)
