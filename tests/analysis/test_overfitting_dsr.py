"""PSR / DSR (Bailey & López de Prado 2012, 2014): the paper's numerical example and properties."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from backtest.analysis.overfitting import (
    daily_sharpe_moments,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
)

# Bailey & López de Prado, "The Deflated Sharpe Ratio", JPM 40(5) 2014, "A numerical example"
# (SSRN 2460551, pp. 9-10): annualised SR 2.5 from daily data over T = 1250 days at 250 days
# a year, N = 100 trials whose annualised Sharpe ratios have variance V = 1/2, skewness -3,
# kurtosis 10. Per day: SR = 2.5 / sqrt(250), V = (1/2) / 250. The paper prints
# SR0 ~ 0.1132 (per day) and DSR ~ 0.9004; 0.9505 had N been 46; and, with Normal returns
# (skew 0, kurtosis 3), 0.9505 at N = 88.
DAYS_PER_YEAR = 250
SR_DAILY = 2.5 / math.sqrt(DAYS_PER_YEAR)
V_DAILY = 0.5 / DAYS_PER_YEAR
T_DAYS = 1250


def test_paper_expected_maximum_sharpe():
    assert expected_max_sharpe(100, V_DAILY) == pytest.approx(0.1132, abs=5e-5)


def test_paper_deflated_sharpe_ratio():
    result = deflated_sharpe_ratio(SR_DAILY, 100, V_DAILY, T_DAYS, -3.0, 10.0)

    assert result.dsr == pytest.approx(0.9004, abs=5e-5)
    assert result.sr_benchmark == pytest.approx(0.1132, abs=5e-5)
    assert (result.n_trials, result.n_obs, result.skew, result.kurtosis) == (100, 1250, -3.0, 10.0)
    assert result.sr == SR_DAILY and result.var_sharpe == V_DAILY


def test_paper_dsr_at_46_trials_and_with_normal_returns_at_88():
    at_46 = deflated_sharpe_ratio(SR_DAILY, 46, V_DAILY, T_DAYS, -3.0, 10.0)
    normal_88 = deflated_sharpe_ratio(SR_DAILY, 88, V_DAILY, T_DAYS, 0.0, 3.0)

    assert at_46.dsr == pytest.approx(0.9505, abs=5e-5)
    assert normal_88.dsr == pytest.approx(0.9505, abs=5e-5)


def test_benchmark_scales_with_the_sharpe_standard_deviation():
    # annualised V = 1/2 gives the annualised benchmark: sqrt(250) times the daily one
    annual = expected_max_sharpe(100, 0.5)

    assert annual == pytest.approx(math.sqrt(DAYS_PER_YEAR) * expected_max_sharpe(100, V_DAILY))


def test_one_trial_has_benchmark_zero_and_dsr_equals_psr_against_zero():
    result = deflated_sharpe_ratio(0.08, 1, 0.004, 500, -0.5, 6.0)

    assert result.sr_benchmark == 0.0
    assert result.dsr == probabilistic_sharpe_ratio(0.08, 0.0, 500, -0.5, 6.0)


def test_more_trials_raise_the_benchmark_and_lower_the_dsr():
    trials = [1, 2, 5, 10, 100, 1000, 100_000]

    benchmarks = [expected_max_sharpe(n, V_DAILY) for n in trials]
    dsrs = [deflated_sharpe_ratio(SR_DAILY, n, V_DAILY, T_DAYS, -3.0, 10.0).dsr for n in trials]

    assert all(a < b for a, b in zip(benchmarks, benchmarks[1:]))
    assert all(a > b for a, b in zip(dsrs, dsrs[1:]))


def test_psr_by_hand_for_normal_returns():
    # SR 0.1 over 101 days, Normal: z = 0.1 * sqrt(100) / sqrt(1 + (3 - 1)/4 * 0.01)
    z = 1.0 / math.sqrt(1.005)

    assert probabilistic_sharpe_ratio(0.1, 0.0, 101, 0.0, 3.0) == pytest.approx(norm.cdf(z))
    assert probabilistic_sharpe_ratio(0.1, 0.1, 101, -2.0, 9.0) == 0.5


def test_negative_skew_and_fat_tails_lower_the_psr_of_a_positive_sharpe():
    normal = probabilistic_sharpe_ratio(0.1, 0.0, 250, 0.0, 3.0)

    assert probabilistic_sharpe_ratio(0.1, 0.0, 250, -1.0, 3.0) < normal
    assert probabilistic_sharpe_ratio(0.1, 0.0, 250, 0.0, 8.0) < normal


def test_daily_moments_use_ddof1_sharpe_and_moment_estimators():
    # x = 1, 2, 3, 10: mean 4, deviations -3 -2 -1 6, m2 = 50/4, m3 = 180/4, m4 = 1394/4
    x = np.array([1.0, 2.0, 3.0, 10.0])

    sr, skew, kurt, n = daily_sharpe_moments(x)

    assert sr == pytest.approx(4.0 / math.sqrt(50.0 / 3.0))
    assert skew == pytest.approx(45.0 / 12.5**1.5)
    assert kurt == pytest.approx(348.5 / 12.5**2)
    assert n == 4


def test_daily_moments_of_a_two_point_series():
    x = np.tile([0.02, -0.01], 50)  # symmetric two-point: skew 0, kurtosis 1

    sr, skew, kurt, n = daily_sharpe_moments(x)

    assert sr == pytest.approx(0.005 / (0.015 * math.sqrt(100 / 99)))
    assert skew == pytest.approx(0.0, abs=1e-12)
    assert kurt == pytest.approx(1.0)
    assert n == 100


def test_constant_series_has_sharpe_zero_and_normal_moments():
    assert daily_sharpe_moments(np.full(30, 0.5)) == (0.0, 0.0, 3.0, 30)
    assert daily_sharpe_moments(np.full(37, 0.1)) == (0.0, 0.0, 3.0, 37)  # std ~1e-17, not 0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="n_trials"):
        expected_max_sharpe(0, 0.1)
    with pytest.raises(ValueError, match="var_sharpe"):
        expected_max_sharpe(10, -0.1)
    with pytest.raises(ValueError, match="n_obs"):
        probabilistic_sharpe_ratio(0.1, 0.0, 1, 0.0, 3.0)
    with pytest.raises(ValueError, match="kurtosis >= 1"):
        probabilistic_sharpe_ratio(1.0, 0.0, 100, 2.0, 1.0)  # 1 - 2 + 0 < 0
    with pytest.raises(ValueError, match=">= 2 values"):
        daily_sharpe_moments(np.array([0.1]))
    with pytest.raises(ValueError, match="finite"):
        daily_sharpe_moments(np.array([0.1, np.nan, 0.2]))
