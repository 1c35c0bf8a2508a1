"""Bootstrap of the selected combination's days: exact cases, breach probabilities, seeds."""

import math

import numpy as np
import pytest

from backtest.analysis.overfitting import bootstrap_days

ACCOUNT = 10_000.0


def identical_days(n=10):
    return np.full(n, -0.5), np.full(n, -100.0), np.full(n, -150.0)


@pytest.mark.parametrize("block", [1, 3, 10])
def test_identical_days_give_the_original_path_in_every_sample(block):
    # Every sample is the original: R falls 0.5 a day for 10 days, max drawdown 5 R. The
    # balance falls 100 a day, each day dips 150 below its start: worst day 1.5 % of the
    # account; the last day starts at 9,100 and dips to 8,950, 10.5 % below the 10,000 peak.
    r, money, low = identical_days()

    result = bootstrap_days(r, money, low, ACCOUNT, 1.5, 10.5, n_samples=200, seed=3, block=block)

    assert np.all(result.max_dd_r == 5.0)
    assert (result.max_dd_r_p05, result.max_dd_r_p50, result.max_dd_r_p95) == (5.0, 5.0, 5.0)
    np.testing.assert_allclose(result.max_daily_loss_pct, 1.5, rtol=1e-12)
    np.testing.assert_allclose(result.max_dd_pct, 10.5, rtol=1e-12)
    # losses of exactly the limits are inside them
    assert (result.p_daily_breach, result.p_overall_breach, result.p_any_breach) == (0, 0, 0)
    assert (result.n_samples, result.seed, result.block) == (200, 3, block)


def test_identical_days_just_over_the_limits_always_breach():
    r, money, low = identical_days()

    result = bootstrap_days(r, money, low, ACCOUNT, 1.49, 10.49, n_samples=50)

    assert (result.p_daily_breach, result.p_overall_breach, result.p_any_breach) == (1, 1, 1)


def test_whole_path_blocks_are_rotations_with_hand_computed_drawdowns():
    # block = n: each sample is a circular rotation of the three days.
    #   day   R     money   low
    #   0    +2    +1000       0
    #   1    -1     -500    -700
    #   2   -1.5    -800    -900
    # rotation 0,1,2: R 2,1,-0.5 -> dd 2.5; balance dips to 10,300 then 9,600 under the
    #                 11,000 peak -> 1400/11000 = 12.73 %
    # rotation 1,2,0: R -1,-2.5,-0.5 -> 2.5; dips 9,300, 8,600, 8,700 under 10,000 -> 14 %
    # rotation 2,0,1: R -1.5,0.5,-0.5 -> 1.5; dips 9,100, 9,200, then 9,500 under the new
    #                 10,200 peak -> 9 %
    r = np.array([2.0, -1.0, -1.5])
    money = np.array([1000.0, -500.0, -800.0])
    low = np.array([0.0, -700.0, -900.0])
    expected = {(2.5, round(1400 / 110, 9)), (2.5, 14.0), (1.5, 9.0)}

    result = bootstrap_days(r, money, low, ACCOUNT, 9.0, 14.0, n_samples=600, seed=1, block=3)

    seen = {(a, round(b, 9)) for a, b in zip(result.max_dd_r, result.max_dd_pct)}
    assert seen == expected
    np.testing.assert_allclose(result.max_daily_loss_pct, 9.0)
    assert result.p_daily_breach == 0.0
    assert result.p_overall_breach == 0.0  # 14 % exactly is inside


def single_bad_day(n=20):
    low = np.full(n, -50.0)
    low[7] = -600.0  # 6 % of the account against a 5 % daily limit
    return np.zeros(n), np.zeros(n), low


@pytest.mark.parametrize(
    ("block", "p_exact"),
    [
        (1, 1 - (1 - 1 / 20) ** 20),  # 20 iid draws, each the bad day with prob 1/20
        (5, 1 - (1 - 5 / 20) ** 4),  # 4 blocks, each covers day 7 for 5 of the 20 starts
        (4, 1 - (1 - 4 / 20) ** 5),
    ],
)
def test_single_bad_day_breaches_with_the_exact_probability(block, p_exact):
    n_samples = 10_000
    r, money, low = single_bad_day()

    result = bootstrap_days(r, money, low, ACCOUNT, 5.0, 10.0, n_samples=n_samples, block=block)

    # samples are independent: the breach count is binomial; 4 standard errors
    tolerance = 4 * math.sqrt(p_exact * (1 - p_exact) / n_samples)
    assert result.p_daily_breach == pytest.approx(p_exact, abs=tolerance)
    assert result.p_overall_breach == 0.0
    assert result.p_any_breach == result.p_daily_breach


def test_a_loss_of_exactly_the_daily_limit_is_inside():
    r, money, low = single_bad_day()

    inside = bootstrap_days(r, money, low, ACCOUNT, 6.0, 10.0, n_samples=500)
    over = bootstrap_days(r, money, low, ACCOUNT, 5.999999, 10.0, n_samples=500)

    assert inside.p_daily_breach == 0.0
    assert over.p_daily_breach > 0.5


def test_same_seed_same_samples_other_seed_other_samples():
    rng = np.random.default_rng(0)
    r = rng.normal(0.1, 1.0, 120)
    money, low = r * 100.0, -np.abs(r) * 120.0

    a = bootstrap_days(r, money, low, ACCOUNT, 3.0, 8.0, n_samples=300, seed=42, block=5)
    b = bootstrap_days(r, money, low, ACCOUNT, 3.0, 8.0, n_samples=300, seed=42, block=5)
    c = bootstrap_days(r, money, low, ACCOUNT, 3.0, 8.0, n_samples=300, seed=43, block=5)

    np.testing.assert_array_equal(a.max_dd_r, b.max_dd_r)
    np.testing.assert_array_equal(a.max_dd_pct, b.max_dd_pct)
    assert a.p_any_breach == b.p_any_breach
    assert not np.array_equal(a.max_dd_r, c.max_dd_r)


def test_original_max_drawdown_lies_within_the_bootstrap_range():
    rng = np.random.default_rng(9)
    r = rng.normal(0.05, 1.0, 250)
    cum = np.cumsum(r)
    original = float(np.max(np.maximum.accumulate(np.maximum(cum, 0.0)) - cum))

    result = bootstrap_days(r, r * 50.0, -np.abs(r) * 60.0, ACCOUNT, 2.0, 10.0, seed=5)

    assert result.max_dd_r.min() < original < result.max_dd_r.max()
    assert result.max_dd_r_p05 <= result.max_dd_r_p50 <= result.max_dd_r_p95


def test_bad_inputs_are_refused():
    r, money, low = identical_days()
    with pytest.raises(ValueError, match="equal"):
        bootstrap_days(r[:-1], money, low, ACCOUNT, 5.0, 10.0)
    with pytest.raises(ValueError, match="<= 0"):
        bootstrap_days(r, money, -low, ACCOUNT, 5.0, 10.0)
    with pytest.raises(ValueError, match="account_size"):
        bootstrap_days(r, money, low, 0.0, 5.0, 10.0)
    with pytest.raises(ValueError, match="block"):
        bootstrap_days(r, money, low, ACCOUNT, 5.0, 10.0, block=11)
    with pytest.raises(ValueError, match="finite"):
        bootstrap_days(np.full(10, np.nan), money, low, ACCOUNT, 5.0, 10.0)
