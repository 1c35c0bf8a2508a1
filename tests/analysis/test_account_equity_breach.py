"""A day that breaches only on equity: its closed trades never lose 5 %, but an open trade
went 5.5 % under the day's start. With each trade's adverse excursion the rules use the
equity low (and say so); without it every output says "closed-trade balance only" and
the day passes."""

import numpy as np

from backtest.analysis.account_rules import breaches, rules_table
from backtest.analysis.challenge import (
    BREACH_DAILY,
    CLOSED_ONLY,
    PASSED,
    Rules,
    replay,
    symbol_days,
)
from backtest.data.bars import day_number
from tests.analysis.account_helpers import account, pick_data, program

DAYS = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]
# day 2: -4,000 closed first (closed low -4 %), then a trade that went -1,500 open before
# closing +1,000: equity low -5,500 (5.5 %), closed low -4,000
TRADES = [("2024-03-04", 3000.0), ("2024-03-05", -4000.0), ("2024-03-05", 1000.0),
          ("2024-03-06", 3000.0), ("2024-03-07", 6000.0)]  # fmt: skip
ADVERSE = [-200.0, -4000.0, -1500.0, -100.0, -300.0]


def test_the_equity_low_of_a_day_is_the_worst_open_point():
    calendar = np.array([day_number(d) for d in DAYS])
    d = symbol_days(
        np.array([day_number(t) for t, _ in TRADES]),
        np.array([m for _, m in TRADES]),
        calendar,
        np.array(ADVERSE),
    )

    assert d.net.tolist() == [3000.0, -3000.0, 3000.0, 6000.0]
    assert d.closed_low.tolist() == [0.0, -4000.0, 0.0, 0.0]
    assert d.equity_low.tolist() == [-200.0, -5500.0, -100.0, -300.0]


def test_a_day_that_breaches_only_on_equity():
    with_equity = account([pick_data("GER40", DAYS, TRADES, adverse=ADVERSE)])
    closed_only = account([pick_data("GER40", DAYS, TRADES)])
    r = Rules.of(program())

    rows = {row["rule"]: row for row in rules_table(with_equity, with_equity.risks, r)}
    found = breaches(with_equity, with_equity.risks, r)

    assert rows["max daily loss (closed)"]["status"] == "PASS"
    assert rows["max daily loss (equity)"]["status"] == "FAIL"
    # the day starts at 103,000: 5,500 of it is 5.34 %
    assert np.isclose(rows["max daily loss (equity)"]["value_pct"], 5500 / 103000 * 100)
    assert [(b["date"], b["rule"]) for b in found] == [("2024-03-05", "daily loss (equity)")]
    assert replay([with_equity.at(with_equity.risks)], r).outcome[0, 0] == BREACH_DAILY

    closed_rows = {row["rule"]: row for row in rules_table(closed_only, closed_only.risks, r)}
    assert closed_rows["max daily loss (equity)"]["status"] == "UNKNOWN"
    assert closed_rows["max daily loss (equity)"]["detail"] == CLOSED_ONLY
    assert breaches(closed_only, closed_only.risks, r) == []
    # 103,000 - 3,000 + 3,000 + 6,000 = 109,000 on day 4 with 3 profitable days
    assert replay([closed_only.at(closed_only.risks)], r).outcome[0, 0] == PASSED
