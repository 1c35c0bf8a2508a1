"""The fast sweep: every combination of a sweep over one set of bars.

Whatever does not depend on a combination's multipliers is computed once per
data set (day bounds, sparse tables of highs and lows) or once per distinct
window (``walk_start``, IB high/low per ``(ib_start, ib_end)``; ``close_bar`` and
the entry range per ``(ib_end, trade_end, close_time)``; the entry gate per
news window) and shared by all combinations; per-day distances and lots are
cached per multiplier. :func:`backtest.engines.kernel_nb.sweep_batch_nb` then walks
batches of combinations day by day. The result is identical to the emulator's
``backtest.engines.adapter.run_combo`` (tests/kernel/test_differential.py).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.data.news import news_blocked
from backtest.engines import kernel_nb as nb
from backtest.strategy.params import CompiledParams, compile_params, distance_points
from backtest.strategy.risk_manager import lot_size
from backtest.strategy.trades import TRADE_DTYPE

_INT32_LIMIT = 2**31 - 1
BATCH = 128  # combinations walked together, day by day
MAX_PER_DAY_CACHE = 4096  # cached per-day arrays (distances, lots) per data set


class _Bank:
    """Rows of shared tables, one per distinct key, stacked for the kernel."""

    def __init__(self, fields: tuple[str, ...]):
        self.fields = fields
        self.index: dict[tuple, int] = {}
        self.rows: dict[str, list[np.ndarray]] = {f: [] for f in fields}
        self._stacked: dict[str, np.ndarray] = {}

    def row(self, key: tuple, build) -> int:
        """The row of ``key``, building it (a dict of the fields' arrays) on first use."""
        at = self.index.get(key)
        if at is None:
            arrays = build()
            for f in self.fields:
                self.rows[f].append(arrays[f])
            at = self.index[key] = len(self.index)
            self._stacked.clear()
        return at

    def stacked(self, field: str) -> np.ndarray:
        table = self._stacked.get(field)
        if table is None:
            table = self._stacked[field] = np.stack(self.rows[field])
        return table


class SweepData:
    """Per-data-set tables of one :class:`Bars`, with per-window caches."""

    def __init__(self, bars: Bars):
        self.bars = bars
        n = len(bars)
        self.open = np.ascontiguousarray(bars.open, dtype=np.int64)
        self.high = np.ascontiguousarray(bars.high, dtype=np.int64)
        self.low = np.ascontiguousarray(bars.low, dtype=np.int64)
        self.close = np.ascontiguousarray(bars.close, dtype=np.int64)
        self.falling = np.ascontiguousarray(bars.falling, dtype=np.bool_)
        self.minute = np.ascontiguousarray(bars.minute, dtype=np.int64)
        cuts = np.flatnonzero(np.diff(bars.day)) + 1
        self.day_start = (
            np.concatenate(([0], cuts)).astype(np.int64) if n else np.zeros(0, np.int64)
        )
        self.day_end = np.concatenate((cuts, [n])).astype(np.int64) if n else np.zeros(0, np.int64)
        self.day_weekday = np.ascontiguousarray(bars.weekday[self.day_start], dtype=np.int64)
        longest = int((self.day_end - self.day_start).max()) if n else 1
        levels = max(1, longest.bit_length())
        fits = n == 0 or max(abs(int(self.high.max())), abs(int(self.low.min()))) < _INT32_LIMIT
        table_dtype = np.int32 if fits else np.int64
        self.high_table = np.empty((levels, n), dtype=table_dtype)
        self.low_table = np.empty((levels, n), dtype=table_dtype)
        nb.sparse_table_nb(self.high.astype(table_dtype), self.high_table, True)
        nb.sparse_table_nb(self.low.astype(table_dtype), self.low_table, False)
        self.windows = _Bank(("walk_start", "ib_high", "ib_low", "has_ib"))
        self.schedules = _Bank(("close_bar", "entry_hi"))
        self.gates = _Bank(("ok", "next_ok"))
        self._per_day: dict[tuple, np.ndarray] = {}
        self._ib: dict[int, np.ndarray] = {}

    def window(self, cp: CompiledParams) -> int:
        """Row of ``walk_start``, ``ib_high``, ``ib_low``, ``has_ib`` per day."""

        def build():
            days = len(self.day_start)
            win = {
                "walk_start": np.empty(days, dtype=np.int64),
                "ib_high": np.empty(days, dtype=np.int64),
                "ib_low": np.empty(days, dtype=np.int64),
                "has_ib": np.empty(days, dtype=np.bool_),
            }
            nb.ib_window_nb(
                self.minute,
                self.high,
                self.low,
                self.day_start,
                self.day_end,
                cp.ib_start,
                cp.ib_end,
                win["walk_start"],
                win["ib_high"],
                win["ib_low"],
                win["has_ib"],
            )
            return win

        return self.windows.row((cp.ib_start, cp.ib_end), build)

    def schedule(self, cp: CompiledParams) -> int:
        """Row of ``close_bar`` (-1: none) and ``entry_hi`` per day."""

        def build():
            walk_start = self.windows.rows["walk_start"][self.window(cp)]
            out = {
                "close_bar": np.empty(len(walk_start), dtype=np.int64),
                "entry_hi": np.empty(len(walk_start), dtype=np.int64),
            }
            nb.day_schedule_nb(
                self.minute,
                self.day_end,
                walk_start,
                cp.ib_end,
                cp.trade_end,
                cp.close_time,
                out["close_bar"],
                out["entry_hi"],
            )
            return out

        return self.schedules.row((cp.ib_start, cp.ib_end, cp.trade_end, cp.close_time), build)

    def gate(self, cp: CompiledParams, news_ns: np.ndarray, news_key: int) -> int:
        """Row of ``ok`` (a bar may open an entry) and ``next_ok`` per bar."""
        news = (cp.news_before_ns, cp.news_after_ns, news_key) if cp.news_filter else None

        def build():
            n = len(self.open)
            if news is None:
                blocked = np.zeros(n, dtype=np.bool_)
            else:
                blocked = news_blocked(
                    self.bars.time_ns, news_ns, cp.news_before_ns, cp.news_after_ns
                )
            out = {"ok": np.empty(n, dtype=np.bool_), "next_ok": np.empty(n, dtype=np.int64)}
            nb.entry_gate_nb(
                self.minute, blocked, cp.ib_end, cp.trade_end, out["ok"], out["next_ok"]
            )
            return out

        return self.gates.row((cp.ib_end, cp.trade_end, news), build)

    def _cached(self, key: tuple, build) -> np.ndarray:
        value = self._per_day.get(key)
        if value is None:
            if len(self._per_day) >= MAX_PER_DAY_CACHE:
                self._per_day.clear()
            value = self._per_day[key] = build()
        return value

    def distances(self, window: int, mult: float) -> np.ndarray:
        """``dist(mult)`` per day for an IB window (0 IB on days without one)."""

        def build():
            ib = np.where(
                self.windows.rows["has_ib"][window],
                self.windows.rows["ib_high"][window] - self.windows.rows["ib_low"][window],
                0,
            )
            return distance_points(mult, ib)

        return self._cached(("dist", window, mult), build)

    def lots(self, window: int, sl_mult: float, risk: float) -> np.ndarray:
        """Lots per day (``lot_size`` of that day's D; 0.0 = below volume_min)."""
        stop = self.distances(window, sl_mult)
        return self._cached(
            ("lots", window, sl_mult, risk),
            lambda: lot_size(np.maximum(stop, 1), self.bars.symbol, risk),
        )


_DATA_CACHE: list[tuple[weakref.ref, SweepData]] = []


def sweep_data(bars: Bars) -> SweepData:
    """The :class:`SweepData` of ``bars``, built once per data set (per process)."""
    for ref, data in _DATA_CACHE:
        if ref() is bars:
            return data
    data = SweepData(bars)
    _DATA_CACHE[:] = [(r, d) for r, d in _DATA_CACHE[-1:] if r() is not None]
    _DATA_CACHE.append((weakref.ref(bars), data))
    return data


def prepare_sweep(bars: Bars, combos: list[dict[str, Any]], settings: RunSettings) -> SweepData:
    """Build every shared table the combinations will use (call before forking
    workers, so that they share it copy-on-write instead of each building it)."""
    data = sweep_data(bars)
    news_key = _news_key(settings)
    for params in combos:
        cp = compile_params(params, bars.symbol)
        window = data.window(cp)
        data.schedule(cp)
        data.gate(cp, settings.news_ns, news_key)
        data.lots(window, cp.sl_mult, settings.risk)
        data.distances(window, cp.tp_mult)
        data.distances(window, cp.entry_buffer)
    for bank in (data.windows, data.schedules, data.gates):
        for field in bank.fields:
            if bank.index:
                bank.stacked(field)
    return data


def _news_key(settings: RunSettings) -> int:
    return hash(np.asarray(settings.news_ns, dtype=np.int64).tobytes())


def _run_batch(
    data: SweepData, combos: list[dict[str, Any]], settings: RunSettings, news_key: int
) -> list[tuple[np.ndarray, int, np.ndarray]]:
    compiled = [compile_params(params, data.bars.symbol) for params in combos]
    rows = [
        (data.window(cp), data.schedule(cp), data.gate(cp, settings.news_ns, news_key))
        for cp in compiled
    ]
    window, schedule, gate = (np.array(col, dtype=np.int64) for col in zip(*rows))
    columns = {
        "stop": [data.distances(r[0], cp.sl_mult) for r, cp in zip(rows, compiled)],
        "tp": [data.distances(r[0], cp.tp_mult) for r, cp in zip(rows, compiled)],
        "buffer": [data.distances(r[0], cp.entry_buffer) for r, cp in zip(rows, compiled)],
        "lots": [data.lots(r[0], cp.sl_mult, settings.risk) for r, cp in zip(rows, compiled)],
    }
    per_day = {k: np.stack(v, axis=1) for k, v in columns.items()}
    max_trades = np.array([cp.max_trades_per_day for cp in compiled], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(max_trades * len(data.day_start))[:-1])).astype(
        np.int64
    )
    out = np.empty(int((max_trades * len(data.day_start)).sum()), dtype=TRADE_DTYPE)
    counts = np.zeros(len(combos), dtype=np.int64)
    skipped = np.zeros(len(combos), dtype=np.int64)
    skip_day = np.zeros((len(data.day_start), len(combos)), dtype=np.bool_)
    nb.sweep_batch_nb(
        data.open,
        data.high,
        data.low,
        data.close,
        data.falling,
        data.high_table,
        data.low_table,
        data.gates.stacked("ok"),
        data.gates.stacked("next_ok"),
        data.day_end,
        data.day_weekday,
        data.windows.stacked("walk_start"),
        data.windows.stacked("ib_high"),
        data.windows.stacked("ib_low"),
        data.windows.stacked("has_ib"),
        data.schedules.stacked("close_bar"),
        data.schedules.stacked("entry_hi"),
        window,
        schedule,
        gate,
        per_day["stop"],
        per_day["tp"],
        per_day["buffer"],
        per_day["lots"],
        np.array([cp.weekday_mask for cp in compiled], dtype=np.bool_).reshape(len(combos), 7),
        np.array([cp.min_ib for cp in compiled], dtype=np.int64),
        np.array([cp.max_ib for cp in compiled], dtype=np.int64),
        np.array([cp.allow_long for cp in compiled], dtype=np.bool_),
        np.array([cp.allow_short for cp in compiled], dtype=np.bool_),
        np.array([cp.tp_mult > 0 for cp in compiled], dtype=np.bool_),
        max_trades,
        out,
        offsets,
        counts,
        skipped,
        skip_day,
    )
    day_number = data.bars.day[data.day_start] if len(data.day_start) else data.bars.day[:0]
    return [
        (_copy_trades(out[o : o + k]), int(s), day_number[skip_day[:, c]].astype(np.int32))
        for c, (o, k, s) in enumerate(zip(offsets, counts, skipped))
    ]


