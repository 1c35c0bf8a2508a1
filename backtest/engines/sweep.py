"""The fast sweep: every combination of a sweep over one set of bars.

Whatever does not depend on a combination's multipliers is computed once per
data set (day bounds, block tables of highs and lows; in the ``bid_ask`` execution
model the ask highs and lows, the bid's + each bar's spread, with their block tables,
spec section 8) or once per distinct
window (``walk_start``, IB high/low per ``(ib_start, ib_end)``; ``close_bar`` and
the entry range per ``(ib_end, trade_end, close_time)``; the entry gate per
news window) and shared by all combinations; per-day distances and lots are
cached per multiplier, and each combination's row of the kernel's table by its entry
rule, stop and target. :func:`backtest.engines.kernel_nb.sweep_batch_nb` then walks
batches of combinations day by day, the combinations of one entry rule sharing its
searches. The result is identical to the emulator's
``backtest.engines.adapter.run_combo`` (tests/engines/kernel/test_differential.py).
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, overload

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.data.news import news_blocked
from backtest.engines import kernel_nb as nb
from backtest.strategy.params import (
    PARAM_NAMES,
    CompiledParams,
    compile_params,
    distance_points,
)
from backtest.strategy.risk_manager import lot_size
from backtest.strategy.trades import TRADE_DTYPE

_INT32_LIMIT = 2**31 - 1
# Combinations walked together, day by day: the more, the more of them share each day's
# bars and table lines in cache (the kernel's main cost is fetching those, docs/BENCHMARK.md),
# as long as their trade buffer, max_trades_per_day × days records each, fits ROOM records.
BATCH = 512
ROOM = 2**19  # records (67 bytes each: 35 MB of address space, resident only where written)
# The kernel's work counters in this process (kernel_nb.S_*), for bench.cost; zero them to
# count a run of your own.
STATS = np.zeros(4, dtype=np.int64)
MAX_PER_DAY_CACHE = 4096  # cached per-day arrays (distances, lots) per data set


class _Bank:
    """Rows of shared tables, one per distinct key: each field one ``[row, ...]`` table,
    a row written in place when its key is first used, so the kernel reads the tables as
    they are (no copy: a gate row is 9 bytes per bar)."""

    def __init__(self, fields: dict[str, type], width: int):
        self.fields = tuple(fields)
        self.index: dict[tuple, int] = {}
        self._dtypes = fields
        self._width = width
        self._tables: dict[str, np.ndarray] = {}

    def reserve(self, rows: int) -> None:
        """Room for ``rows`` rows without growing (pages are touched only when written)."""
        if not self._tables or rows > len(self._tables[self.fields[0]]):
            self._grow(rows)

    def _grow(self, rows: int) -> None:
        used = len(self.index)
        for f, dtype in self._dtypes.items():
            table: np.ndarray = np.empty((rows, self._width), dtype=dtype)
            if used:
                table[:used] = self._tables[f][:used]
            self._tables[f] = table

    def row(self, key: tuple, build: Callable[[dict[str, np.ndarray]], None]) -> int:
        """The row of ``key``, ``build`` writing it (given each field's row) on first use."""
        at = self.index.get(key)
        if at is None:
            at = len(self.index)
            if not self._tables or at == len(self._tables[self.fields[0]]):
                self._grow(max(4, 2 * at))
            build({f: self._tables[f][at] for f in self.fields})
            self.index[key] = at
        return at

    def stacked(self, field: str) -> np.ndarray:
        """The ``[row, ...]`` table of ``field``, its rows so far."""
        return self._tables[field][: len(self.index)]

    @property
    def rows(self) -> dict[str, np.ndarray]:
        """Each field's table (a row by its number)."""
        return {f: self.stacked(f) for f in self.fields}


class _Rows:
    """Per-day rows (distances or lots) of one growable ``[row, day]`` table, one row per key."""

    def __init__(self, days: int, dtype: type):
        self.index: dict[tuple, int] = {}
        self.table: np.ndarray = np.empty((16, days), dtype=dtype)

    def row(self, key: tuple, build) -> int:
        """The row of ``key``, building it (one value per day) on first use."""
        at = self.index.get(key)
        if at is None:
            at = len(self.index)
            if at == len(self.table):
                grown = np.empty((2 * at, self.table.shape[1]), dtype=self.table.dtype)
                grown[:at] = self.table
                self.table = grown
            self.table[at] = build()
            self.index[key] = at
        return at

    def used(self) -> np.ndarray:
        return self.table[: len(self.index)]


# The values a combination's kernel row is cached by: its entry rule's (all but the stop
# and target multipliers; the weekdays list apart, as a tuple), then each multiplier.
_RULE_VALUES = itemgetter(
    *(name for name in PARAM_NAMES if name not in ("sl_mult", "tp_mult", "weekdays"))
)


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
        self.day_number = bars.day[self.day_start] if n else bars.day[:0]
        longest = int((self.day_end - self.day_start).max()) if n else 1
        levels = max(1, (longest // nb.BLOCK + 2).bit_length())  # a day's whole blocks
        self.day_blocks = longest // nb.BLOCK + 2  # at most a day's whole blocks, and one
        # Execution (spec section 8): the ask highs and lows, the bid's + each bar's spread
        # (in the cost model the bid's own arrays: the ask path is the bid path), and the
        # slippage of the stop fills.
        sym = bars.symbol
        self.slippage = sym.slippage_points
        if sym.bid_ask:
            spread = np.ascontiguousarray(bars.bar_spread(), dtype=np.int64)
            self.ask_high, self.ask_low = self.high + spread, self.low + spread
        else:
            self.ask_high, self.ask_low = self.high, self.low
        top = int(self.ask_high.max()) if n else 0
        fits = n == 0 or max(abs(top), abs(int(self.low.min()))) < _INT32_LIMIT
        table_dtype = np.int32 if fits else np.int64
        self.high_blocks = nb.block_table(self.high, levels, True, table_dtype)
        self.low_blocks = nb.block_table(self.low, levels, False, table_dtype)
        if sym.bid_ask:
            self.ask_high_blocks = nb.block_table(self.ask_high, levels, True, table_dtype)
            self.ask_low_blocks = nb.block_table(self.ask_low, levels, False, table_dtype)
        else:
            self.ask_high_blocks, self.ask_low_blocks = self.high_blocks, self.low_blocks
        days = len(self.day_start)
        self.windows = _Bank(
            {"walk_start": np.int64, "ib_high": np.int64, "ib_low": np.int64, "has_ib": np.bool_},
            days,
        )
        self.schedules = _Bank({"close_bar": np.int64, "entry_hi": np.int64}, days)
        self.gates = _Bank({"ok": np.bool_, "next_ok": np.int64}, n)
        self._clear_rows()

    def _clear_rows(self) -> None:
        """Forget the per-day rows and the combination rows that name them."""
        days = len(self.day_start)
        self.dist = _Rows(days, np.int64)
        self.lot_rows = _Rows(days, np.float64)
        self._rules: dict[tuple, tuple[int, ...]] = {}  # by the rule's parameter values
        self._rule_ids: dict[tuple, int] = {}  # entry rules by their rows and values
        self._stops: dict[tuple, tuple[int, int]] = {}
        self._targets: dict[tuple, tuple[int, int]] = {}

    def window(self, cp: CompiledParams) -> int:
        """Row of ``walk_start``, ``ib_high``, ``ib_low``, ``has_ib`` per day."""

        def build(win: dict[str, np.ndarray]) -> None:
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

        return self.windows.row(_window_key(cp), build)

    def schedule(self, cp: CompiledParams) -> int:
        """Row of ``close_bar`` (-1: none) and ``entry_hi`` per day."""

        window = self.window(cp)

        def build(out: dict[str, np.ndarray]) -> None:
            nb.day_schedule_nb(
                self.minute,
                self.day_end,
                self.windows.stacked("walk_start")[window],
                cp.ib_end,
                cp.trade_end,
                cp.close_time,
                out["close_bar"],
                out["entry_hi"],
            )

        return self.schedules.row(_schedule_key(cp), build)

    def gate(self, cp: CompiledParams, news_ns: np.ndarray, news_key: int) -> int:
        """Row of ``ok`` (a bar may open an entry) and ``next_ok`` per bar."""
        key = _gate_key(cp, news_key)
        news = key[2]

        def build(out: dict[str, np.ndarray]) -> None:
            if news is None:
                blocked = np.zeros(len(self.open), dtype=np.bool_)
            else:
                blocked = news_blocked(
                    self.bars.time_ns, news_ns, cp.news_before_ns, cp.news_after_ns
                )
            nb.entry_gate_nb(
                self.minute, blocked, cp.ib_end, cp.trade_end, out["ok"], out["next_ok"]
            )

        return self.gates.row(key, build)

    def distance(self, window: int, mult: float) -> int:
        """Row of ``dist(mult)`` per day for an IB window (0 IB on days without one)."""

        def build():
            rows = self.windows.rows
            ib = np.where(
                rows["has_ib"][window], rows["ib_high"][window] - rows["ib_low"][window], 0
            )
            return distance_points(mult, ib)

        return self.dist.row((window, mult), build)

    def lots(self, window: int, sl_mult: float, risk: float) -> int:
        """Row of lots per day (``lot_size`` of that day's D; 0.0 = below volume_min)."""
        stop = self.dist.table[self.distance(window, sl_mult)]
        return self.lot_rows.row(
            (window, sl_mult, risk), lambda: lot_size(np.maximum(stop, 1), self.bars.symbol, risk)
        )

    def combo_row(self, params: dict[str, Any], settings: RunSettings, news_key: int) -> tuple:
        """The kernel's row of a combination (``kernel_nb.C_*`` columns).

        Cached in three parts, each filled from :func:`compile_params` on first use: the
        entry rule (everything but ``sl_mult``, ``tp_mult``), then the stop and the target
        by their multiplier in the rule's window; so a grid's combinations cost three dict
        look-ups each, not a compile.
        """
        rule_key = (_RULE_VALUES(params), tuple(params["weekdays"]), news_key)
        sl_mult, tp_mult = params["sl_mult"], params["tp_mult"]
        rule = self._rules.get(rule_key)
        stop = target = None
        if rule is not None:
            stop = self._stops.get((rule[0], sl_mult, settings.risk))
            target = self._targets.get((rule[0], tp_mult))
        if rule is None or stop is None or target is None:
            cp = compile_params(params, self.bars.symbol)
            window = self.window(cp)
            if rule is None:
                entry = (
                    window,
                    self.schedule(cp),
                    self.gate(cp, settings.news_ns, news_key),
                    self.distance(window, cp.entry_buffer),
                    sum(1 << d for d, on in enumerate(cp.weekday_mask) if on),
                    cp.min_ib,
                    cp.max_ib,
                    int(cp.allow_long),
                    int(cp.allow_short),
                )
                rule_id = self._rule_ids.setdefault(entry, len(self._rule_ids))
                rule = self._rules[rule_key] = (*entry, cp.max_trades_per_day, rule_id)
            stop = self._stops.setdefault(
                (window, sl_mult, settings.risk),
                (self.distance(window, cp.sl_mult), self.lots(window, cp.sl_mult, settings.risk)),
            )
            target = self._targets.setdefault(
                (window, tp_mult), (self.distance(window, cp.tp_mult), int(cp.tp_mult > 0))
            )
        w, s, g, buf, days, min_ib, max_ib, long, short, max_trades, rule_id = rule
        return (
            w,
            s,
            g,
            stop[0],
            target[0],
            buf,
            stop[1],
            days,
            min_ib,
            max_ib,
            long,
            short,
            target[1],
            max_trades,
            rule_id,
        )


def _window_key(cp: CompiledParams) -> tuple:
    """What a combination's row of ``SweepData.windows`` depends on."""
    return (cp.ib_start, cp.ib_end)


def _schedule_key(cp: CompiledParams) -> tuple:
    """What a combination's row of ``SweepData.schedules`` depends on."""
    return (cp.ib_start, cp.ib_end, cp.trade_end, cp.close_time)


def _gate_key(cp: CompiledParams, news_key: int) -> tuple:
    """What a combination's row of ``SweepData.gates`` depends on (its news window with
    the news filter on)."""
    news = (cp.news_before_ns, cp.news_after_ns, news_key) if cp.news_filter else None
    return (cp.ib_end, cp.trade_end, news)


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
    compiled = [compile_params(params, bars.symbol) for params in combos]
    for bank, keys in (
        (data.windows, {_window_key(cp) for cp in compiled}),
        (data.schedules, {_schedule_key(cp) for cp in compiled}),
        (data.gates, {_gate_key(cp, news_key) for cp in compiled}),
    ):
        bank.reserve(len(keys.union(bank.index)))  # the rows they will have, written once
    for params in combos:
        if len(data.dist.index) >= MAX_PER_DAY_CACHE:
            break
        data.combo_row(params, settings, news_key)
    return data


def _news_key(settings: RunSettings) -> int:
    return hash(np.asarray(settings.news_ns, dtype=np.int64).tobytes())


@dataclass
class SweepPart:
    """One batch's result: ``trades`` holds its combinations' trades in the order the
    kernel found them (day by day); ``trades[order]`` are the same trades combination
    after combination, each combination's in entry order (``counts`` of them), and
    ``position`` is the inverse (trade ``i`` is at ``position[i]`` in that order);
    ``skip_day`` the ``skipped`` lot-skip days of each (``Bars.day`` numbers), likewise."""

    trades: np.ndarray  # TRADE_DTYPE
    order: np.ndarray  # int32
    position: np.ndarray  # int32
    counts: np.ndarray  # int64 per combination
    skipped: np.ndarray  # int64 per combination
    skip_day: np.ndarray  # int32

    def combo_trades(self, c: int) -> np.ndarray:
        """Combination ``c``'s trades, a compact copy."""
        end = int(self.counts[: c + 1].sum())
        rows = np.take(_bytes(self.trades), self.order[end - int(self.counts[c]) : end], axis=0)
        return rows.view(TRADE_DTYPE).reshape(len(rows))

    def per_combo(self) -> list[tuple[np.ndarray, int, np.ndarray]]:
        """``(trades, skipped, skip_days)`` per combination: slices of one copy of the
        part's trades in combination order (and of ``skip_day``)."""
        trades = np.take(_bytes(self.trades), self.order, axis=0).view(TRADE_DTYPE)
        trades = trades.reshape(len(self.order))
        ends = np.cumsum(self.counts).tolist()
        skip_ends = np.cumsum(self.skipped).tolist()
        return [
            (trades[end - n : end], s, self.skip_day[skip_end - s : skip_end])
            for n, end, s, skip_end in zip(
                self.counts.tolist(), ends, self.skipped.tolist(), skip_ends
            )
        ]


class PartTrades(Sequence[np.ndarray]):
    """The per-combination trades of some parts, in order; each one copied out of its part
    when asked for (a scoring that keeps a few combinations' trades then keeps no part)."""

    def __init__(self, parts: list[SweepPart]):
        self._parts = parts
        self._first = np.cumsum([0] + [len(p.counts) for p in parts]).tolist()

    def __len__(self) -> int:
        return self._first[-1]

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...

    @overload
    def __getitem__(self, index: slice) -> list[np.ndarray]: ...

    def __getitem__(self, index: int | slice) -> np.ndarray | list[np.ndarray]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        at = bisect.bisect_right(self._first, index) - 1
        return self._parts[at].combo_trades(index - self._first[at])


def _batches(
    data: SweepData, combos: list[dict[str, Any]], settings: RunSettings, news_key: int
) -> Iterator[np.ndarray]:
    """The kernel rows of ``combos``, BATCH at a time, cut where their trade buffer would
    pass ROOM records (one combination at least)."""
    days = max(1, len(data.day_start))
    for at in range(0, len(combos), BATCH):
        batch = combos[at : at + BATCH]
        if len(data.dist.index) + 3 * len(batch) > MAX_PER_DAY_CACHE:
            data._clear_rows()
        rows = np.array(
            [data.combo_row(params, settings, news_key) for params in batch], dtype=np.int64
        ).reshape(len(batch), nb.N_COLUMNS)
        room = np.cumsum(rows[:, nb.C_MAX_TRADES] * days)
        start = 0
        while start < len(rows):
            used = int(room[start - 1]) if start else 0
            end = max(start + 1, int(np.searchsorted(room, used + ROOM, side="right")))
            yield rows[start:end]
            start = end


def _run_batch(data: SweepData, combo: np.ndarray, excursions: bool = True) -> SweepPart:
    """Walk one batch (its kernel rows, ``kernel_nb.C_*`` columns); ``excursions``: record
    the trades' ``mae``/``mfe`` (else -1).

    The trade buffer is allocated for the most trades the batch can have and the part
    keeps the written head of it: the kernel writes it front to back, so the pages of the
    unwritten rest are never touched (never resident), and nothing is copied."""
    order = np.argsort(combo[:, nb.C_RULE], kind="stable")
    rules = combo[order, nb.C_RULE]
    rule_start = np.flatnonzero(np.concatenate(([True], rules[1:] != rules[:-1], [True])))
    days = len(data.day_start)
    room = int((combo[:, nb.C_MAX_TRADES] * days).sum())
    out = np.empty(room, dtype=TRADE_DTYPE)
    out_combo = np.empty(room, dtype=np.int32)
    counts = np.zeros(len(combo), dtype=np.int64)
    skipped = np.zeros(len(combo), dtype=np.int64)
    skip_day = np.zeros((days, len(combo)), dtype=np.bool_)
    written = nb.sweep_batch_nb(
        data.open,
        data.high,
        data.low,
        data.close,
        data.falling,
        data.high_blocks,
        data.low_blocks,
        data.ask_high,
        data.ask_low,
        data.ask_high_blocks,
        data.ask_low_blocks,
        data.slippage,
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
        data.dist.used(),
        data.lot_rows.used(),
        combo,
        order,
        rule_start.astype(np.int64),
        out,
        out_combo,
        counts,
        skipped,
        skip_day,
        np.empty((3, nb.MEMO), dtype=np.int64),
        np.empty((2, 2, nb.MEMO), dtype=np.int64),
        np.zeros(2, dtype=np.int64),
        excursions,
        np.full((nb.EXITS, 5), -1, dtype=np.int64),
        np.empty(2 * data.day_blocks + 4, dtype=np.int64),
        STATS,
    )
    position = np.empty(written, dtype=np.int32)
    by_combo = np.empty(written, dtype=np.int32)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    nb.combo_order_nb(out_combo[:written], starts, position, by_combo)
    skip_rows = np.nonzero(skip_day.T)[1] if skipped.any() else np.zeros(0, dtype=np.int64)
    return SweepPart(
        out[:written],
        by_combo,
        position,
        counts,
        skipped,
        data.day_number[skip_rows].astype(np.int32),
    )


def _bytes(records: np.ndarray) -> np.ndarray:
    """Trade records as a ``[record, byte]`` uint8 view."""
    return records.view(np.uint8).reshape(len(records), TRADE_DTYPE.itemsize)


def sweep_parts(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings, excursions: bool = True
) -> list[SweepPart]:
    """The combinations' results batch by batch (up to BATCH combinations a part, in order):
    what :func:`run_sweep_days` splits per combination and the scoring reads whole.
    Without ``excursions`` the trades' ``mae``/``mfe`` are -1 (not recorded), which a
    metrics-only sweep does not need (docs/BENCHMARK.md, "Excursions")."""
    data = sweep_data(bars)
    news_key = _news_key(settings)
    return [
        _run_batch(data, rows, excursions) for rows in _batches(data, combos, settings, news_key)
    ]


def run_sweep_days(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings
) -> list[tuple[np.ndarray, int, np.ndarray]]:
    """``(trades, skipped, skip_days)`` per resolved combination; ``skip_days`` are the
    trading days (``Bars.day`` numbers) that the lot skip hit, so that a window of the
    period can count its own ``skipped`` without a second walk."""
    return [one for part in sweep_parts(bars, combos, settings) for one in part.per_combo()]


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
        spread_data=np.full(4, 3.0),
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
