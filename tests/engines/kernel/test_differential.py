"""The fast sweep gives exactly the emulator's trades and ``skipped``.

Random bar series built to hit the hard cases (dojis and doji chains, gaps
through levels, wide bars touching SL and TP or both entry levels, missing
minutes, DST changes in Berlin and London, days without a bar after
close_time, weekends) × random parameters, through ``backtest.engines.sweep.run_sweep``
and ``backtest.engines.adapter.run_combo``; and grids whose combinations share entry rules
(several stops and targets per rule, which the sweep walks with one entry search).
Each series runs one execution model (spec section 8): ``cost``, or ``bid_ask`` with a
fixed spread or the data's spread column, which varies per bar (zeros, spikes, spreads
wider than the stop or than ``L - S``), and a slippage; the sessions run past
``close_time`` often enough that shorts are closed there (``test_cases_covered``).
~300 examples by default (half as many shared-entry grids); ``HYPOTHESIS_PROFILE=thorough``
(or ``IBSWEEP_DIFF_EXAMPLES=N``) runs many more.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars, bars_from_frame
from backtest.engines.sweep import run_sweep
from backtest.strategy.params import resolve_params

adapter = pytest.importorskip(
    "backtest.engines.adapter", reason="the emulator (backtest.engines.adapter) is not there yet"
)

EXAMPLES = int(
    os.environ.get(
        "IBSWEEP_DIFF_EXAMPLES", 5000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 300
    )
)

# First days of the series: a week across the spring and the autumn DST change
# (last Sunday of March / October, the same dates in Berlin and London), a
# weekend, and a plain Monday.
START_DATES = ("2024-03-28", "2024-10-24", "2024-06-06", "2024-01-08")
# Session anchors (local): "night" covers the DST hour, "morning" the usual IB.
ANCHORS = {"night": (0, 30), "morning": (8, 50)}
SL_MULTS = (0.05, 0.25, 0.5, 1.0, 1.5, 2.0, 0.33)
TP_MULTS = (0.0, 0.01, 0.5, 1.0, 2.0, 3.0, 0.77)
# Per-bar spreads (the data's column, in its units) of a series: none, small ones with
# zeros, and wide spikes (wider than most stops and IBs: degenerate triggers).
SPREAD_KINDS = ("zero", "small", "spiky", "wide")
# What the examples covered (spec section 8 cases), for test_cases_covered.
COVERED: Counter[str] = Counter()


@dataclass
class Series:
    bars: Bars
    anchor: int  # local minute where sessions start
    span: int  # bars per session (before missing minutes)


@st.composite
def bar_series(draw) -> Series:
    symbol = draw(st.sampled_from(("GER40", "XAUUSD")))
    spec = symbol_spec(symbol)
    start = pd.Timestamp(draw(st.sampled_from(START_DATES)))
    n_days = draw(st.integers(1, 5))
    anchor_name = draw(st.sampled_from(tuple(ANCHORS)))
    hour, minute = ANCHORS[anchor_name]
    span = draw(st.integers(15, 160 if anchor_name == "night" else 60))
    doji_p = draw(st.sampled_from((0.0, 0.3, 0.7)))
    gap_p = draw(st.sampled_from((0.0, 0.1, 0.3)))
    wide_p = draw(st.sampled_from((0.0, 0.1, 0.3)))
    missing_p = draw(st.sampled_from((0.0, 0.1, 0.3)))
    step = draw(st.sampled_from((2, 5, 12)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    times = []
    for d in range(n_days):
        day = start + pd.Timedelta(days=d)
        if day.dayofweek >= 5 and rng.random() < 0.5:
            continue  # a weekend without bars (or, otherwise, with bars)
        local_start = (day + pd.Timedelta(hours=hour, minutes=minute)).tz_localize(spec.timezone)
        first = local_start.tz_convert("UTC")
        times.extend(first + pd.Timedelta(minutes=i) for i in range(span))
    keep = rng.random(len(times)) >= missing_p
    keep[:1] = True
    times = [t for t, k in zip(times, keep) if k]
    n = len(times)

    opens, highs, lows, closes = (np.empty(n, dtype=np.int64) for _ in range(4))
    price = 2000
    for i in range(n):
        if rng.random() < gap_p:
            price += int(rng.choice((-1, 1))) * int(rng.integers(3, 30))
        o = price
        c = o if rng.random() < doji_p else o + int(rng.integers(-step, step + 1))
        reach = 40 if rng.random() < wide_p else step
        h = max(o, c) + int(rng.integers(0, reach + 1))
        lo = min(o, c) - int(rng.integers(0, reach + 1))
        opens[i], highs[i], lows[i], closes[i] = o, h, lo, c
        price = c
    kind = draw(st.sampled_from(SPREAD_KINDS))
    if kind == "zero":
        spread = np.zeros(n, dtype=np.int64)
    elif kind == "small":
        spread = rng.integers(0, 4, n)
    elif kind == "spiky":
        spread = np.where(rng.random(n) < 0.2, rng.integers(10, 80, n), rng.integers(0, 3, n))
    else:
        spread = rng.integers(0, 60, n)
    frame = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(times),
            "open": opens * spec.point,
            "high": highs * spec.point,
            "low": lows * spec.point,
            "close": closes * spec.point,
            "spread": spread.astype(np.float64),
        }
    )
    spec = replace(spec, **draw(execution(spec.point)))
    return Series(bars_from_frame(frame, spec), hour * 60 + minute, span)


@st.composite
def execution(draw, point: float) -> dict[str, Any]:
    """A symbol's execution settings (spec section 8): the model, the spread's source and
    unit, the fixed spread, the slippage (in price units, as configured)."""
    model = draw(st.sampled_from(("cost", "bid_ask", "bid_ask")))
    source = "fixed" if model == "cost" else draw(st.sampled_from(("fixed", "data", "data")))
    return {
        "spread_model": model,
        "spread_source": source,
        "spread_unit": draw(st.sampled_from((None, None, 2 * point))),
        "spread": draw(st.sampled_from((0, 1, 3, 10, 40, 100))) * point,
        "slippage": draw(st.sampled_from((0, 0, 1, 3, 20))) * point,
    }


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def combination(draw, series: Series, windows: tuple[int, int, int, int]) -> dict[str, Any]:
    ib_start, ib_end, trade_end, close_time = windows
    if draw(st.booleans()):  # a window of its own, else the example's shared one
        ib_start = series.anchor + draw(st.integers(0, max(1, series.span // 2)))
        ib_end = ib_start + draw(st.integers(1, 12))
        trade_end = ib_end + draw(st.integers(0, series.span))
        close_time = trade_end + draw(st.integers(0, series.span))
    min_ib = draw(st.sampled_from((0.0, 0.0, 0.05, 0.1, 0.2)))
    max_ib = draw(st.sampled_from((0.0, 0.0, 0.1, 0.3, 0.6)))
    if max_ib and max_ib < min_ib:
        max_ib = 0.0
    weekdays = draw(st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True))
    overrides = {
        "ib_start": _hhmm(ib_start),
        "ib_end": _hhmm(ib_end),
        "trade_end": _hhmm(min(trade_end, 1439)),
        "close_time": _hhmm(min(close_time, 1439)),
        "direction": draw(st.sampled_from(("both", "both", "long", "short"))),
        "entry_buffer": draw(st.sampled_from((0.0, 0.0, 0.1, 0.25, 0.5))),
        "sl_mult": draw(st.sampled_from(SL_MULTS)),
        "tp_mult": draw(st.sampled_from(TP_MULTS)),
        "min_ib": min_ib,
        "max_ib": max_ib,
        "max_trades_per_day": draw(st.sampled_from((1, 1, 2, 3, 5))),
        "weekdays": sorted(weekdays) if draw(st.booleans()) else [0, 1, 2, 3, 4, 5, 6],
        "news_filter": draw(st.booleans()),
        "news_before": draw(st.sampled_from((0, 1, 3, 10))),
        "news_after": draw(st.sampled_from((0, 2, 5, 0.5))),
    }
    return resolve_params(series.bars.symbol.name, overrides)


@st.composite
def sweep_case(draw) -> tuple[Bars, list[dict[str, Any]], RunSettings]:
    series = draw(bar_series())
    ib_start = series.anchor + draw(st.integers(0, max(1, series.span // 2)))
    ib_end = ib_start + draw(st.integers(1, 12))
    trade_end = ib_end + draw(st.integers(0, series.span))
    windows = (ib_start, ib_end, trade_end, trade_end + draw(st.integers(0, series.span)))
    combos = draw(st.lists(combination(series, windows), min_size=1, max_size=4))
    times = series.bars.time_ns
    n_events = draw(st.integers(0, 4))
    events = np.sort(
        np.array(
            [
                times[draw(st.integers(0, len(times) - 1))]
                + draw(st.sampled_from((0, 60, -120, 30))) * 10**9
                for _ in range(n_events)
            ],
            dtype=np.int64,
        )
    )
    risk = draw(st.sampled_from((1000.0, 1000.0, 0.5, 0.1, 0.01, 0.002)))
    return series.bars, combos, RunSettings(risk=risk, news_ns=events)


@st.composite
def shared_entry_case(draw) -> tuple[Bars, list[dict[str, Any]], RunSettings]:
    """:func:`sweep_case` with grids that share entries: one to three entry rules (a
    combination's window, buffer, direction and filters), each with a stop × target grid
    and its own max_trades_per_day per combination (more than one included), interleaved."""
    bars, bases, run_settings = draw(sweep_case())
    symbol = bars.symbol.name
    rules = []
    for base in bases[: draw(st.integers(1, 3))]:
        stops = draw(st.lists(st.sampled_from(SL_MULTS), min_size=1, max_size=3, unique=True))
        targets = draw(st.lists(st.sampled_from(TP_MULTS), min_size=1, max_size=3, unique=True))
        rules.append(
            [
                resolve_params(
                    symbol,
                    {
                        **base,
                        "sl_mult": sl,
                        "tp_mult": tp,
                        "max_trades_per_day": draw(
                            st.sampled_from((base["max_trades_per_day"], 1, 2, 4))
                        ),
                    },
                )
                for sl in stops
                for tp in targets
            ]
        )
    combos = [c for group in itertools.zip_longest(*rules) for c in group if c is not None]
    return bars, combos, run_settings


def _describe(trades: np.ndarray) -> list[tuple]:
    return [tuple(t.item()) for t in trades]


def _note(bars: Bars, trades: np.ndarray) -> None:
    """Count the section-8 cases ``trades`` cover (bid_ask only)."""
    sym = bars.symbol
    if not sym.bid_ask or not len(trades):
        return
    spread = bars.bar_spread()
    entry_spread = spread[trades["entry_bar"]]
    exit_spread = spread[trades["exit_bar"]]
    short, close = trades["direction"] < 0, trades["reason"] == 2
    cases = {
        "bid_ask trade": np.ones(len(trades), dtype=bool),
        "data spread": np.full(len(trades), sym.spread_source == "data"),
        "short closed with spread": short & close & (exit_spread > 0),
        "short SL with spread": short & (trades["reason"] == 0) & (exit_spread > 0),
        "long entry with spread": ~short & (entry_spread > 0),
        "spread >= D at entry": entry_spread >= trades["stop_points"],
        "slippage": np.full(len(trades), sym.slippage_points > 0),
    }
    for name, hit in cases.items():
        if hit.any():
            COVERED[name] += 1
            event(name)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=sweep_case())
def test_sweep_equals_emulator(case):
    # Arrange
    bars, combos, run_settings = case
    # Act
    fast = run_sweep(bars, combos, run_settings)
    slow = [adapter.run_combo(bars, params, run_settings) for params in combos]
    # Assert
    for params, (fast_trades, fast_skipped), (slow_trades, slow_skipped) in zip(combos, fast, slow):
        _note(bars, slow_trades)
        assert _describe(fast_trades) == _describe(slow_trades), (params, bars.symbol)
        assert fast_skipped == slow_skipped, params


@settings(
    max_examples=max(1, EXAMPLES // 2),
    deadline=None,
    derandomize=EXAMPLES <= 300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=shared_entry_case())
def test_shared_entries_equal_emulator(case):
    # Arrange: several stops and targets (and trade limits) per entry rule, rules interleaved
    bars, combos, run_settings = case
    # Act
    fast = run_sweep(bars, combos, run_settings)
    slow = [adapter.run_combo(bars, params, run_settings) for params in combos]
    # Assert
    for params, (fast_trades, fast_skipped), (slow_trades, slow_skipped) in zip(combos, fast, slow):
        _note(bars, slow_trades)
        assert _describe(fast_trades) == _describe(slow_trades), (params, bars.symbol)
        assert fast_skipped == slow_skipped, params


def test_cases_covered():
    """The examples above covered the section-8 cases (when they ran in this session)."""
    if not COVERED:
        pytest.skip("the differential tests did not run in this session")
    assert set(COVERED) == {
        "bid_ask trade",
        "data spread",
        "short closed with spread",
        "short SL with spread",
        "long entry with spread",
        "spread >= D at entry",
        "slippage",
    }, COVERED
