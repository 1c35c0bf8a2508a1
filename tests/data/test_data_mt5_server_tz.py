"""MT5 exports: broker server time to UTC across daylight saving changes.

Server zone Europe/Athens: EET (UTC+2) in winter, EEST (UTC+3) from
2024-03-31 04:00 local (01:00 UTC); back to UTC+2 on 2024-10-27 at 04:00 local,
so 03:00-03:59 local happens twice.
"""

import pandas as pd
import pytest

from backtest.data.files import DataError
from backtest.data.loaders import load_bars


def _utc(bars) -> list[str]:
    return [t.strftime("%Y-%m-%d %H:%M") for t in bars.times_utc()]


def test_spring_forward_shifts_utc_by_one_hour(write_mt5, ger40):
    path = write_mt5(
        [
            ("2024.03.29", "11:00:00", 100, 101, 99, 100),  # UTC+2 -> 09:00
            ("2024.04.01", "11:00", 100, 101, 99, 100.5),
        ]
    )  # UTC+3 -> 08:00

    bars = load_bars(path, ger40, server_tz="Europe/Athens")

    assert _utc(bars) == ["2024-03-29 09:00", "2024-04-01 08:00"]
    assert list(bars.close) == [10000, 10050]


def test_repeated_hour_maps_both_passes(write_mt5, ger40):
    path = write_mt5(
        [
            ("2024.10.27", "03:30", 100, 101, 99, 100),  # 1st pass UTC+3 -> 00:30
            ("2024.10.27", "03:59", 100, 101, 99, 100),  # -> 00:59
            ("2024.10.27", "03:00", 100, 101, 99, 100),  # 2nd pass UTC+2 -> 01:00
            ("2024.10.27", "03:30", 100, 101, 99, 100),  # -> 01:30
            ("2024.10.27", "04:00", 100, 101, 99, 100),
        ]
    )  # -> 02:00

    bars = load_bars(path, ger40, server_tz="Europe/Athens")

    assert _utc(bars) == [
        "2024-10-27 00:30",
        "2024-10-27 00:59",
        "2024-10-27 01:00",
        "2024-10-27 01:30",
        "2024-10-27 02:00",
    ]


def test_nonexistent_local_time_is_an_invalid_row(write_mt5, ger40):
    path = write_mt5(
        [
            ("2024.03.31", "02:59", 100, 101, 99, 100),
            ("2024.03.31", "03:30", 100, 101, 99, 100),  # skipped hour in Athens
            ("2024.03.31", "04:00", 100, 101, 99, 100),
        ]
    )

    with pytest.raises(DataError) as err:
        load_bars(path, ger40, server_tz="Europe/Athens")
    dropped = load_bars(path, ger40, server_tz="Europe/Athens", drop_invalid=True, log=print)

    assert str(err.value).startswith(
        f"{path}: row 2 (2024.03.31 03:30 Europe/Athens): "
        "local time does not exist in Europe/Athens"
    )
    assert _utc(dropped) == ["2024-03-31 00:59", "2024-03-31 01:00"]


def test_bad_date_names_the_row(write_mt5, ger40):
    path = write_mt5(
        [("2024.01.02", "09:00", 100, 101, 99, 100), ("2024-01-02", "09:01", 100, 101, 99, 100)]
    )

    with pytest.raises(DataError, match=r"row 2: date/time '2024-01-02' '09:01'"):
        load_bars(path, ger40, server_tz="Etc/GMT-2")


def test_fixed_offset_server_zone(write_mt5, ger40):
    path = write_mt5([("2024.07.01", "12:00:00", 100, 101, 99, 100)])

    bars = load_bars(path, ger40, server_tz="Etc/GMT-2")  # POSIX sign: UTC+2

    assert list(bars.times_utc()) == [pd.Timestamp("2024-07-01 10:00", tz="UTC")]
