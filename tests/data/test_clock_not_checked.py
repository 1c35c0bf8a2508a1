"""When the clock cannot be checked from the data it is not refused, and that is said once:
too few days, a symbol without cash_opens, data without a jump at any one time of day."""

from __future__ import annotations

import numpy as np
import pandas as pd

from backtest.core.config import load_config
from backtest.data.loaders import load_period_bars
from backtest.data.sample import write_parquet
from tests.data.clock_helpers import sample_frame, write_shifted_parquet


def _load(symbol: str, path, cfg=None) -> list[str]:
    """What loading ``path`` with the clock check says."""
    said: list[str] = []
    load_period_bars(symbol, "in_sample", str(path), cfg, None, False, said.append, "refuse")
    return said


def test_fewer_than_ten_days_are_not_checked(tmp_path):
    # Arrange: nine days, two hours off
    frame = sample_frame("GER40", "2024-01-08", "2024-01-18")
    path = write_shifted_parquet(frame, tmp_path / "nine.parquet", 2)
    # Act
    said = _load("GER40", path)
    # Assert
    assert said == [
        f"{path}: clock not checked: 9 day(s) with 240 bars or more; 10 are needed to measure "
        "the cash open"
    ]


def test_a_symbol_without_cash_opens_is_not_checked(tmp_path):
    # Arrange: a new symbol on GER40's sample bars, two hours off
    config = tmp_path / "ibsweep.yaml"
    config.write_text(
        "symbols:\n  DE40:\n    timezone: Europe/Berlin\n    currencies: [EUR]\n"
        "    point: 0.01\n    value_per_point: 1.0\n    volume_min: 0.01\n"
        "    volume_step: 0.01\n    spread: 1.0\n    commission: 0.0\n    params:\n"
        "      ib_start: '09:00'\n      ib_end: '10:00'\n      trade_end: '17:30'\n"
        "      close_time: '22:00'\n"
    )
    frame = sample_frame("GER40", "2024-01-08", "2024-02-02")
    path = write_shifted_parquet(frame, tmp_path / "de40.parquet", 2)
    # Act
    said = _load("DE40", path, load_config(str(config)))
    # Assert
    assert said == [
        f"{path}: clock not checked: DE40 has no cash_opens in the config (the local times "
        "of its cash-market opens, e.g. ['09:00'])"
    ]


def test_a_random_walk_without_an_open_is_not_checked(tmp_path):
    # Arrange: 20 days of 08:00-22:00 Berlin bars of the same volatility all day
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2024-01-08", "2024-02-02")
    minutes = pd.to_timedelta(np.arange(8 * 60, 22 * 60), "min")
    times = np.concatenate(
        [(pd.Timestamp(d, tz="Europe/Berlin") + minutes).tz_convert("UTC") for d in days]
    )
    close = 16000 + np.cumsum(rng.normal(0, 2, len(times)))
    open_ = np.concatenate(([16000.0], close[:-1]))
    wick = np.abs(rng.normal(0, 1, (2, len(times))))
    frame = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(times),
            "open": open_.round(2),
            "high": (np.maximum(open_, close) + wick[0]).round(2),
            "low": (np.minimum(open_, close) - wick[1]).round(2),
            "close": close.round(2),
        }
    )
    path = tmp_path / "walk.parquet"
    write_parquet(frame, path)
    # Act
    said = _load("GER40", path)
    # Assert
    assert len(said) == 1
    assert said[0].startswith(
        f"{path}: clock not checked: no clear volatility jump at the cash open in the data ("
    )
