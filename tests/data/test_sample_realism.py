"""Sample bars look like a market: session hours with DST, gaps, dojis, an open spike."""

import copy

import numpy as np
import pandas as pd
import pytest

from backtest.core.config import DEFAULTS
from backtest.data.sample import generate_bars


@pytest.fixture(scope="module")
def ger40_winter_and_summer():
    frames = [
        generate_bars("GER40", "2024-01-08", "2024-02-02", 3),
        generate_bars("GER40", "2024-06-03", "2024-06-28", 3),
    ]
    return pd.concat(frames, ignore_index=True)


def _local(frame, tz):
    return frame["time"].dt.tz_convert(tz)


def test_bars_only_inside_the_local_session(ger40_winter_and_summer):
    local = _local(ger40_winter_and_summer, "Europe/Berlin")
    minute = local.dt.hour * 60 + local.dt.minute
    utc_hour_of_first = ger40_winter_and_summer.groupby(local.dt.date)["time"].min().dt.hour

    assert minute.min() >= 75 and minute.max() <= 22 * 60 - 1  # 01:15 .. 21:59 local
    assert (local.dt.dayofweek < 5).all()
    assert set(utc_hour_of_first[utc_hour_of_first.index < pd.Timestamp("2024-03-01").date()]) == {
        0
    }
    assert set(utc_hour_of_first[utc_hour_of_first.index > pd.Timestamp("2024-05-01").date()]) == {
        23
    }


def test_no_bars_on_christmas_and_new_year():
    frame = generate_bars("XAUUSD", "2024-12-23", "2025-01-03", 3)
    dates = set(_local(frame, "Europe/London").dt.strftime("%m-%d"))

    assert "12-25" not in dates and "01-01" not in dates and "12-24" in dates


def test_missing_minutes_and_dojis_exist(ger40_winter_and_summer):
    frame = ger40_winter_and_summer
    day = _local(frame, "Europe/Berlin").dt.date
    step = frame["time"].diff().dt.total_seconds()
    same_day = day == day.shift()

    assert ((step > 60) & same_day).any()
    assert (frame["close"] == frame["open"]).sum() > 0


def test_all_bars_valid_and_on_the_point(ger40_winter_and_summer):
    f = ger40_winter_and_summer
    points = {c: f[c].to_numpy() / 0.01 for c in ("open", "high", "low", "close")}

    assert (f["low"] <= np.minimum(f["open"], f["close"])).all()
    assert (f["high"] >= np.maximum(f["open"], f["close"])).all()
    assert (f[["open", "high", "low", "close"]] > 0).all().all()
    for values in points.values():
        assert np.allclose(values, np.rint(values), atol=1e-6)


def test_open_is_more_volatile_than_midday(ger40_winter_and_summer):
    f = ger40_winter_and_summer
    local = _local(f, "Europe/Berlin")
    minute = local.dt.hour * 60 + local.dt.minute
    bar_range = f["high"] - f["low"]

    after_open = bar_range[(minute >= 9 * 60) & (minute < 9 * 60 + 30)].mean()
    midday = bar_range[(minute >= 12 * 60) & (minute < 14 * 60)].mean()

    assert after_open > midday


def test_xauusd_us_open_spike():
    f = generate_bars("XAUUSD", "2024-02-05", "2024-03-01", 3)
    local = _local(f, "Europe/London")
    minute = local.dt.hour * 60 + local.dt.minute
    bar_range = f["high"] - f["low"]

    us_open = bar_range[(minute >= 14 * 60 + 30) & (minute < 15 * 60)].mean()
    before = bar_range[(minute >= 13 * 60) & (minute < 14 * 60)].mean()

    assert us_open > before


def test_base_price_comes_from_config():
    cfg = copy.deepcopy(DEFAULTS)
    cfg["symbols"]["GER40"]["base_price"] = 5000.0

    frame = generate_bars("GER40", "2024-01-02", "2024-01-02", 1, cfg)

    assert frame["open"].iloc[0] == 5000.0
