"""A phase passes on the day its closed balance reaches the target exactly (with the
profitable days it needs), not a cent before."""

import numpy as np

from backtest.analysis.challenge import PASSED, UNFINISHED, replay, summary
from tests.analysis.account_helpers import days, rules


def test_a_balance_exactly_on_the_target_passes():
    # 100,000 + 3,000 + 3,000 + 2,000 = 108,000: 8 % exactly, three profitable days
    result = replay([days([3000.0, 3000.0, 2000.0])], rules())

    assert result.outcome[0, 0] == PASSED
    assert result.phase_days[0, 0].tolist() == [3]


def test_a_cent_short_of_the_target_does_not_pass_until_it_is_reached():
    result = replay([days([3000.0, 3000.0, 1999.99, 0.01])], rules())

    # start 0: 107,999.99 after day 3 (no pass), 108,000 on day 4 (three profitable days)
    assert result.outcome[0, 0] == PASSED
    assert result.phase_days[0, 0].tolist() == [4]
    # the other starts never reach 8 %
    assert (result.outcome[0, 1:] == UNFINISHED).all()


def test_two_phases_pass_one_after_the_other():
    r = rules(phases=[{"profit_target_pct": 8}, {"profit_target_pct": 5}])
    # phase 1 on days 1-3 (108,000), phase 2 starts at 100,000 on day 4: 5 % on day 6
    net = [3000.0, 3000.0, 2000.0, 2000.0, 2000.0, 1000.0]

    result = replay([days(net)], r)
    s = summary(result, 0, r)

    assert result.outcome[0, 0] == PASSED
    assert result.phase_days[0, 0].tolist() == [3, 3]
    assert s["counts"]["passed"] == 1
    assert s["median_days_to_pass"] == 6
    assert np.isclose(s["phases"][0]["p_pass"], 2 / 6)  # starts 0 and 1 pass phase 1
