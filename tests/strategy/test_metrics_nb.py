"""The compiled window scoring equals the readable ``combo_metrics`` on random trades.

Random days (some without trades), 0-4 trades a day, wins, losses and exact-zero trades,
lot sizes, spread costs, accounts near the prop limits; the whole period as the window and
random sub-windows against ``combo_metrics`` on the trades of those days.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.strategy.daily import compact_trades
from backtest.strategy.metrics import METRIC_KEYS, combo_metrics
from backtest.strategy.metrics_nb import metrics_dict, window_metrics
from backtest.strategy.trades import empty_trades
from tests.strategy.metrics.helpers import BARS_PER_DAY, ENTRY, make_bars


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    n_days = int(rng.integers(1, 30))
    offsets = np.sort(rng.choice(120, n_days, replace=False))
    dates = [str(np.datetime64("2024-01-01") + int(o)) for o in offsets]
    bars = make_bars(dates)
    bars = dataclasses.replace(
        bars,
        symbol=dataclasses.replace(
            symbol_spec("GER40"),
            spread=float(rng.choice([0, 1])),
            spread_model=str(rng.choice(["cost", "bid_ask"])),
        ),
    )
    rows = []
    for day in range(n_days):
        for slot in sorted(rng.choice(BARS_PER_DAY, int(rng.integers(0, 5)), replace=False)):
            rows.append(day * BARS_PER_DAY + int(slot))
    trades = empty_trades(len(rows))
    trades["entry_bar"] = trades["exit_bar"] = rows
    trades["direction"] = rng.choice([-1, 1], len(rows))
    trades["entry"] = ENTRY
    stop = rng.integers(50, 400, len(rows))
    trades["exit"] = ENTRY + trades["direction"] * rng.choice([-1, 0, 1, 2], len(rows)) * stop
    trades["stop_points"] = stop
    trades["lots"] = rng.choice([0.01, 0.5, 3.0], len(rows))
    skip_days = bars.day[::BARS_PER_DAY][rng.random(n_days) < 0.2]
    account = float(rng.choice([1_000.0, 100_000.0]))
    return bars, trades, skip_days, RunSettings(account_size=account)


def same(expected, got, key):
    if isinstance(expected, float) and isinstance(got, float):
        assert math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-9), key
    else:
        assert expected == got, key


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_compiled_scoring_equals_combo_metrics(seed, cut):
    bars, trades, skip_days, run = random_case(seed)
    days = bars.trading_days()
    a, b = sorted(int(x * (len(days) - 1)) for x in cut)
    lo, hi = int(days[a]), int(days[b])
    inside = (bars.day[trades["entry_bar"]] >= lo) & (bars.day[trades["entry_bar"]] <= hi)
    window = bars.take((bars.day >= lo) & (bars.day <= hi))
    offset = int(np.flatnonzero(bars.day >= lo)[0])
    shifted = trades[inside].copy()
    shifted["entry_bar"] -= offset
    shifted["exit_bar"] -= offset
    skipped = int(((skip_days >= lo) & (skip_days <= hi)).sum())
    expected = combo_metrics(shifted, skipped, window, run)

    compact = compact_trades([(trades, skip_days)], bars)
    cols = window_metrics(
        compact,
        lo,
        hi,
        b - a + 1,
        run.account_size,
        run.daily_loss_limit_pct,
        run.max_loss_limit_pct,
    )
    got = metrics_dict(cols, 0)

    for key in METRIC_KEYS:
        same(expected[key], got[key], key)
