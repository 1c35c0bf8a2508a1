"""Checklist step 2 on real reconciles: REAL is promoted only with a reconcile (`invoke
reconcile --bot-dir`) of a DEMO session of these parameters that started after the DEMO
promotion, with a match rate >= --min-match (default 0.9). No such reconcile is MISSING,
naming the command; a lower match rate FAILs. Nothing is written unless it passes."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from backtest.promotion.flow import Request, promote
from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    promote_fails,
    promote_task,
    reason,
    reconcile_session,
    scenario,
    statuses,
    weekdays_after,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def _on_demo(s, folder, combo=0, days_ago=7):
    """A bot folder with ``combo`` promoted to DEMO ``days_ago`` days ago; (bot, when)."""
    bot = make_bot(folder)
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    promote(Request(s.judged(combo), GROUP, combo, bot), s.cfg, now=when)
    return bot, when


def _to_real(bot):
    (bot / ".env").write_text("ACCOUNT_TYPE=REAL\nNEWS_FILE=news.csv\n")


def test_no_reconcile_of_the_demo_session_is_missing_evidence(s, tmp_path, capsys):
    # Arrange: a week on DEMO, sessions over, none reconciled
    bot, _ = _on_demo(s, tmp_path / "bot")
    _to_real(bot)
    # Act
    message, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", account="real", config=s.config
    )
    # Assert: the only blocking line, naming the command that makes the evidence
    found = statuses(output)
    assert [n for n, st in found.items() if st in ("FAIL", "MISSING")] == ["DEMO first"]
    assert found["DEMO first"] == "MISSING"
    assert reason(output, "DEMO first").endswith(
        f"no reconcile_GER40.json of a demo session in {bot}: run invoke reconcile --deals "
        f"DEALS --data-file BARS --symbol GER40 --bot-dir {bot} --account demo (REAL needs a "
        "match rate >= 90%)"
    )
    assert "DEMO first MISSING" in message


def test_a_match_rate_below_the_minimum_fails_and_min_match_decides(s, tmp_path, capsys):
    # Arrange: three DEMO sessions reconciled; the bot missed the second day's trade
    bot, when = _on_demo(s, tmp_path / "bot")
    reconcile_session(bot, s.config, weekdays_after(when, 3), "demo", skip=(1,))
    _to_real(bot)
    # Act
    _, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", account="real", config=s.config
    )
    # Assert
    assert statuses(output)["DEMO first"] == "FAIL"
    assert "match rate 66.7% (2 matched, 1 missed, 0 extra)" in reason(output, "DEMO first")
    assert reason(output, "DEMO first").endswith("below 90%")
    # Act: the same evidence with --min-match 0.6 passes, and REAL is written
    promote_task(
        from_=s.judged(0), group=GROUP, combo="0", account="real", min_match="0.6",
        bot_dir=bot, config=s.config,
    )  # fmt: skip
    # Assert
    assert statuses(capsys.readouterr().out)["DEMO first"] == "PASS"
    assert json.loads((bot / "ibsweep_params_GER40.json").read_text())["account"] == "real"


def test_a_reconcile_of_sessions_before_the_demo_promotion_is_no_evidence(s, tmp_path, capsys):
    # Arrange: on DEMO for two weeks; the reconcile covers three sessions of the week before
    bot, when = _on_demo(s, tmp_path / "bot", days_ago=14)
    days = weekdays_after(when - dt.timedelta(days=7), 3)
    reconcile_session(bot, s.config, days, "demo")
    _to_real(bot)
    # Act
    _, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", account="real", config=s.config
    )
    # Assert
    assert statuses(output)["DEMO first"] == "MISSING"
    first = dt.datetime.combine(days[0], dt.time(9), ZoneInfo("Europe/Berlin")).astimezone(dt.UTC)
    assert f"its first session started {first.isoformat()}, before" in reason(output, "DEMO first")


def test_a_reconcile_of_other_parameters_is_no_evidence(s, tmp_path, capsys):
    # Arrange: combo 1 on DEMO and reconciled; combo 0 on DEMO since, not reconciled
    bot, when = _on_demo(s, tmp_path / "bot", combo=1, days_ago=10)
    reconcile_session(bot, s.config, weekdays_after(when, 3), "demo")
    promote(
        Request(s.judged(0), GROUP, 0, bot), s.cfg, now=dt.datetime.now(dt.UTC) - dt.timedelta(7)
    )
    _to_real(bot)
    # Act
    _, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", account="real", config=s.config
    )
    # Assert
    assert statuses(output)["DEMO first"] == "MISSING"
    assert "reconcile_GER40.json reconciles another parameter set" in reason(output, "DEMO first")
