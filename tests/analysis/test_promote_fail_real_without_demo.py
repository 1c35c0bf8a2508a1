"""--account real without this parameter set on DEMO for a whole session fails
"DEMO first" only."""

import datetime as dt

import pytest

from backtest.promotion.flow import Request, promote
from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    only_failure,
    promote_fails,
    reason,
    scenario,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_real_without_a_demo_promotion_fails_only_demo_first(s, tmp_path, capsys):
    # Arrange: .env says REAL, the promotion log is empty
    bot = make_bot(tmp_path / "bot", account="REAL")
    # Act
    message, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", account="real", config=s.config
    )
    # Assert
    assert only_failure(output) == "DEMO first"
    assert reason(output, "DEMO first").startswith(
        "the promotion log has no DEMO promotion of this parameter set"
    )
    assert "DEMO first" in message


def test_real_before_the_demo_session_ended_fails_only_demo_first(s, tmp_path, capsys):
    # Arrange: promoted to DEMO just now; its first whole session is still ahead
    bot = make_bot(tmp_path / "bot")
    promote(Request(s.judged(0), GROUP, 0, bot), s.cfg)
    (bot / ".env").write_text("ACCOUNT_TYPE=REAL\nNEWS_FILE=news.csv\n")
    # Act
    message, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", account="real", config=s.config
    )
    # Assert
    assert only_failure(output) == "DEMO first"
    assert "has not ended yet" in reason(output, "DEMO first")


def test_real_after_a_demo_session_of_another_parameter_set_fails(s, tmp_path, capsys):
    # Arrange: combo 1 was on DEMO a week ago; combo 0 never was
    bot = make_bot(tmp_path / "bot")
    promote(
        Request(s.judged(1), GROUP, 1, bot), s.cfg, now=dt.datetime.now(dt.UTC) - dt.timedelta(7)
    )
    (bot / ".env").write_text("ACCOUNT_TYPE=REAL\nNEWS_FILE=news.csv\n")
    # Act
    _, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", account="real", config=s.config
    )
    # Assert
    assert only_failure(output) == "DEMO first"
