"""GER40 M1 bars where the IB breakout really works: every day trends after the IB.

A random walk (2 points per minute) from 08:00 to 22:00 Berlin time on weekdays; from
09:30 to 17:30 the day drifts 0.2 points a minute in a direction drawn per day, so a
breakout of the initial balance usually runs on far beyond a take-profit. The
counterpart of the built-in sample data (no edge) for tests of the robustness verdict.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.sample import write_parquet


def planted_edge_bars(path: Path, start: str, end: str, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, end)
    local_minutes = np.arange(8 * 60, 22 * 60)
    frames = []
    price = 16000.0
    for day in days:
        direction = rng.choice([-1.0, 1.0])
        drift = np.where(
            (local_minutes >= 9 * 60 + 30) & (local_minutes < 17 * 60 + 30), 0.2 * direction, 0.0
        )
        steps = rng.normal(0.0, 2.0, len(local_minutes)) + drift
        close = price + np.cumsum(steps)
        open_ = np.concatenate(([price], close[:-1]))
        wick = np.abs(rng.normal(0.0, 1.0, (2, len(close))))
        times = pd.Timestamp(day, tz="Europe/Berlin") + pd.to_timedelta(local_minutes, "min")
        frames.append(
            pd.DataFrame(
                {
                    "time": times.tz_convert("UTC"),
                    "open": np.round(open_, 2),
                    "high": np.round(np.maximum(open_, close) + wick[0], 2),
                    "low": np.round(np.minimum(open_, close) - wick[1], 2),
                    "close": np.round(close, 2),
                }
            )
        )
        price = float(close[-1])
    write_parquet(pd.concat(frames, ignore_index=True), path)
    return path
