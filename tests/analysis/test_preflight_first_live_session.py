"""Checklist step 6 in `invoke preflight` for a REAL deployment: the first REAL session
is watched by hand (MANUAL) until it has ended; then only a reconcile of a REAL session
that started after the REAL promotion, with a match rate >= --min-match, passes; none is
MISSING (exit 1, naming `invoke reconcile`), a lower match rate FAILs."""

import datetime as dt

import pytest
from invoke import Context
from invoke.exceptions import Exit

from backtest.promotion.flow import Request, promote
from tasks.promote import preflight
from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    reason,
    reconcile_session,
    scenario,
    snapshot,
    statuses,
    weekdays_after,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def _real(s, folder, real_days_ago):
    """A bot folder on REAL since ``real_days_ago`` days, after a reconciled DEMO week."""
    bot = make_bot(folder)
    now = dt.datetime.now(dt.UTC)
    demo_at = now - dt.timedelta(days=real_days_ago + 7)
    promote(Request(s.judged(0), GROUP, 0, bot), s.cfg, now=demo_at)
    reconcile_session(bot, s.config, weekdays_after(demo_at, 3), "demo")
    (bot / ".env").write_text("ACCOUNT_TYPE=REAL\nNEWS_FILE=news.csv\n")
    real_at = now - dt.timedelta(days=real_days_ago)
    done = promote(Request(s.judged(0), GROUP, 0, bot, account="real"), s.cfg, now=real_at)
    assert done.written is not None, done.checks
    return bot, real_at


def _preflight(bot, config, capsys, code=None, **options):
    before = snapshot(bot)
    capsys.readouterr()
    if code is None:
        preflight.body(Context(), bot_dir=str(bot), config=str(config), **options)
    else:
        with pytest.raises(Exit) as info:
            preflight.body(Context(), bot_dir=str(bot), config=str(config), **options)
        assert info.value.code == code
    assert snapshot(bot) == before
    return capsys.readouterr().out


def test_before_the_first_real_session_has_ended_it_is_watched(s, tmp_path, capsys):
    # Arrange: promoted to REAL just now
    bot, _ = _real(s, tmp_path / "bot", real_days_ago=0)
    # Act
    output = _preflight(bot, s.config, capsys)
    # Assert
    found = statuses(output)
    assert found["first live session"] == "MANUAL"
    assert found["DEMO first"] == "PASS" and "FAIL" not in found.values()
    assert reason(output, "first live session").endswith(
        f"watch it by hand, then invoke reconcile --deals DEALS --data-file BARS --symbol GER40 "
        f"--bot-dir {bot} --account real"
    )


def test_after_it_without_a_reconcile_the_bot_is_not_started(s, tmp_path, capsys):
    # Arrange: on REAL for a week, no REAL session reconciled
    bot, _ = _real(s, tmp_path / "bot", real_days_ago=7)
    # Act
    output = _preflight(bot, s.config, capsys, code=1)
    # Assert
    found = statuses(output)
    assert [n for n, st in found.items() if st in ("FAIL", "MISSING")] == ["first live session"]
    assert found["first live session"] == "MISSING"
    assert reason(output, "first live session").endswith(
        f"no reconcile_GER40.json of a real session in {bot}: run invoke reconcile --deals "
        f"DEALS --data-file BARS --symbol GER40 --bot-dir {bot} --account real"
    )


def test_a_reconcile_of_the_first_real_sessions_passes_at_the_minimum_match(s, tmp_path, capsys):
    # Arrange: on REAL for a week; its first three sessions reconciled, one trade missed
    bot, real_at = _real(s, tmp_path / "bot", real_days_ago=7)
    reconcile_session(bot, s.config, weekdays_after(real_at, 3), "real", skip=(1,))
    # Act
    failed = _preflight(bot, s.config, capsys, code=1)
    passed = _preflight(bot, s.config, capsys, min_match="0.6")
    # Assert
    assert statuses(failed)["first live session"] == "FAIL"
    assert reason(failed, "first live session").endswith("below 90%")
    assert statuses(passed)["first live session"] == "PASS"
    assert "reconcile_GER40.json: match rate 66.7% (2 matched, 1 missed, 0 extra)" in reason(
        passed, "first live session"
    )
