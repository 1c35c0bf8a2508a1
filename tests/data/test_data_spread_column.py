"""The file's spread column (spec section 8.1): kept by every reader; with spread_source
data a file without it, or a missing/negative/non-finite spread, is a data error naming
the file and the first bad row (--drop-invalid drops such rows and says how many); with
fixed it is unused, so a bad value is said once and ignored."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from backtest.data.files import DataError
from backtest.data.loaders import load_bars

HEADER = "time,open,high,low,close,spread"


@pytest.fixture
def from_data(ger40):
    return replace(ger40, spread_source="data")


def _rows(spreads: list[str]) -> list[str]:
    """CSV rows a minute apart from 2024-01-02 09:00 UTC with these spread cells."""
    return [f"2024-01-02 09:{i:02d},100,101,99,100,{s}" for i, s in enumerate(spreads)]


def test_csv_spread_column_is_kept(write_csv, from_data):
    # Arrange
    path = write_csv(_rows(["120", "150", "90"]), header=HEADER)

    # Act
    bars = load_bars(path, from_data)

    # Assert
    assert list(bars.spread_data) == [120.0, 150.0, 90.0]
    assert list(bars.bar_spread()) == [120, 150, 90]


def test_parquet_spread_column_is_kept(tmp_path, from_data):
    # Arrange
    path = tmp_path / "bars.parquet"
    pd.DataFrame(
        {
            "time": pd.date_range("2024-01-02 09:00", periods=3, freq="min", tz="UTC"),
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.0,
            "Spread": np.array([3, 4, 5], dtype=np.int32),
        }
    ).to_parquet(path)

    # Act
    bars = load_bars(path, replace(from_data, spread_unit=0.5))

    # Assert
    assert list(bars.spread_data) == [3.0, 4.0, 5.0]
    assert list(bars.bar_spread()) == [150, 200, 250]  # x 0.5 / point 0.01


def test_mt5_export_spread_is_kept(write_mt5, from_data):
    # Arrange
    path = write_mt5(
        [
            ("2024.01.02", "11:00", 100, 101, 99, 100, 35),
            ("2024.01.02", "11:01", 100, 101, 99, 100, 0),
        ]
    )

    # Act
    bars = load_bars(path, from_data, server_tz="Europe/Athens")

    # Assert
    assert list(bars.spread_data) == [35.0, 0.0]
    assert list(bars.bar_spread()) == [35, 0]


def test_data_source_needs_the_column(write_csv, from_data):
    # Arrange
    path = write_csv(["2024-01-02 09:00,100,101,99,100"])

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, from_data)

    # Assert
    assert str(err.value) == (
        f"{path}: spread_source data needs the file's spread column "
        "(spread; <SPREAD> in an MT5 export), and the file has none"
    )


@pytest.mark.parametrize(
    "cell, fault",
    [
        ("", "spread is missing"),
        ("-1", "spread -1 is not a finite number >= 0"),
        ("inf", "spread inf is not a finite number >= 0"),
        ("abc", "spread 'abc' is not a number"),
        ("1e300", "spread 1e+300 × spread_unit 0.01 is above the largest price 1e+10"),
    ],
)
def test_data_source_bad_spread_names_file_and_row(write_csv, from_data, cell, fault):
    # Arrange
    path = write_csv(_rows(["100", cell, "100", "-5"]), header=HEADER)

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, from_data)

    # Assert
    assert str(err.value) == (
        f"{path}: row 2 (2024-01-02 09:01): {fault} "
        "(spread_source data needs a spread on every bar)"
    )


def test_data_source_missing_spread_in_parquet(tmp_path, from_data):
    # Arrange
    path = tmp_path / "bars.parquet"
    pd.DataFrame(
        {
            "time": pd.date_range("2024-01-02 09:00", periods=2, freq="min", tz="UTC"),
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.0,
            "spread": pd.array([10, None], dtype="Int64"),
        }
    ).to_parquet(path)

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, from_data)

    # Assert
    assert str(err.value).startswith(
        f"{path}: row 2 (2024-01-02T09:01:00+00:00): spread is missing"
    )


def test_data_source_negative_spread_in_mt5_export(write_mt5, from_data):
    # Arrange
    path = write_mt5(
        [
            ("2024.01.02", "11:00", 100, 101, 99, 100, 30),
            ("2024.01.02", "11:01", 100, 101, 99, 100, -2),
        ]
    )

    # Act
    with pytest.raises(DataError) as err:
        load_bars(path, from_data, server_tz="Europe/Athens")

    # Assert
    assert str(err.value).startswith(
        f"{path}: row 2 (2024.01.02 11:01 Europe/Athens): spread -2 is not a finite number >= 0"
    )


def test_drop_invalid_drops_bad_spreads_and_says_how_many(write_csv, from_data):
    # Arrange
    rows = _rows(["100", "", "-1", "120"]) + ["2024-01-02 09:04,100,99,98,100,100"]  # bad high
    path = write_csv(rows, header=HEADER)
    messages: list[str] = []

    # Act
    bars = load_bars(path, from_data, drop_invalid=True, log=messages.append)

    # Assert
    assert messages == [
        f"{path}: dropped 3 invalid bar(s) (2 for their spread) and 0 duplicate timestamp(s); "
        "sorted 0 out-of-order bar(s)"
    ]
    assert list(bars.spread_data) == [100.0, 120.0]


def test_fixed_source_ignores_bad_spreads_and_says_so_once(write_csv, ger40):
    # Arrange
    path = write_csv(_rows(["100", "-1", "", "abc", "110"]), header=HEADER)
    messages: list[str] = []

    # Act
    bars = load_bars(path, ger40, log=messages.append)

    # Assert
    assert messages == [
        f"{path}: 3 row(s) without a usable spread (first: row 2 (2024-01-02 09:01), "
        "spread -1 is not a finite number >= 0); ignored: with spread_source fixed the "
        "file's spread is not used"
    ]
    assert np.array_equal(bars.spread_data, [100.0, np.nan, np.nan, np.nan, 110.0], equal_nan=True)
    assert list(bars.bar_spread()) == [100] * 5  # the fixed 1.0
