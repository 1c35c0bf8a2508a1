"""The ``cost`` execution model gives today's results bit for bit (issue 20).

Fixed series (seeded random walks: gaps, dojis, wide bars, missing minutes, a session long
enough for ``close_time``; GER40 with and without commission, XAUUSD) × a fixed grid
(directions, stops, targets with and without a take-profit, buffers, trades per day, news,
lot skips), through both engines and the scoring. The digests were taken with the code
before the execution models (commit 00e9ef0, whose engines knew only this model); a
change to the ``cost`` model's trades, ``skipped``, trade records (r, money) or metrics
changes them. The trades' excursions (``mae``/``mfe``, issue 23), which that code did not
record, are left out of the digest (``test_excursions`` and the differential test hold
them).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.lib.recfunctions import repack_fields

from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars, bars_from_frame
from backtest.engines.run import ENGINES, raw_trades, score_batch
from backtest.strategy.params import resolve_params
from backtest.strategy.trades import TRADE_DTYPE, trade_records

# the trade fields of commit 00e9ef0 (the excursions came later) and their types then
BEFORE_FIELDS = [name for name in TRADE_DTYPE.names if name not in ("mae", "mfe")]
BEFORE_DTYPE = np.dtype(
    [(name, np.int64 if name.endswith("_bar") else TRADE_DTYPE[name]) for name in BEFORE_FIELDS]
)
# (symbol, commission, seed) of each fixed series, and its digest at commit 00e9ef0
DIGESTS = {
    ("GER40", 0.0, 1): "880a3ddc1ddc7d807004a3ab9936a20091cb325aaf9f7802d851e175d4267efb",
    ("GER40", 0.5, 2): "76403232890048efa25eb8050a5570765bfe1a0c726e1add4f4e4e0ff4a0eadb",
    ("XAUUSD", 0.0, 3): "a47272dd1a172e3d76ebb76832f3f41ada78ba240a168657104adbeb38acde0c",
}


def fixed_series(symbol: str, commission: float, seed: int) -> Bars:
    """Ten weekdays of M1 bars, 08:00-22:30 local, a seeded random walk (points)."""
    spec = replace(symbol_spec(symbol), spread_model="cost", commission=commission)
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-03-18", periods=10)
    times = []
    for day in days:
        first = (day + pd.Timedelta(hours=8)).tz_localize(spec.timezone).tz_convert("UTC")
        times.extend(first + pd.Timedelta(minutes=i) for i in range(14 * 60 + 30))
    keep = rng.random(len(times)) >= 0.05
    times = [t for t, k in zip(times, keep) if k]
    n = len(times)
    gap = rng.random(n) < 0.02
    jump = rng.integers(5, 60, n) * rng.choice((-1, 1), n)
    doji = rng.random(n) < 0.15
    move = rng.integers(-25, 26, n)
    wide = rng.random(n) < 0.05
    reach = np.where(wide, 120, 20)
    up = (rng.random(n) * (reach + 1)).astype(np.int64)
    down = (rng.random(n) * (reach + 1)).astype(np.int64)
    opens = np.empty(n, np.int64)
    closes = np.empty(n, np.int64)
    price = 200_000
    for i in range(n):
        if gap[i]:
            price += int(jump[i])
        opens[i] = price
        closes[i] = price if doji[i] else price + int(move[i])
        price = int(closes[i])
    highs = np.maximum(opens, closes) + up
    lows = np.minimum(opens, closes) - down
    frame = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(times),
            **{
                name: col * spec.point
                for name, col in zip(("open", "high", "low", "close"), (opens, highs, lows, closes))
            },
        }
    )
    return bars_from_frame(frame, spec)


def fixed_grid(symbol: str) -> list[dict[str, Any]]:
    """48 combinations: the symbol's default windows, a short and a late one."""
    axes = itertools.product(
        (("09:00", "10:00", "17:30", "22:00"), ("08:30", "08:45", "12:00", "12:30")),
        ("both", "long", "short"),
        (0.3, 1.0),
        (0.0, 1.5),
        ((0.0, 1, False), (0.1, 3, True)),
    )
    return [
        resolve_params(
            symbol,
            {
                "ib_start": a,
                "ib_end": b,
                "trade_end": c,
                "close_time": d,
                "direction": direction,
                "sl_mult": sl,
                "tp_mult": tp,
                "entry_buffer": buffer,
                "max_trades_per_day": trades,
                "news_filter": news,
                "news_before": 5,
                "news_after": 10,
            },
        )
        for (a, b, c, d), direction, sl, tp, (buffer, trades, news) in axes
    ]


def digest(bars: Bars, combos: list[dict[str, Any]], settings: RunSettings) -> str:
    """sha256 of every engine's raw trades and ``skipped``, the trade records and the
    scored metrics (the engines are held equal: one digest covers both)."""
    h = hashlib.sha256()
    for engine in ENGINES:
        for trades, skipped in raw_trades(bars, combos, settings, engine):
            h.update(repack_fields(trades[BEFORE_FIELDS]).astype(BEFORE_DTYPE).tobytes())
            h.update(str(skipped).encode())
            records = [
                {k: v for k, v in rec.items() if k not in ("mae", "mfe")}
                for rec in trade_records(trades, bars)
            ]
            h.update(json.dumps(records).encode())
        metrics = score_batch(bars, combos, settings, engine).metrics
        for name in sorted(metrics):
            h.update(name.encode())
            h.update(np.ascontiguousarray(metrics[name]).tobytes())
    return h.hexdigest()


def _settings(bars: Bars) -> RunSettings:
    times = bars.time_ns
    events = np.sort(times[np.linspace(0, len(times) - 1, 25).astype(np.int64)])
    risk = 0.01 if bars.symbol.name == "GER40" else 1.0  # a D above 100 points: skipped
    return RunSettings(risk=risk, news_ns=events)


@pytest.mark.parametrize("key", sorted(DIGESTS))
def test_cost_model_gives_the_results_of_before(key):
    # Arrange
    symbol, commission, seed = key
    bars = fixed_series(symbol, commission, seed)
    # Act
    got = digest(bars, fixed_grid(symbol), _settings(bars))
    # Assert
    assert got == DIGESTS[key]
