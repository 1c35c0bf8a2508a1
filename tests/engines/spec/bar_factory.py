"""Tiny hand-made bar series for the spec tests, and one call to run them.

Rows are ``(local time, open, high, low, close)`` in price units; the local
time is ``"HH:MM"`` on ``day`` or a full ``"YYYY-MM-DD HH:MM"``, in the
symbol's session time zone (use ``utc=True`` for UTC times). Keyword
arguments of :func:`make_bars` override the symbol's spec (e.g. ``commission``,
``spread_model``); ``spreads`` is the file's ``spread`` column, one value a row (the
bars' own spread with ``spread_source="data"``, spec section 8.1).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars, bars_from_frame
from backtest.engines.adapter import run_combo
from backtest.strategy.params import resolve_params
from backtest.strategy.trades import trade_records

DAY = "2024-03-05"  # a Tuesday, no DST change

# The standard GER40 IB hour in one rising bar: IBH 110, IBL 90, IB = 20.00
# (2000 points), so with the defaults L = 110, S = 90, D = T = 20.00, lots 50.
IB_BAR = ("09:00", 100.0, 110.0, 90.0, 105.0)


def make_bars(
    rows: list[tuple[str, float, float, float, float]],
    symbol: str = "GER40",
    day: str = DAY,
    utc: bool = False,
    spreads: list[float] | None = None,
    **spec_overrides: Any,
) -> Bars:
    spec = replace(symbol_spec(symbol), **spec_overrides)
    stamps = [pd.Timestamp(t if len(t) > 5 else f"{day} {t}") for t, *_ in rows]
    zone = "UTC" if utc else spec.timezone
    times = [s.tz_localize(zone).tz_convert("UTC") for s in stamps]
    frame = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(times),
            "open": [r[1] for r in rows],
            "high": [r[2] for r in rows],
            "low": [r[3] for r in rows],
            "close": [r[4] for r in rows],
        }
    )
    if spreads is not None:
        frame["spread"] = np.asarray(spreads, dtype=np.float64)
    return bars_from_frame(frame, spec)


def run(
    bars: Bars, news_ns: list[int] | None = None, risk: float = 1000.0, **overrides: Any
) -> tuple[list[dict[str, Any]], int, np.ndarray]:
    """Run one combination (symbol defaults + ``overrides``): records, skipped, raw trades."""
    params = resolve_params(bars.symbol.name, overrides)
    settings = RunSettings(risk=risk, news_ns=np.asarray(sorted(news_ns or []), dtype=np.int64))
    trades, skipped = run_combo(bars, params, settings)
    return trade_records(trades, bars), skipped, trades


def utc_ns(text: str) -> int:
    """A UTC time as ns since the epoch."""
    return pd.Timestamp(text, tz="UTC").value
