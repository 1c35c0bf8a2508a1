"""Sample data (generator version 2) carries a realistic spread in whole broker points:
the fixed spread in quiet hours, wide in the first minutes after the session and cash
opens and around news-like jumps; its prices are version 1's; old cached files are not
reused."""

import copy
import hashlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from backtest.core.config import DEFAULTS, symbol_spec
from backtest.data.loaders import load_bars
from backtest.data.sample import ensure_sample, generate_bars, write_parquet


@pytest.fixture(scope="module")
def ger40():
    frame = generate_bars("GER40", "2024-01-08", "2024-03-01", 3)
    local = frame["time"].dt.tz_convert("Europe/Berlin")
    return frame.assign(minute=local.dt.hour * 60 + local.dt.minute, day=local.dt.date)


def _mean_spread(frame: pd.DataFrame, first: str, last: str) -> float:
    lo, hi = (int(t[:2]) * 60 + int(t[3:]) for t in (first, last))
    return float(frame.loc[frame["minute"].between(lo, hi), "spread"].mean())


def test_spread_is_whole_points_fixed_in_cash_hours_and_wider_before(ger40):
    # Act
    midday = ger40.loc[ger40["minute"].between(12 * 60, 16 * 60), "spread"].median()
    pre_market = ger40.loc[ger40["minute"].between(3 * 60, 7 * 60), "spread"].median()

    # Assert
    assert ger40["spread"].dtype == np.int64 and (ger40["spread"] >= 1).all()
    assert 100 <= midday <= 120  # GER40's fixed spread 1.0 is 100 points
    assert pre_market > 1.5 * midday


def test_spread_is_wide_after_the_session_and_cash_opens(ger40):
    # Act
    session_open = _mean_spread(ger40, "01:15", "01:19")
    cash_open = _mean_spread(ger40, "09:00", "09:02")
    midday = _mean_spread(ger40, "12:00", "16:00")

    # Assert
    assert session_open > 2.5 * midday
    assert cash_open > 1.8 * midday


def test_spread_is_wide_around_jumps(ger40):
    # Arrange: a jump is a bar that opens away from the close of the minute before
    after_a_minute = (ger40["time"].diff() == pd.Timedelta(minutes=1)) & (
        ger40["day"] == ger40["day"].shift()
    )
    jump = after_a_minute & (ger40["open"] != ger40["close"].shift())
    quiet_hours = ger40["minute"].between(10 * 60, 21 * 60)

    # Act
    at_jumps = ger40.loc[jump & quiet_hours, "spread"].median()
    elsewhere = ger40.loc[~jump & quiet_hours, "spread"].median()

    # Assert
    assert jump[quiet_hours].sum() >= 5
    assert at_jumps > 2.5 * elsewhere


def test_xauusd_spread_widens_at_the_us_open():
    # Arrange
    frame = generate_bars("XAUUSD", "2024-02-05", "2024-03-01", 3)
    local = frame["time"].dt.tz_convert("Europe/London")
    minute = local.dt.hour * 60 + local.dt.minute

    # Act
    us_open = frame.loc[minute.between(14 * 60 + 30, 14 * 60 + 32), "spread"].mean()
    before = frame.loc[minute.between(13 * 60, 14 * 60), "spread"].mean()

    # Assert
    assert us_open > 1.5 * before


def test_sample_spread_read_as_data_is_plausible_with_spikes(tmp_path):
    # Arrange
    path = tmp_path / "sample.parquet"
    write_parquet(generate_bars("GER40", "2024-01-08", "2024-01-19", 5), path)

    # Act
    spreads = load_bars(path, replace(symbol_spec("GER40"), spread_source="data")).bar_spread()

    # Assert: the median near the fixed 100 points (spread_unit not doubted), spikes wide
    assert 100 <= np.median(spreads) <= 150
    assert spreads.max() > 3 * np.median(spreads)


def test_prices_are_those_of_generator_version_1():
    # Arrange (a guard: the new spread draws on its own stream; digest taken at version 1)
    frame = generate_bars("GER40", "2024-03-25", "2024-04-05", 7)

    # Act
    times = frame["time"].to_numpy("datetime64[ns]").view(np.int64)
    values = frame[["open", "high", "low", "close", "tick_volume"]].to_numpy(np.float64)
    digest = hashlib.sha256(times.tobytes() + values.tobytes()).hexdigest()

    # Assert
    assert digest == "23dbc1b00c6638db4325d5a44985c6ec6c1e8b938ed72a6fd81bd5c455385b0c"


def test_a_sample_file_of_version_1_is_not_reused(tmp_path):
    # Arrange: a cached file under version 1's name (its spread: the fixed one plus noise)
    cfg = copy.deepcopy(DEFAULTS)
    cfg["run"]["sample_dir"] = str(tmp_path)
    cfg["periods"]["control"].update(start_date="2024-01-08", end_date="2024-01-09")
    old = tmp_path / "GER40_M1_2024-01-08_2024-01-09_seed42_v1.parquet"
    old.write_bytes(b"a version 1 sample file")

    # Act
    path = ensure_sample("GER40", "control", cfg)

    # Assert
    assert path.name == "GER40_M1_2024-01-08_2024-01-09_seed42_v2.parquet"
    assert load_bars(path, symbol_spec("GER40")).spread_data.max() > 200
