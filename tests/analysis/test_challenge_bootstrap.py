"""The stationary bootstrap: seeded and reproducible, days drawn whole, blocks of
geometric length that continue with the next day (wrapping round), and challenge
probabilities that match those computed by hand."""

import numpy as np
import pytest

from backtest.analysis.challenge import simulate, stationary_indices, summary
from tests.analysis.account_helpers import days, rules

# +3 % (profitable) or -6 % (a daily breach); one phase of 5 %: passing takes two up
# days in a row at the start, anything else breaches
UP, DOWN = 3000.0, -6000.0
TWO_UPS = {
    "phases": [{"profit_target_pct": 5}],
    "profitable_days": {"min_days": 1, "min_profit_pct": 0.5},
}


def test_same_seed_same_paths_other_seed_other_paths():
    d = [days([1000.0, -2500.0, 1800.0, 400.0, -900.0, 2600.0] * 20)]

    first = simulate(d, rules(), n_paths=3000, seed=11, mean_block=3.0)
    again = simulate(d, rules(), n_paths=3000, seed=11, mean_block=3.0)
    other = simulate(d, rules(), n_paths=3000, seed=12, mean_block=3.0)

    for name in ("outcome", "passed", "phase_days"):
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.phase_days, other.phase_days)


def test_iid_days_give_the_hand_computed_probability():
    # mean block 1: every day uniform, P(two ups first) = 1/2 x 1/2
    r = rules(**TWO_UPS)

    s = summary(simulate([days([UP, DOWN])], r, n_paths=20_000, seed=3, mean_block=1.0), 0, r)

    assert s["p_pass"] == pytest.approx(0.25, abs=4 * np.sqrt(0.25 * 0.75 / 20_000))
    assert s["p_pass"] + s["p_breach"] == 1.0


def test_stationary_blocks_give_the_hand_computed_probability():
    # history up, down, up, down; mean block 2 (p = 1/2): the first day is up with 1/2;
    # the next is the following day (down) with 1/2, a new uniform day with 1/2 (up: 1/2):
    # P(pass) = 1/2 x 1/2 x 1/2 = 1/8 (iid would give 1/4, blocks of fixed length 2: 0)
    r = rules(**TWO_UPS)

    s = summary(
        simulate([days([UP, DOWN, UP, DOWN])], r, n_paths=40_000, seed=5, mean_block=2.0), 0, r
    )

    assert s["p_pass"] == pytest.approx(0.125, abs=4 * np.sqrt(0.125 * 0.875 / 40_000))


def test_every_level_walks_the_same_paths():
    d = days([UP, DOWN, UP, DOWN, 500.0, -800.0])
    r = rules(**TWO_UPS)

    both = simulate([d, d], r, n_paths=500, seed=9, mean_block=2.0)
    alone = simulate([d], r, n_paths=500, seed=9, mean_block=2.0)

    assert np.array_equal(both.outcome[0], both.outcome[1])
    assert np.array_equal(both.outcome[0], alone.outcome[0])


def test_blocks_continue_with_the_next_day_and_wrap():
    rng = np.random.default_rng(0)

    never_restart = stationary_indices(rng, 3, 4, 7, mean_block=1e12)

    for row in never_restart:  # one block: consecutive days, 2 followed by 0
        assert ((row[1:] - row[:-1]) % 3 == 1).all()


def test_block_starts_occur_with_probability_one_over_the_mean_block():
    n, b = 1000, 5.0
    idx = stationary_indices(np.random.default_rng(1), n, 400, 1000, b)

    breaks = (idx[:, 1:] != (idx[:, :-1] + 1) % n).mean()

    # a new block lands on the next day by chance with 1/n
    expected = (1 / b) * (1 - 1 / n)
    tolerance = 4 * np.sqrt(expected * (1 - expected) / idx[:, 1:].size)
    assert breaks == pytest.approx(expected, abs=tolerance)
    assert idx.min() >= 0 and idx.max() < n
    counts = np.bincount(idx.ravel(), minlength=n)
    assert 0.6 * counts.mean() < counts.min() <= counts.max() < 1.4 * counts.mean()
