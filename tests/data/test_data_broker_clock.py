"""``--server-tz broker:NY+7``: the usual MT5 broker clock, New York time + 7 hours
(GMT+2 in winter, GMT+3 in summer, switching on the US daylight-saving dates)."""

from __future__ import annotations

import pandas as pd
import pytest

from backtest.data.files import DataError
from backtest.data.loaders import load_bars
from backtest.data.server_tz import check_server_tz


def _utc(bars):
    return [t.strftime("%Y-%m-%d %H:%M") for t in pd.DatetimeIndex(bars.time_ns, tz="UTC")]


def test_winter_summer_and_the_weeks_between_us_and_eu_switches(write_mt5, ger40):
    # Arrange: 2024: US clocks go forward on 10 March, EU ones on 31 March.
    rows = [
        ("2024.01.15", "10:00", 100, 101, 99, 100),  # EST: NY 03:00 = 08:00 UTC (GMT+2)
        ("2024.03.20", "10:00", 100, 101, 99, 100),  # EDT already: 07:00 UTC (GMT+3)
        ("2024.07.15", "10:00", 100, 101, 99, 100),  # EDT: 07:00 UTC (GMT+3)
    ]
    path = write_mt5(rows)
    # Act
    broker = load_bars(path, ger40, server_tz="broker:NY+7")
    athens = load_bars(path, ger40, server_tz="Europe/Athens")
    # Assert
    assert _utc(broker) == ["2024-01-15 08:00", "2024-03-20 07:00", "2024-07-15 07:00"]
    assert _utc(athens)[1] == "2024-03-20 08:00"  # an hour off in those weeks


def test_the_skipped_server_hour_on_the_us_switch_is_an_invalid_row(write_mt5, ger40):
    # Arrange: NY 02:00 -> 03:00 on 2024-03-10 is server 09:00 -> 10:00.
    path = write_mt5(
        [("2024.03.10", "08:59", 100, 101, 99, 100), ("2024.03.10", "09:30", 100, 101, 99, 100)]
    )
    # Act / Assert
    with pytest.raises(DataError, match=r"row 2 .*does not exist in broker:NY\+7"):
        load_bars(path, ger40, server_tz="broker:NY+7")


def test_other_offsets(write_mt5, ger40):
    # Arrange
    path = write_mt5([("2024.01.15", "10:00", 100, 101, 99, 100)])
    # Act
    plus_eight = load_bars(path, ger40, server_tz="broker:NY+8")
    new_york = load_bars(path, ger40, server_tz="broker:NY")
    # Assert
    assert _utc(plus_eight) == ["2024-01-15 07:00"]
    assert _utc(new_york) == ["2024-01-15 15:00"]


@pytest.mark.parametrize("value", ["broker:NY+30", "broker:LDN+1", "broker:ny+7", "broker:NY+7.5"])
def test_malformed_broker_clocks_are_refused(value):
    with pytest.raises(
        DataError, match=r"--server-tz: .* is not a broker clock; write broker:NY\+H"
    ):
        check_server_tz(value)


def test_a_zone_typo_suggests_the_zone():
    with pytest.raises(
        DataError,
        match=r"'Europe/Athen' is not an IANA time zone \(did you mean 'Europe/Athens'\?\)",
    ):
        check_server_tz("Europe/Athen")