def _copy_trades(view: np.ndarray) -> np.ndarray:
    """A compact copy of a slice of the batch buffer (a byte copy: numpy copies
    structured arrays field by field, several times slower)."""
    trades = np.empty(len(view), dtype=TRADE_DTYPE)
    trades.view(np.uint8)[:] = view.view(np.uint8)
    return trades


def run_sweep_days(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings
) -> list[tuple[np.ndarray, int, np.ndarray]]:
    """``(trades, skipped, skip_days)`` per resolved combination; ``skip_days`` are the
    trading days (``Bars.day`` numbers) that the lot skip hit, so that a window of the
    period can count its own ``skipped`` without a second walk."""
    data = sweep_data(bars)
    news_key = _news_key(settings)
    results: list[tuple[np.ndarray, int, np.ndarray]] = []
    for at in range(0, len(combos), BATCH):
        results.extend(_run_batch(data, combos[at : at + BATCH], settings, news_key))
    return results


def run_sweep(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings
) -> list[tuple[np.ndarray, int]]:
    """``(trades, skipped)`` per resolved combination, as ``adapter.run_combo`` gives."""
    return [(trades, skipped) for trades, skipped, _ in run_sweep_days(bars, combos, settings)]


def warm_up() -> float:
    """Compile (or load from numba's cache) every kernel on a tiny series, the compiled
    scoring included; seconds.

    Call it once in a parent process before forking workers, so that no worker
    compiles; a worker started otherwise loads the kernels on its first sweep.
    """
    import time

    from backtest.core.config import symbol_spec
    from backtest.strategy.daily import compact_trades
    from backtest.strategy.metrics_nb import window_metrics
    from backtest.strategy.params import resolve_params

    start = time.perf_counter()
    minutes = np.array([540, 541, 542, 543], dtype=np.int16)
    prices = np.array([1000, 1005, 1012, 1030], dtype=np.int64)
    bars = Bars(
        symbol=symbol_spec("GER40"),
        time_ns=minutes.astype(np.int64) * 60 * 10**9,
        open=prices,
        high=prices + 5,
        low=prices - 5,
        close=prices + 1,
        falling=np.zeros(4, dtype=bool),
        day=np.zeros(4, dtype=np.int32),
        minute=minutes,
        weekday=np.zeros(4, dtype=np.int8),
    )
    combo = resolve_params(
        "GER40",
        {
            "ib_start": "09:00",
            "ib_end": "09:01",
            "trade_end": "09:03",
            "close_time": "09:03",
            "news_filter": True,
        },
    )
    ((trades, _),) = run_sweep(bars, [combo], RunSettings(news_ns=np.array([0], dtype=np.int64)))
    window_metrics(compact_trades([(trades, np.zeros(0, np.int32))], bars), 0, 0, 1, 1e5, 5, 10)
    return time.perf_counter() - start
