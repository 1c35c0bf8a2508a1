"""The target is not enough: a phase needs its minimum of profitable days (closed P&L at
least 0.5 % of the initial balance, exactly 0.5 % counts), so with fewer than three it
goes on until the third."""

from backtest.analysis.challenge import PASSED, UNFINISHED, replay
from tests.analysis.account_helpers import days, rules


def test_fewer_than_three_profitable_days_do_not_pass():
    # day 1 reaches 9 % at once (one profitable day); 100 and 400 are below 0.5 %; 500 is
    # exactly 0.5 % (the second); 600 the third: the phase passes on day 5
    result = replay([days([9000.0, 100.0, 400.0, 500.0, 600.0])], rules())

    assert result.outcome[0, 0] == PASSED
    assert result.phase_days[0, 0].tolist() == [5]


def test_with_two_profitable_days_only_the_challenge_is_unfinished():
    result = replay([days([9000.0, 100.0, 400.0, 500.0, 499.99])], rules())

    assert result.outcome[0, 0] == UNFINISHED


def test_a_program_without_the_rule_passes_on_the_target_day():
    r = rules(profitable_days={"min_days": 0, "min_profit_pct": 0.5})

    result = replay([days([9000.0, 100.0])], r)

    assert result.outcome[0, 0] == PASSED
    assert result.phase_days[0, 0].tolist() == [1]
