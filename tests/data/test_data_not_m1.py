"""Only M1 bars load (issue 21 item 16): every time on a whole minute, consecutive bars of a
day a median 60 s apart (--drop-invalid does not hide either), and at most max_rows rows."""

import copy

import pandas as pd
import pytest

from backtest.core.config import DEFAULTS
from backtest.data.files import DataError
from backtest.data.loaders import load_bars, load_period_bars


def _bars_csv(write_csv, times: pd.DatetimeIndex):
    return write_csv([f"{t:%Y-%m-%d %H:%M:%S},100,101,99,100" for t in times])


def _bars_parquet(path, times: pd.DatetimeIndex):
    frame = pd.DataFrame({"time": times, "open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0})
    frame.to_parquet(path)
    return path


@pytest.mark.parametrize("drop_invalid", [False, True])
def test_one_second_bars_are_refused(write_csv, ger40, drop_invalid):
    # Arrange
    path = _bars_csv(write_csv, pd.date_range("2024-01-02 09:00", periods=300, freq="s"))

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, ger40, drop_invalid=drop_invalid)

    # Assert
    assert str(err.value) == (
        f"{path}: row 2 (2024-01-02 09:00:01): time is not on a whole minute; M1 bars open "
        "at :00 seconds (not M1 data? --drop-invalid does not drop it)"
    )


def test_bars_stamped_at_30_seconds_are_refused(tmp_path, ger40):
    # Arrange
    times = pd.date_range("2024-01-02 09:00:30", periods=60, freq="min", tz="UTC")
    path = _bars_parquet(tmp_path / "bars.parquet", times)

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, ger40, drop_invalid=True)

    # Assert
    assert str(err.value).startswith(
        f"{path}: row 1 (2024-01-02T09:00:30+00:00): time is not on a whole minute"
    )


def test_mt5_export_at_30_seconds_is_refused(write_mt5, ger40):
    # Arrange
    path = write_mt5(
        [("2024.01.02", f"11:{m:02d}:30", 100, 101, 99, 100) for m in range(5)],
    )

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, ger40, server_tz="Europe/Athens")

    # Assert
    assert str(err.value).startswith(
        f"{path}: row 1 (2024.01.02 11:00:30 Europe/Athens): time is not on a whole minute"
    )


@pytest.mark.parametrize("drop_invalid", [False, True])
def test_m5_bars_are_refused(write_csv, ger40, drop_invalid):
    # Arrange: two days of M5 bars, 09:00-10:55 (23 pairs a day)
    times = pd.date_range("2024-01-02 09:00", periods=24, freq="5min").append(
        pd.date_range("2024-01-03 09:00", periods=24, freq="5min")
    )
    path = _bars_csv(write_csv, times)

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, ger40, drop_invalid=drop_invalid)

    # Assert
    assert str(err.value) == (
        f"{path}: row 2 (2024-01-02 09:05:00): 300 s after the bar before; consecutive bars "
        "within a day are a median 300 s apart, not 60 s: not M1 bars "
        "(--drop-invalid does not change that)"
    )


def test_minute_times_truncated_from_seconds_are_refused_with_drop_invalid(write_csv, ger40):
    # Arrange: 1-second bars whose times lost their seconds: 60 rows per minute
    seconds = pd.date_range("2024-01-02 09:00", periods=600, freq="s")
    path = _bars_csv(write_csv, seconds.floor("min"))

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, ger40, drop_invalid=True)

    # Assert
    assert "0 s after the bar before" in str(err.value)
    assert "a median 0 s apart, not 60 s" in str(err.value)


def test_m1_with_missing_minutes_and_a_few_hourly_bars_load(write_csv, tmp_path, ger40):
    # Arrange (a guard: M1 data with holes, and hand-made files of a few bars, stay valid)
    minutes = pd.date_range("2024-01-02 09:00", periods=120, freq="min", tz="UTC")
    with_holes = _bars_parquet(tmp_path / "holes.parquet", minutes.delete([5, 6, 7, 50, 90]))
    hourly = _bars_csv(write_csv, pd.date_range("2024-01-02 08:00", periods=14, freq="h"))

    # Act
    loaded = [len(load_bars(with_holes, ger40)), len(load_bars(hourly, ger40))]

    # Assert
    assert loaded == [115, 14]


def test_more_rows_than_max_rows_is_refused(write_csv, tmp_path, write_mt5, ger40):
    # Arrange
    times = pd.date_range("2024-01-02 09:00", periods=30, freq="min")
    csv = _bars_csv(write_csv, times)
    parquet = _bars_parquet(tmp_path / "bars.parquet", times.tz_localize("UTC"))
    mt5 = write_mt5([(f"{t:%Y.%m.%d}", f"{t:%H:%M}", 100, 101, 99, 100) for t in times])

    # Act
    errors = []
    for path, tz in ((csv, None), (parquet, None), (mt5, "Europe/Athens")):
        with pytest.raises(DataError) as err:
            load_bars(path, ger40, server_tz=tz, max_rows=20)
        errors.append(str(err.value))

    # Assert
    assert errors == [
        f"{path}: row 21: more than 20 rows, the most one data file may hold "
        "(run.max_data_rows in the config); split the file or raise the limit"
        for path in (csv, parquet, mt5)
    ]


def test_period_bars_take_the_configured_row_limit(tmp_path):
    # Arrange
    times = pd.date_range("2024-01-02 09:00", periods=30, freq="min", tz="UTC")
    path = _bars_parquet(tmp_path / "bars.parquet", times)
    cfg = copy.deepcopy(DEFAULTS)
    cfg["run"]["max_data_rows"] = 29

    # Act
    with pytest.raises(DataError) as err:
        load_period_bars("GER40", "in_sample", str(path), cfg)

    # Assert
    assert str(err.value).startswith(f"{path}: row 30: more than 29 rows")
