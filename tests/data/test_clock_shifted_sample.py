"""The clock checked from the data (issue 25 item 1): sample bars (a volatility spike at
each cash open) exported on the usual broker clock and read with a clock 1, 2 or 7 hours
off are refused, naming the --server-tz that puts the open right; the right clock passes."""

from __future__ import annotations

import pytest

from backtest.core.config import symbol_spec
from backtest.data.bars import bars_from_frame
from backtest.data.clock import read_clock
from backtest.data.files import DataError
from backtest.data.loaders import load_period_bars
from tests.data.clock_helpers import sample_frame, write_mt5_export, write_shifted_parquet

SHIFTS = [-7, -2, -1, 1, 2, 7]


def _load(symbol: str, path, server_tz: str | None = None, said: list | None = None):
    """The runner's loading of a data file, with the clock check."""
    log = said.append if said is not None else (lambda message: None)
    return load_period_bars(symbol, "in_sample", str(path), None, server_tz, False, log, "refuse")


@pytest.fixture(scope="module")
def ger40_export(tmp_path_factory):
    """Four January weeks of GER40 (no daylight-saving change), on broker:NY+7."""
    frame = sample_frame("GER40", "2024-01-08", "2024-02-02")
    return write_mt5_export(frame, tmp_path_factory.mktemp("ger40") / "GER40.csv", "broker:NY+7")


def test_the_right_clock_passes_and_the_open_is_measured_at_nine(ger40_export):
    # Arrange
    said: list[str] = []
    # Act
    bars = _load("GER40", ger40_export, "broker:NY+7", said)
    reading = read_clock(bars, (540,), "broker:NY+7", mt5=True)
    # Assert
    assert (reading.shift, reading.wrong, reading.days) == (0, False, 20)
    clock_lines = [line for line in said if "clock" in line]
    assert len(clock_lines) == 1
    assert "GER40's cash open (09:00 Europe/Berlin) measured at 09:00" in clock_lines[0]
    assert clock_lines[0].endswith("the clock is right")


@pytest.mark.parametrize("hours", SHIFTS)
def test_a_broker_clock_hours_off_is_refused_naming_the_right_one(ger40_export, hours):
    # Arrange: read as New York + 7 + hours: every bar `hours` too early
    given = f"broker:NY{7 + hours:+d}" if 7 + hours else "broker:NY"
    measured = f"{(9 - hours) % 24:02d}:00"
    # Act
    with pytest.raises(DataError) as refused:
        _load("GER40", ger40_export, given)
    # Assert
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{ger40_export}: the clock looks wrong: GER40's cash open ")
    assert f"(09:00 Europe/Berlin) is at {measured} in these bars" in message
    assert f"read with --server-tz {given};" in message
    assert f"every bar is {abs(hours)} h {'earlier' if hours > 0 else 'later'}" in message
    assert "--server-tz broker:NY+7 puts it right" in message
    assert message.endswith("(--ignore-clock-check runs anyway)")


@pytest.mark.parametrize("hours", SHIFTS)
def test_a_parquet_file_whose_times_are_not_utc_is_refused(tmp_path, hours):
    # Arrange: sample bars stamped `hours` later than UTC (say, in the broker's time)
    frame = sample_frame("GER40", "2024-01-08", "2024-01-26")
    path = write_shifted_parquet(frame, tmp_path / "shifted.parquet", hours)
    # Act
    with pytest.raises(DataError) as refused:
        _load("GER40", path)
    # Assert
    message = str(refused.value)
    assert f"is at {(9 + hours) % 24:02d}:00 in these bars (the file's times taken as UTC" in (
        message
    )
    assert "not UTC: a Parquet/CSV file holds UTC times" in message


def test_the_two_xauusd_opens_are_both_moved(tmp_path):
    # Arrange: XAUUSD's London 08:00 and New York 14:30 opens, read 2 h too late
    frame = sample_frame("XAUUSD", "2024-01-08", "2024-01-26")
    path = write_mt5_export(frame, tmp_path / "XAUUSD.csv", "broker:NY+7")
    # Act
    with pytest.raises(DataError) as refused:
        _load("XAUUSD", path, "broker:NY+5")
    right = _load("XAUUSD", path, "broker:NY+7")
    # Assert
    message = str(refused.value)
    assert "XAUUSD's cash opens (08:00, 14:30 Europe/London) are at 10:00, 16:30" in message
    assert "--server-tz broker:NY+7 puts it right" in message
    assert len(right) == len(frame)


def test_posix_etc_gmt_plus_two_is_refused_and_explained(ger40_export):
    # Arrange: Etc/GMT+2 is UTC-2; the server is UTC+2 in winter (issue 25: it ran silently)
    # Act
    with pytest.raises(DataError) as refused:
        _load("GER40", ger40_export, "Etc/GMT+2")
    # Assert
    message = str(refused.value)
    assert "read with --server-tz Etc/GMT+2 (UTC-2: POSIX inverts the sign)" in message
    assert "is at 13:00 in these bars" in message and "every bar is 4 h later" in message
    assert "--server-tz broker:NY+7 puts it right" in message


def test_london_times_taken_as_utc_are_refused_naming_london():
    # Arrange: a year of bars stamped in London wall-clock time, as if it were UTC
    frame = sample_frame("GER40", "2024-01-01", "2024-12-31")
    london = frame["time"].dt.tz_convert("Europe/London").dt.tz_localize(None)
    bars = bars_from_frame(frame.assign(time=london.dt.tz_localize("UTC")), symbol_spec("GER40"))
    # Act
    reading = read_clock(bars, (540,))
    # Assert: an hour late on the summer days, the majority
    assert (reading.wrong, reading.shift, reading.right) == (True, 60, "Europe/London")
    assert "the times look like Europe/London time, not UTC" in reading.problem()
