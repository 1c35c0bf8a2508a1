"""An offset typed as --server-tz is never answered with a zone of another offset (issue
25: `UTC+2` suggested 'UTC', `GMT+2` suggested 'GMT+0', both 2 h off): the broker presets
come first, then the fixed zone of exactly that offset, with the POSIX sign explained."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from backtest.core.config import ConfigError, check_timezone
from backtest.data.files import DataError
from backtest.data.server_tz import broker_offset_hours, check_server_tz

WINTER, SUMMER = dt.datetime(2024, 1, 15, 12), dt.datetime(2024, 7, 15, 12)


def _refusal(value: str) -> str:
    with pytest.raises(DataError) as refused:
        check_server_tz(value)
    return str(refused.value)


@pytest.mark.parametrize("typed", ["UTC+2", "GMT+2", "UTC+02:00", "+2", "gmt +2"])
def test_utc_plus_two_suggests_the_presets_then_etc_gmt_minus_two(typed):
    # Act
    message = _refusal(typed)
    # Assert
    assert message == (
        f"--server-tz: {typed!r} is not a time zone name; an MT5 server on daylight saving "
        "(the US dates, as most are) is broker:NY+7 (UTC+2 in winter, UTC+3 in summer) or "
        "broker:NY+6 (UTC+1 in winter, UTC+2 in summer); one on UTC+2 all year is Etc/GMT-2 "
        "(POSIX sign: Etc/GMT-2 is UTC+2)"
    )


def _offset_hours(zone: str, when: dt.datetime) -> float:
    offset = when.replace(tzinfo=ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return offset.total_seconds() / 3600


@pytest.mark.parametrize("hours", range(-12, 15))
@pytest.mark.parametrize("form", ["UTC{:+d}", "GMT{:+d}", "{:+03d}:00"])
def test_every_zone_named_has_the_typed_offset(hours, form):
    # Arrange
    typed = form.format(hours)
    if typed == "GMT+0":  # a zone itself, of that offset
        assert check_server_tz(typed) == typed
        return
    # Act
    message = _refusal(typed)
    # Assert: fixed zones have it all year, broker presets in winter or in summer
    assert "did you mean" not in message
    fixed = re.findall(r"Etc/GMT[+-]\d+|\bUTC\b(?![+-])", message.split(" is not ")[1])
    assert fixed, message
    assert all(_offset_hours(z, WINTER) == _offset_hours(z, SUMMER) == hours for z in fixed)
    presets = re.findall(r"broker:NY(?:[+-]\d+)?\b", message)
    assert presets, message
    for preset in presets:
        h = broker_offset_hours(preset)
        assert h is not None and hours in (h - 5, h - 4), (preset, message)


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("UTC+2", "(a fixed UTC+2 is 'Etc/GMT-2'; POSIX inverts the sign"),
        ("GMT-5", "(a fixed UTC-5 is 'Etc/GMT+5'; POSIX inverts the sign"),
        ("UTC+0", "(a fixed UTC+0 is 'UTC'; "),
        ("UTC+5:30", "(no IANA zone is a fixed UTC+5:30: fixed zones are whole hours"),
        ("Etc/GMT+15", "(no IANA zone is a fixed UTC-15: fixed zones are whole hours"),
        ("GMT2", "(fixed offsets are written Etc/GMT-2 for UTC+2: POSIX inverts the sign"),
    ],
)
def test_a_timezone_setting_gets_the_same_offset_or_none(typed, shown):
    # Act
    with pytest.raises(ConfigError) as refused:
        check_timezone(typed, "symbols.X.timezone")
    # Assert
    assert shown in str(refused.value) and "did you mean" not in str(refused.value)


def test_a_name_without_an_offset_still_gets_the_closest_name():
    # Act
    with pytest.raises(ConfigError) as refused:
        check_timezone("Europe/Athen", "symbols.X.timezone")
    # Assert
    assert "(did you mean 'Europe/Athens'?)" in str(refused.value)


def test_etc_gmt_zones_are_valid_and_their_sign_is_said(write_mt5, ger40):
    # Arrange
    path = write_mt5([("2024.01.15", "10:00", 100, 101, 99, 100)])
    said: list[str] = []
    # Act
    from backtest.data.loaders import load_bars

    load_bars(path, ger40, server_tz="Etc/GMT+2", log=said.append)
    # Assert
    assert said == [f"{path}: server_tz Etc/GMT+2 is UTC-2 (POSIX inverts the sign)"]
