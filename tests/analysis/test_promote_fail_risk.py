"""A run that risked 2 % per trade (limit 1 %) fails "risk per trade", and the whole
account (the program's risk per position, 1 %), nothing else."""

import pytest

from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    promote_fails,
    reason,
    scenario,
    statuses,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_risk_above_the_limit_fails_risk_per_trade_and_the_whole_account(s, tmp_path, capsys):
    # Arrange: --risk 2000 on 100 000; the loss day is then 2.1 %, still inside the prop view
    run = s.sweep(tmp_path / "run", s.real_bars, "--risk", 2000)
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="0", config=s.config)
    # Assert
    found = statuses(output)
    assert [n for n, st in found.items() if st == "FAIL"] == [
        "risk per trade",
        "whole account",
    ]
    assert "risk per position" in reason(output, "whole account")
    assert reason(output, "risk per trade") == (
        "risk 2000 of 100000 = 2.00% per trade (limit 1%, The5ers)"
    )
    assert "risk per trade" in message
