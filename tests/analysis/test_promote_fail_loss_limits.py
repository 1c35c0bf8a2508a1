"""A run scored with a daily-loss limit looser than the firm's fails "loss limits" only."""

import pytest

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


def test_daily_loss_limit_above_the_firms_fails_only_loss_limits(s, tmp_path, capsys):
    # Arrange: the run used 5 %, the firm (configured) allows 4 %
    config = s.config_with(tmp_path / "cfg.yaml", {"prop_firm": {"daily_loss_pct": 4.0}})
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=s.run, group=GROUP, combo="0", config=config)
    # Assert
    assert only_failure(output) == "loss limits"
    assert reason(output, "loss limits") == ("daily loss 5% (limit 4%), max loss 10% (limit 10%)")
