"""Fewer trades than promote.min_trades_in_sample fails "enough trades" only."""

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


def test_too_few_trades_fails_only_enough_trades(s, tmp_path, capsys):
    # Arrange: 10 in-sample trades, 11 needed
    config = s.config_with(tmp_path / "cfg.yaml", {"promote": {"min_trades_in_sample": 11}})
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=s.run, group=GROUP, combo="0", config=config)
    # Assert
    assert only_failure(output) == "enough trades"
    assert reason(output, "enough trades") == (
        "too few: in-sample 10 (>= 11 needed), control 10 (>= 5 needed)"
    )
    assert "enough trades" in message
