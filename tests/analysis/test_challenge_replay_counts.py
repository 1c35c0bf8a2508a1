"""The replay's counts on a six-day series, checked by hand.

One phase of 2 %, daily loss 5 % of the day's start, overall 10 %, one profitable day of
0.5 %. Days: +1,000, +1,500, -6,000, +2,500, -500, +1,000.

- start 1: 101,000, then 102,500 (2.5 %): passed in 2 days
- start 2: 101,500, then -6,000 = 5.9 % of 101,500: breach (daily)
- start 3: -6,000 = 6 % of 100,000: breach (daily)
- start 4: +2,500: passed in 1 day
- start 5: 99,500, 100,500 (0.5 %): out of days, unfinished
- start 6: 101,000 (1 %): unfinished
"""

from backtest.analysis.challenge import replay, summary
from tests.analysis.account_helpers import days, rules

NET = [1000.0, 1500.0, -6000.0, 2500.0, -500.0, 1000.0]
ONE_PHASE = {
    "phases": [{"profit_target_pct": 2}],
    "profitable_days": {"min_days": 1, "min_profit_pct": 0.5},
}


def test_replay_counts_by_hand():
    r = rules(**ONE_PHASE)

    result = replay([days(NET)], r)
    s = summary(result, 0, r)

    assert result.outcome[0].tolist() == [0, 1, 1, 0, 5, 5]
    assert result.phase_days[0, :, 0].tolist() == [2, 2, 1, 1, 2, 1]
    assert result.last[0].tolist() == [1, 2, 2, 3, 5, 5]
    assert s["counts"] == {
        "passed": 2,
        "breach: daily loss": 2,
        "breach: overall loss": 0,
        "breach: daily and overall loss": 0,
        "failed: time limit": 0,
        "unfinished": 2,
    }
    assert (s["p_pass"], s["p_breach"], s["p_unfinished"]) == (2 / 6, 2 / 6, 2 / 6)
    assert s["median_days_to_pass"] == 1  # of [2, 1]: the smaller (inverted cdf)
    assert s["p90_days_to_pass"] == 2


def test_replay_counts_by_hand_with_a_second_phase():
    # phase 2 of 1 %: start 1 passes phase 1 on day 2 and breaches on day 3; start 4 passes
    # phase 1 on day 4, then 99,500 and 100,500 (0.5 % < 1 %): unfinished in phase 2
    r = rules(**{**ONE_PHASE, "phases": [{"profit_target_pct": 2}, {"profit_target_pct": 1}]})

    result = replay([days(NET)], r)
    s = summary(result, 0, r)

    assert result.outcome[0].tolist() == [1, 1, 1, 5, 5, 5]
    assert result.passed[0].tolist() == [1, 0, 0, 1, 0, 0]
    assert result.phase_days[0].tolist() == [[2, 1], [2, 0], [1, 0], [1, 2], [2, 0], [1, 0]]
    assert s["p_pass"] == 0.0
    assert [ph["passed"] for ph in s["phases"]] == [2, 0]
    assert [ph["reached"] for ph in s["phases"]] == [6, 2]
