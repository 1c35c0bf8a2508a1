"""The clock check across the daylight-saving switches: the weeks between the US and the
European dates tell broker:NY+7 (US dates) from Europe/Athens (EU dates), and the session
time zone's own switch does not move the measured open."""

from __future__ import annotations

import pytest

from backtest.data.clock import check_clock
from backtest.data.files import DataError
from backtest.data.loaders import load_bars
from tests.data.clock_helpers import sample_frame, write_mt5_export

# 2024: the US switched on 10 March and 3 November, Europe on 31 March and 27 October.
MARCH = ("2024-03-04", "2024-04-05")
OCTOBER = ("2024-10-14", "2024-11-15")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dst")
    out = {}
    for name, (start, end) in (("march", MARCH), ("october", OCTOBER)):
        frame = sample_frame("GER40", start, end)
        for clock in ("broker:NY+7", "Europe/Athens"):
            path = folder / f"{name}_{clock.replace('/', '_').replace(':', '_')}.csv"
            out[name, clock] = write_mt5_export(frame, path, clock)
    return out


def _check(path, server_tz, ger40, said=None):
    bars = load_bars(path, ger40, server_tz=server_tz)
    log = said.append if said is not None else (lambda message: None)
    return check_clock(bars, None, server_tz, True, "refuse", log)


@pytest.mark.parametrize("month", ["march", "october"])
def test_the_right_clock_passes_across_both_switches(exports, ger40, month):
    # Act
    reading = _check(exports[month, "broker:NY+7"], "broker:NY+7", ger40)
    # Assert: every day agrees, the session's own switch included
    assert (reading.shift, reading.agree, reading.days) == (0, 25, 25)
    assert reading.better() is None


@pytest.mark.parametrize("month", ["march", "october"])
@pytest.mark.parametrize("given", ["broker:NY+6", "broker:NY+8", "broker:NY+5", "Etc/GMT-2"])
def test_a_wrong_clock_is_refused_across_the_switches(exports, ger40, month, given):
    # Act
    with pytest.raises(DataError) as refused:
        _check(exports[month, "broker:NY+7"], given, ger40)
    # Assert
    assert "--server-tz broker:NY+7 puts it right" in str(refused.value)


def test_athens_is_an_hour_off_in_the_march_weeks_between_the_switches(exports, ger40):
    # Act: 15 of the 25 days lie between 10 and 31 March
    with pytest.raises(DataError) as refused:
        _check(exports["march", "broker:NY+7"], "Europe/Athens", ger40)
    # Assert
    message = str(refused.value)
    assert "is at 10:00 in these bars" in message and "the 15 of 25 days that agree" in message
    assert "--server-tz broker:NY+7 puts it right" in message


def test_an_athens_server_read_as_new_york_plus_7_is_refused_naming_athens(exports, ger40):
    # Act
    with pytest.raises(DataError) as refused:
        _check(exports["march", "Europe/Athens"], "broker:NY+7", ger40)
    # Assert
    assert "--server-tz Europe/Athens puts it right" in str(refused.value)


def test_one_october_week_off_passes_with_a_warning_naming_the_better_clock(exports, ger40):
    # Arrange: Athens differs from broker:NY+7 from 28 October to 1 November only
    said: list[str] = []
    # Act
    reading = _check(exports["october", "broker:NY+7"], "Europe/Athens", ger40, said)
    # Assert
    assert (reading.shift, reading.wrong) == (0, False)
    assert said[-1].endswith(
        "clock: broker:NY+7 puts GER40's cash open (09:00 Europe/Berlin) right on 25 of 25 "
        "days, Europe/Athens on 20: the others are an hour off (daylight-saving dates?); "
        "--server-tz broker:NY+7 is probably the server's clock"
    )
