"""A control period that loses money fails "positive after costs" only."""

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


def test_losing_control_fails_only_positive_after_costs(s, tmp_path, capsys):
    # Arrange: control days W L L L W L L W L L: 3 x 0.95 - 7 x 1.05 = -4.5 R
    control = s.losing_control(tmp_path / "control")
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(
        capsys, bot, from_=s.run, group=GROUP, combo="0", control_from=control, config=s.config
    )
    # Assert
    assert only_failure(output) == "positive after costs"
    assert reason(output, "positive after costs") == (
        "control not positive: in-sample total_r +7.50, pnl +7500.00; "
        "control total_r -4.50, pnl -4500.00"
    )
    assert "positive after costs" in message
