"""The compact trades' compiled valuation gives exactly ``trade_values``' floats.

``compact_runs`` values a batch's trades in one compiled pass instead of through
``backtest.strategy.trades.trade_values`` (numpy); the two must agree bit for bit (the
scoring and the trade records read the same ``r`` and money), on both symbols (a
``value_per_point`` of 1 and of 100), with and without spread, and when the trades are
put in another order than they are stored in.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.core.config import symbol_spec
from backtest.strategy.daily import compact_runs
from backtest.strategy.trades import empty_trades, trade_values
from tests.strategy.metrics.helpers import BARS_PER_DAY, ENTRY, make_bars


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    symbol=st.sampled_from(("GER40", "XAUUSD")),
    spread=st.sampled_from((0.0, 1.0, 3.0)),
    model=st.sampled_from(("cost", "bid_ask")),
    commission=st.sampled_from((0.0, 2.0)),
)
def test_compiled_values_equal_trade_values(seed, symbol, spread, model, commission):
    # Arrange: random trades of 1-20 days in two pieces, each to be put in a shuffled order
    rng = np.random.default_rng(seed)
    dates = [str(np.datetime64("2024-01-01") + int(o)) for o in range(int(rng.integers(1, 20)))]
    spec = symbol_spec(symbol)
    bars = dataclasses.replace(
        make_bars(dates),
        symbol=dataclasses.replace(
            spec,
            spread=spread * spec.point,
            spread_model=model,
            commission=commission * spec.point,
        ),
    )
    n = int(rng.integers(0, 200))
    trades = empty_trades(n)
    trades["entry_bar"] = rng.integers(0, len(dates) * BARS_PER_DAY, n)
    trades["direction"] = rng.choice([-1, 1], n)
    trades["entry"] = ENTRY + rng.integers(-500, 500, n)
    trades["stop_points"] = rng.integers(1, 400, n)
    trades["exit"] = trades["entry"] + rng.integers(-900, 900, n)
    trades["lots"] = np.round(rng.choice([0.01, 0.37, 3.0, 12.5], n) * rng.random(n) + 0.01, 2)
    cut = int(rng.integers(0, n + 1))
    pieces = [(trades[:cut], rng.permutation(cut)), (trades[cut:], rng.permutation(n - cut))]
    # Act
    compact = compact_runs(pieces, np.array([n]), np.array([0]), np.zeros(0, np.int32), bars)
    # Assert: a piece's trade i at position[i] after the pieces before it
    expected = trade_values(np.concatenate([t[np.argsort(p)] for t, p in pieces]), bars)
    assert compact.day.tolist() == expected["day"].tolist()
    assert compact.r.tobytes() == expected["r"].astype(np.float64).tobytes()
    assert compact.pnl.tobytes() == expected["pnl_money"].astype(np.float64).tobytes()
