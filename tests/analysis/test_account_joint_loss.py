"""Both symbols on one account, their days aligned by calendar date: a day on which each
loses 3 % is within the 5 % daily limit for either alone and breaches on the account."""

import numpy as np

from backtest.analysis.account_rules import breaches, rules_table
from backtest.analysis.challenge import BREACH_DAILY, Rules, replay
from backtest.data.bars import day_date
from tests.analysis.account_helpers import account, pick_data, program

# GER40 (Berlin dates) does not trade on the 7th, XAUUSD (London dates) not on the 4th
GER40 = pick_data(
    "GER40",
    ["2024-03-04", "2024-03-05", "2024-03-06"],
    [("2024-03-04", 1000.0), ("2024-03-05", -1000.0), ("2024-03-05", -2000.0)],
)
XAUUSD = pick_data(
    "XAUUSD",
    ["2024-03-05", "2024-03-06", "2024-03-07"],
    [("2024-03-05", -3000.0), ("2024-03-07", 500.0)],
    risk=800.0,
)


def test_the_calendar_is_the_union_of_the_local_dates():
    acct = account([GER40, XAUUSD])

    dates = [day_date(int(d)).isoformat() for d in acct.calendar]
    combined = acct.at(acct.risks)

    assert dates == ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]
    assert combined.net.tolist() == [1000.0, -6000.0, 0.0, 500.0]
    # worst case: each symbol's low (-3,000 each) at the same moment
    assert combined.closed_low.tolist() == [0.0, -6000.0, 0.0, 0.0]


def test_a_joint_loss_day_breaches_only_combined():
    acct = account([GER40, XAUUSD])
    r = Rules.of(program())

    found = breaches(acct, acct.risks, r)
    rows = {row["rule"]: row for row in rules_table(acct, acct.risks, r)}

    # day 2 starts at 101,000: 6,000 is 5.94 % of it; each symbol alone 2.97 %
    assert found == [
        {
            "date": "2024-03-05",
            "rule": "daily loss (closed)",
            "value_pct": 6000 / 101000 * 100,
            "limit_pct": 5.0,
            "only_combined": True,
        }
    ]
    assert rows["max daily loss (closed)"]["status"] == "FAIL"
    for pick in (GER40, XAUUSD):
        alone = account([pick])
        assert breaches(alone, alone.risks, r) == []
    assert replay([acct.at(acct.risks)], r).outcome[0, 1] == BREACH_DAILY


def test_risk_per_symbol_scales_each_symbol_s_money():
    acct = account([GER40, XAUUSD], risks=[500.0, 1600.0])

    combined = acct.at(acct.risks)

    # GER40 at half its run's risk, XAUUSD at twice its run's 800
    assert combined.net.tolist() == [500.0, -1500.0 - 6000.0, 0.0, 1000.0]
    assert np.isclose(acct.risks_at_level(1.0)[1], 1000.0)  # the larger risk is the level
    assert np.isclose(acct.risks_at_level(1.0)[0], 1000.0 * 500 / 1600)
