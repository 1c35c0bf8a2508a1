"""The daily loss limit (of the day's start balance, or of the initial balance) and the
static overall floor: a loss of exactly the limit is inside, a cent more breaches; a day
that touches a limit ends the account even if it closes in profit."""

from backtest.analysis.challenge import (
    BREACH_DAILY,
    BREACH_OVERALL,
    TIME_LIMIT,
    UNFINISHED,
    replay,
)
from tests.analysis.account_helpers import days, rules


def test_a_daily_loss_of_exactly_the_limit_is_inside():
    # day 2 starts at 101,000: 5 % of it is 5,050
    inside = replay([days([1000.0, -5050.0])], rules())
    over = replay([days([1000.0, -5050.01])], rules())

    assert inside.outcome[0, 0] == UNFINISHED
    assert over.outcome[0, 0] == BREACH_DAILY


def test_the_daily_base_can_be_the_initial_balance():
    r = rules(daily_loss={"limit_pct": 5, "base": "initial_balance"})

    # 5,050 is 5 % of the day's start (101,000) but 5.05 % of the initial balance
    result = replay([days([1000.0, -5050.0])], r)

    assert result.outcome[0, 0] == BREACH_DAILY


def test_an_intraday_low_breaches_even_when_the_day_closes_in_profit():
    result = replay([days([2000.0], low=[-5500.0])], rules())

    assert result.outcome[0, 0] == BREACH_DAILY


def test_the_overall_floor_is_static_from_the_initial_balance():
    # up 4 % (a new peak), then four days of -3,500: the floor stays at 90,000 (a trailing
    # floor would be at 93,600); 90,000 exactly is inside, 89,999.99 breaches
    net = [4000.0, -3500.0, -3500.0, -3500.0, -3500.0]
    inside = replay([days(net)], rules())
    over = replay([days([*net[:-1], -3500.01])], rules())

    assert inside.outcome[0, 0] == UNFINISHED
    assert over.outcome[0, 0] == BREACH_OVERALL


def test_both_limits_on_one_day():
    result = replay([days([-4000.0, -4000.0, -6000.0])], rules())

    assert result.outcome[0, 0] == BREACH_DAILY | BREACH_OVERALL


def test_no_daily_limit_when_the_program_has_none():
    r = rules(daily_loss=None)

    result = replay([days([-9000.0])], r)

    assert result.outcome[0, 0] == UNFINISHED


def test_a_phase_fails_after_its_time_limit():
    r = rules(time_limit_days=3, profitable_days={"min_days": 0, "min_profit_pct": 0.5})

    slow = replay([days([1000.0, 1000.0, 1000.0, 5000.0])], r)
    on_time = replay([days([1000.0, 1000.0, 6000.0, 0.0])], r)

    assert slow.outcome[0, 0] == TIME_LIMIT
    assert on_time.outcome[0, 0] == 0  # passed on the third (last allowed) day
