"""A sweep's result for a combination does not depend on the other combinations
it runs with (shared tables, batches of BATCH, mixed windows and news)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from backtest.core.settings import RunSettings
from backtest.engines.sweep import BATCH, run_sweep
from tests.engines.kernel.helpers import make_bars, params


def _bars():
    rng = np.random.default_rng(3)
    rows, price = [], 1000
    for day in ("2024-03-04", "2024-03-05", "2024-03-06"):
        for minute in range(40):
            o = price
            c = o + int(rng.integers(-6, 7))
            rows.append(
                (
                    f"{day} 09:{minute:02d}",
                    o,
                    max(o, c) + int(rng.integers(0, 5)),
                    min(o, c) - int(rng.integers(0, 5)),
                    c,
                )
            )
            price = c
    return make_bars(rows, spread_model="cost")


def test_each_combination_alone_equals_it_in_a_large_sweep():
    # Arrange: more combinations than one batch, over two windows and news settings
    bars = _bars()
    combos = [
        params(
            ib_end=ib_end,
            sl_mult=sl,
            tp_mult=tp,
            direction=d,
            max_trades_per_day=m,
            news_filter=news,
            entry_buffer=buffer,
        )
        for ib_end, sl, tp, d, m, news, buffer in itertools.product(
            ("09:02", "09:05"),
            (0.3, 0.6, 1.0),
            (0.0, 0.7, 1.5),
            ("both", "long", "short"),
            (1, 3),
            (False, True),
            (0.0, 0.1, 0.3),
        )
    ]
    events = np.array([pd.Timestamp("2024-03-05 08:06", tz="UTC").value], dtype=np.int64)
    settings = RunSettings(news_ns=events)
    assert len(combos) > BATCH
    # Act
    together = run_sweep(bars, combos, settings)
    alone = [run_sweep(bars, [combo], settings)[0] for combo in combos]
    # Assert
    assert sum(len(t) for t, _ in together) > len(combos)
    for (t1, s1), (t2, s2) in zip(together, alone):
        assert t1.tobytes() == t2.tobytes() and s1 == s2
