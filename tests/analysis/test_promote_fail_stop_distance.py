"""A smallest stop below stop_min_cost_multiple x costs fails "stop distance" only."""

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


def test_stop_too_close_to_the_costs_fails_only_stop_distance(s, tmp_path, capsys):
    # Arrange: sl_mult 1 x min_ib 15.00 = 1500 points; 20 x the 100-point spread = 2000
    config = s.config_with(tmp_path / "cfg.yaml", {"prop_firm": {"stop_min_cost_multiple": 20}})
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=s.run, group=GROUP, combo="0", config=config)
    # Assert
    assert only_failure(output) == "stop distance"
    assert reason(output, "stop distance").startswith(
        "smallest stop 1500 points = sl_mult 1 x smallest IB 1500 points (min_ib 15); "
        "costs 100 points, needs >= 20 x costs = 2000"
    )
    assert "stop distance" in message
