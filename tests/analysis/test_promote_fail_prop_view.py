"""A run whose prop-firm view is broken fails "prop view OK" only."""

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


def test_broken_prop_limit_fails_only_prop_view(s, tmp_path, capsys):
    # Arrange: the one losing day costs 1050 = 1.05 % of 100 000; a run scored against a
    # max-loss limit of 1 % breaks it (a stricter limit than The5ers' 10 %: item 5 passes)
    config = s.config_with(tmp_path / "cfg.yaml", {"run": {"max_loss_limit_pct": 1.0}})
    run = s.sweep(tmp_path / "run", s.real_bars, config=config)
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="0", config=config)
    # Assert
    assert only_failure(output) == "prop view OK"
    assert reason(output, "prop view OK") == (
        "in-sample daily loss 1.05% / drawdown 1.05% BROKEN; control daily loss 0.00% / "
        "drawdown 0.00% ok (limits 5% / 1%)"
    )
    assert "prop view OK" in message
