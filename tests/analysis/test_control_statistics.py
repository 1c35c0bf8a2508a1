"""Control rows: t statistic of the control daily R, the few-trades flag, R per trade."""

import math

import numpy as np
import pytest
from scipy import stats

from backtest.analysis.control import comparison_rows, t_statistic
from backtest.strategy.metrics import sharpe


def test_t_statistic_is_the_one_sample_t_of_the_daily_r():
    # Arrange: 6 trading days, trades on 4 of them (0 R on the others)
    daily = np.array([1.0, -0.5, 0.0, 2.0, 0.0, -1.0])
    annual = sharpe(daily[daily != 0], len(daily))

    # Act
    t = t_statistic(annual, len(daily))

    # Assert: scipy's one-sample t-test of the same six numbers against 0
    assert t == pytest.approx(stats.ttest_1samp(daily, 0.0).statistic, rel=1e-12)


def _metrics(avg_r, trades, sharpe_annual, pnl=1.0, prop_ok=True):
    return {
        "avg_r": avg_r,
        "trades": trades,
        "sharpe": sharpe_annual,
        "total_pnl": pnl,
        "prop_ok": prop_ok,
        "total_r": avg_r * trades,
    }


def test_rows_flag_few_trades_and_report_the_difference_not_a_ratio():
    selected = [
        {
            "group_id": "g1",
            "combo": 0,
            "params": {"tp_mult": 1.0},
            "metrics": _metrics(0.001, 400, 0.1),
        },
        {
            "group_id": "g1",
            "combo": 1,
            "params": {"tp_mult": 2.0},
            "metrics": _metrics(0.2, 300, 1.0),
        },
    ]
    control = [_metrics(-0.15, 29, -1.2, pnl=-5.0), _metrics(0.1, 30, 0.8, prop_ok=False)]

    rows = comparison_rows(selected, control, control_days=54, min_control_trades=30)

    assert [r["few_control_trades"] for r in rows] == [True, False]
    assert rows[0]["r_per_trade_diff"] == pytest.approx(-0.151)
    assert rows[1]["r_per_trade_diff"] == pytest.approx(-0.1)
    assert [r["control_loses_money"] for r in rows] == [True, False]
    assert [r["breaks_prop_limits"] for r in rows] == [False, True]
    expected_t = -1.2 / math.sqrt(252) * math.sqrt(54)
    assert rows[0]["ctl_t_stat"] == pytest.approx(expected_t)
    assert rows[0]["ctl_p_value"] == pytest.approx(stats.t.sf(expected_t, 53))
    assert not any("ratio" in key for key in rows[0])
