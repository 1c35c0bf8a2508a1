"""invoke check-data reports the file's spread (median, 95th percentile, by local hour of the
symbol's time zone), flags a spread_unit that is probably wrong, and takes --spread-source,
--spread-unit and --max-rows."""

import pandas as pd
import pytest
from invoke import Context, Exit

from tasks.data import check_data


@pytest.fixture
def spread_file(tmp_path):
    """GER40 bars on 2024-01-02 (Berlin UTC+1): 09:00-09:19 local at spreads 300..319,
    11:00-11:39 local at 100 (one at 180); an MT5-like broker-point column."""
    cash_open = pd.date_range("2024-01-02 08:00", periods=20, freq="min", tz="UTC")
    midday = pd.date_range("2024-01-02 10:00", periods=40, freq="min", tz="UTC")
    path = tmp_path / "bars.parquet"
    pd.DataFrame(
        {
            "time": cash_open.append(midday),
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.0,
            "spread": list(range(300, 320)) + [100] * 39 + [180],
        }
    ).to_parquet(path)
    return path


def _check(capsys, path, **options) -> list[str]:
    check_data(Context(), file=str(path), symbol="GER40", **options)
    return capsys.readouterr().out.splitlines()


def test_spread_distribution_overall_and_by_local_hour(spread_file, capsys):
    # Act
    out = _check(capsys, spread_file)

    # Assert
    assert out[0].startswith(f"{spread_file}: OK, GER40, 60 bars, ")
    assert out[1:] == [
        "clock not checked: 0 day(s) with 240 bars or more; 10 are needed to measure the cash open",
        "spread: 60 bars, median 100, 95th percentile 316 (× spread_unit 0.01: 1 and 3.16 "
        "in price; the fixed spread is 1)",
        "spread by local hour (Europe/Berlin):   bars   median   95th percentile",
        "  09:00-09:59           20      309               318",
        "  11:00-11:59           40      100               100",
    ]


@pytest.mark.parametrize(
    "unit, ratio", [("1", "100× the fixed spread 1"), ("0.0001", "0.01× the fixed spread 1")]
)
def test_a_spread_unit_far_from_the_fixed_spread_is_flagged(spread_file, capsys, unit, ratio):
    # Act
    out = _check(capsys, spread_file, spread_unit=unit)

    # Assert
    assert out[-1].startswith(f"WARNING: spread_unit {unit} is probably wrong: ")
    assert ratio in out[-1]


def test_data_source_flags_the_unit_once(spread_file, capsys):
    # Act
    out = _check(capsys, spread_file, spread_source="data", spread_unit="1")

    # Assert
    warnings = [line for line in out if "probably wrong" in line]
    assert len(warnings) == 1 and warnings[0].startswith(f"{spread_file}: spread_unit 1 is")


def test_plausible_unit_is_not_flagged(spread_file, capsys):
    # Act
    out = _check(capsys, spread_file, spread_source="data")

    # Assert
    assert not [line for line in out if "WARNING" in line or "probably wrong" in line]


def test_data_source_on_a_file_without_spread_exits_2(write_csv):
    # Arrange
    path = write_csv(["2024-01-02 08:00,100,101,99,100"])

    # Act
    with pytest.raises(Exit) as err:
        check_data(Context(), file=str(path), symbol="GER40", spread_source="data")

    # Assert
    assert err.value.code == 2
    assert str(err.value.message) == (
        f"error: {path}: spread_source data needs the file's spread column "
        "(spread; <SPREAD> in an MT5 export), and the file has none"
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"spread_source": "dta"}, "'dta' is not one of fixed, data"),
        ({"spread_unit": "x"}, "--spread-unit: 'x' is not a number"),
        ({"spread_unit": "-1"}, "check-data option.spread_unit: -1.0 must be > 0"),
        ({"max_rows": "0"}, "--max-rows: 0 must be >= 1"),
        ({"max_rows": "59"}, "row 60: more than 59 rows"),
    ],
)
def test_bad_options_and_too_many_rows_exit_2(spread_file, options, message):
    # Act
    with pytest.raises(Exit) as err:
        check_data(Context(), file=str(spread_file), symbol="GER40", **options)

    # Assert
    assert err.value.code == 2 and message in str(err.value.message)
