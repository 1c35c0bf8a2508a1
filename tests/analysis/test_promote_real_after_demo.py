"""REAL after a whole DEMO session of the same parameter set, reconciled (`invoke
reconcile --bot-dir`, every trade matched), passes and is logged."""

import datetime as dt
import json

import pytest

from backtest.promotion.botfolder import LOG_FILE
from backtest.promotion.flow import Request, promote
from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
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


def test_real_after_a_week_on_demo_passes(s, tmp_path, capsys):
    # Arrange: promoted to DEMO a week ago, three sessions since reconciled (all matched),
    # then the .env switched to the real account
    bot = make_bot(tmp_path / "bot")
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    promote(Request(s.judged(0), GROUP, 0, bot), s.cfg, now=week_ago)
    reconcile_session(bot, s.config, weekdays_after(week_ago, 3), "demo")
    (bot / ".env").write_text("ACCOUNT_TYPE=real\nNEWS_FILE=news.csv\n")
    capsys.readouterr()
    # Act
    promote_task(
        from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, account="real", config=s.config
    )
    # Assert
    output = capsys.readouterr().out
    found = statuses(output)
    assert found["DEMO first"] == "PASS" and "FAIL" not in found.values()
    assert "reconcile_GER40.json: match rate 100.0% (3 matched, 0 missed, 0 extra)" in reason(
        output, "DEMO first"
    )
    document = json.loads((bot / "ibsweep_params_GER40.json").read_text())
    assert document["account"] == "real"
    log = [json.loads(line) for line in (bot / LOG_FILE).read_text().splitlines()]
    assert [e["account"] for e in log] == ["demo", "real"]
    assert log[0]["params_sha256"] == log[1]["params_sha256"] == document["params_sha256"]
