"""DEMO first: REAL needs this parameter set promoted to DEMO before a whole trading
session (allowed weekday, ib_start..close_time local time) that has ended."""

import datetime as dt

from backtest.promotion.bot_checks import check_demo_first, check_first_session, sessions
from tests.analysis.promote_helpers import PARAMS_COMBO_0

UTC = dt.UTC
LOG = [
    {"time": "2026-11-27T12:00:00+00:00", "event": "promote", "symbol": "GER40",
     "account": "demo", "params_sha256": "abc"},
]  # fmt: skip


def _check(now):
    return check_demo_first("real", LOG, "GER40", "abc", PARAMS_COMBO_0, "Europe/Berlin", now)


def test_promoted_friday_noon_the_first_session_is_monday_09_00_to_22_00_berlin():
    # Friday 2026-11-27 13:00 Berlin: that day's session started at 09:00, so Monday's is next
    first = next(
        sessions(PARAMS_COMBO_0, "Europe/Berlin", dt.datetime(2026, 11, 27, 12, tzinfo=UTC))
    )
    assert first == (
        dt.datetime(2026, 11, 30, 8, tzinfo=UTC),
        dt.datetime(2026, 11, 30, 21, tzinfo=UTC),
    )


def test_real_fails_until_that_session_ends_and_passes_from_then_on():
    assert _check(dt.datetime(2026, 11, 30, 20, 59, tzinfo=UTC)).status == "FAIL"
    assert _check(dt.datetime(2026, 11, 30, 21, 0, tzinfo=UTC)).status == "PASS"


def test_another_parameter_set_or_symbol_does_not_count():
    now = dt.datetime(2026, 12, 5, tzinfo=UTC)
    assert (
        check_demo_first("real", LOG, "GER40", "other", PARAMS_COMBO_0, "Europe/Berlin", now).status
        == "FAIL"
    )
    assert (
        check_demo_first("real", LOG, "XAUUSD", "abc", PARAMS_COMBO_0, "Europe/London", now).status
        == "FAIL"
    )


def test_first_session_to_watch_follows_summer_time():
    # Monday 2026-03-30, the day after the switch to CEST: 09:00 Berlin is 07:00 UTC
    check = check_first_session(
        PARAMS_COMBO_0, "Europe/Berlin", dt.datetime(2026, 3, 29, 12, tzinfo=UTC)
    )
    assert check.status == "MANUAL"
    assert check.reason.startswith(
        "Mon 2026-03-30 09:00..22:00 Europe/Berlin (starts 2026-03-30 07:00 UTC)"
    )
