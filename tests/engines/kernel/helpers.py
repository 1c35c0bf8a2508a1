"""Small hand-made bar series for the kernel tests (prices in whole points)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from backtest.core.config import symbol_spec
from backtest.data.bars import Bars, bars_from_frame
from backtest.strategy.params import resolve_params


def make_bars(
    rows: list[tuple[str, int, int, int, int]],
    symbol: str = "GER40",
    utc: bool = False,
    **spec_overrides: Any,
) -> Bars:
    """Bars from ``("YYYY-MM-DD HH:MM", open, high, low, close)`` rows in points;
    times are the symbol's local time unless ``utc``. Keyword arguments override the
    symbol's spec (e.g. ``spread_model``)."""
    spec = replace(symbol_spec(symbol), **spec_overrides)
    times = pd.DatetimeIndex([r[0] for r in rows])
    times = times.tz_localize("UTC") if utc else times.tz_localize(spec.timezone)
    frame = pd.DataFrame(
        {
            "time": times.tz_convert("UTC"),
            **{
                col: [r[i] * spec.point for r in rows]
                for i, col in enumerate(("open", "high", "low", "close"), start=1)
            },
        }
    )
    return bars_from_frame(frame, spec)


def params(symbol: str = "GER40", **overrides: Any) -> dict[str, Any]:
    """A resolved combination with short windows: IB 09:00-09:02, entries to 09:10, close 09:20."""
    base = {"ib_start": "09:00", "ib_end": "09:02", "trade_end": "09:10", "close_time": "09:20"}
    base.update(overrides)
    return resolve_params(symbol, base)


IB_ROWS = [  # IB 09:00-09:02 on Tue 2024-03-05: IBH 1010, IBL 990, IB 20 points
    ("2024-03-05 09:00", 1000, 1010, 995, 1005),
    ("2024-03-05 09:01", 1005, 1008, 990, 1000),
]


def brief(trades) -> list[tuple[int, int, int, int, int, int, int, str]]:
    """(entry_bar, exit_bar, direction, entry, exit, sl, tp, reason) per trade."""
    return [
        (
            int(t["entry_bar"]),
            int(t["exit_bar"]),
            int(t["direction"]),
            int(t["entry"]),
            int(t["exit"]),
            int(t["sl"]),
            int(t["tp"]),
            ("sl", "tp", "close")[t["reason"]],
        )
        for t in trades
    ]
