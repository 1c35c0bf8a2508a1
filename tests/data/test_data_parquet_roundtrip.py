"""Parquet to Bars: exact integer points (rint, ties to even), UTC times, checksum."""

import hashlib

import numpy as np
import pandas as pd

from backtest.data.loaders import load_bars


def test_parquet_round_trip_to_integer_points(tmp_path, ger40):
    # 1.005 / 0.01 is 100.49999999999999 in float64, so rint gives 100 (not 101);
    # 0.015 / 0.01 and 0.025 / 0.01 are exact ties 1.5 and 2.5: both go to the even 2;
    # 16000.125 / 0.01 is the exact tie 1600012.5 -> 1600012.
    assert 1.005 / 0.01 == 100.49999999999999 and 0.025 / 0.01 == 2.5
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(["2024-01-02 08:00", "2024-01-02 08:01", "2024-01-02 08:02"]),
            "open": [1.005, 0.015, 16000.125],
            "high": [1.02, 0.025, 16000.50],
            "low": [1.00, 0.015, 16000.00],
            "close": [1.01, 0.025, 16000.25],
            "tick_volume": [5, 6, 7],
        }
    )
    path = tmp_path / "bars.parquet"
    frame.to_parquet(path, index=False)

    bars = load_bars(path, ger40)

    assert bars.open.dtype == np.int64
    assert list(bars.open) == [100, 2, 1600012]
    assert list(bars.high) == [102, 2, 1600050]
    assert list(bars.low) == [100, 2, 1600000]
    assert list(bars.close) == [101, 2, 1600025]
    assert list(bars.times_utc()) == list(pd.to_datetime(frame["time"]).dt.tz_localize("UTC"))
    assert bars.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert bars.source == str(path)


def test_parquet_with_tz_aware_times_and_time_index(tmp_path, ger40):
    times = pd.DatetimeIndex(
        ["2024-01-02 10:00", "2024-01-02 10:01"], name="time", tz="Europe/Berlin"
    )
    frame = pd.DataFrame(
        {"open": [1.0, 1.0], "high": [1.0, 1.0], "low": [1.0, 1.0], "close": [1.0, 1.0]},
        index=times,
    )
    path = tmp_path / "indexed.parquet"
    frame.to_parquet(path)

    bars = load_bars(path, ger40)

    assert list(bars.times_utc()) == [
        pd.Timestamp("2024-01-02 09:00", tz="UTC"),
        pd.Timestamp("2024-01-02 09:01", tz="UTC"),
    ]
