"""DEMO first: REAL needs this parameter set promoted to DEMO before a whole trading
session (allowed weekday, ib_start..close_time local time) that has ended, and a reconcile
of a DEMO session since then with a match rate >= --min-match (none: MISSING; the line's
reconcile evidence is stubbed here, the real files are in test_promote_demo_reconcile)."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from backtest.analysis.reconcile_evidence import Evidence
from backtest.promotion.sessions import (
    LiveSessions,
    check_demo_first,
    check_first_session,
    sessions,
)
from tests.analysis.promote_helpers import PARAMS_COMBO_0

UTC = dt.UTC
LOG = [
    {"time": "2026-11-27T12:00:00+00:00", "event": "promote", "symbol": "GER40",
     "account": "demo", "params_sha256": "abc"},
]  # fmt: skip


@dataclass(frozen=True)
class Reconciled(LiveSessions):
    """The bot folder's reconcile evidence, as ``status`` says (MISSING: none)."""

    status: str = "MISSING"

    def evidence(self, account, after):
        if self.status == "MISSING":
            return Evidence("MISSING", f"no reconcile_GER40.json of a {account} session")
        return Evidence(self.status, "match rate 95.0% (19 matched)", Path("reconcile_GER40.json"))


def _check(now, status="MISSING", sha="abc", symbol="GER40"):
    live = Reconciled(Path("/bot"), symbol, sha, status=status)
    return check_demo_first("real", LOG, PARAMS_COMBO_0, "Europe/Berlin", now, live, now)


def test_promoted_friday_noon_the_first_session_is_monday_09_00_to_22_00_berlin():
    # Friday 2026-11-27 13:00 Berlin: that day's session started at 09:00, so Monday's is next
    first = next(
        sessions(PARAMS_COMBO_0, "Europe/Berlin", dt.datetime(2026, 11, 27, 12, tzinfo=UTC))
    )
    assert first == (
        dt.datetime(2026, 11, 30, 8, tzinfo=UTC),
        dt.datetime(2026, 11, 30, 21, tzinfo=UTC),
    )


def test_real_fails_until_that_session_ends_then_needs_a_reconcile_of_it():
    assert _check(dt.datetime(2026, 11, 30, 20, 59, tzinfo=UTC), "PASS").status == "FAIL"
    after = dt.datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    missing = _check(after)
    assert missing.status == "MISSING"
    assert missing.reason.endswith(
        "run invoke reconcile --deals DEALS --data-file BARS --symbol GER40 --bot-dir /bot "
        "--account demo (REAL needs a match rate >= 90%)"
    )
    assert _check(after, "FAIL").status == "FAIL"
    passed = _check(after, "PASS")
    assert passed.status == "PASS"
    assert passed.reason.endswith("reconcile_GER40.json: match rate 95.0% (19 matched)")


def test_another_parameter_set_or_symbol_does_not_count():
    now = dt.datetime(2026, 12, 5, tzinfo=UTC)
    assert _check(now, "PASS", sha="other").status == "FAIL"
    assert _check(now, "PASS", symbol="XAUUSD").status == "FAIL"


def test_a_demo_promotion_is_a_reminder_until_its_session_is_reconciled():
    now = dt.datetime(2026, 12, 5, tzinfo=UTC)

    def demo(status):
        live = Reconciled(Path("/bot"), "GER40", "abc", status=status)
        return check_demo_first("demo", [], PARAMS_COMBO_0, "Europe/Berlin", now, live, now)

    assert demo("MISSING").status == "MANUAL"
    assert "REAL needs a match rate >= 90%" in demo("MISSING").reason
    assert (demo("PASS").status, demo("FAIL").status) == ("PASS", "FAIL")


def test_first_session_to_watch_follows_summer_time():
    # Monday 2026-03-30, the day after the switch to CEST: 09:00 Berlin is 07:00 UTC
    check = check_first_session(
        PARAMS_COMBO_0, "Europe/Berlin", dt.datetime(2026, 3, 29, 12, tzinfo=UTC)
    )
    assert check.status == "MANUAL"
    assert check.reason.startswith(
        "Mon 2026-03-30 09:00..22:00 Europe/Berlin (starts 2026-03-30 07:00 UTC)"
    )
