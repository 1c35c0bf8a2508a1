"""The stationary bootstrap's block length (Politis & White 2004, with the Patton, Politis
& White 2009 correction): a case computed by hand, and a differential test against an
independent implementation, the ``arch`` package's ``optimal_block_length`` (a pinned test
dependency)."""

import math

import numpy as np
import pytest

from backtest.analysis.challenge import block_from_autocovariances, optimal_block_length


def test_the_formula_on_a_hand_computed_case():
    # R(0) = 1, R(1) = 0.5, R(2) = 0.25, M = 2: lambda(1/2) = 1, lambda(1) = 0, so
    # G = 2 x (1 x 1 x 0.5) = 1, g(0) = 1 + 2 x 0.5 = 2, D_SB = 2 x 2^2 = 8,
    # b = (2 x 1 / 8)^(1/3) x 32^(1/3) = 8^(1/3) = 2
    assert block_from_autocovariances(np.array([1.0, 0.5, 0.25]), 2, 32) == pytest.approx(2.0)


def _series(seed: int) -> np.ndarray:
    """AR(1) of random length and coefficient; every third one with 40 % zero days (days
    without a trade, as an account's P&L has)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 1500))
    phi = float(rng.uniform(-0.5, 0.9))
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return np.where(rng.random(n) < 0.4, 0.0, x) if seed % 3 == 0 else x


def _same_lag_choice(x: np.ndarray) -> bool:
    """Whether arch's autocorrelations (its code divides lag k's cross product by the sums
    of squares of x[k+1:] and x[:-(k+1)], where Politis & White use R(k)/R(0)) fall on the
    same side of the band at every lag: then both choose the same lag window M."""
    n = len(x)
    eps = x - x.mean()
    k_n = 5
    band = 2 * math.sqrt(math.log10(n) / n)
    for k in range(1, math.ceil(math.sqrt(n)) + k_n + 1):
        cross = eps[k:] @ eps[: n - k]
        ours = abs(cross / (eps @ eps))
        theirs = abs(cross) / math.sqrt(
            (eps[k + 1 :] @ eps[k + 1 :]) * (eps[: -(k + 1)] @ eps[: -(k + 1)])
        )
        if (ours < band) != (theirs < band):
            return False
    return True


def test_the_same_block_length_as_arch():
    from arch import bootstrap as arch

    compared = 0
    for seed in range(200):
        x = _series(seed)
        if not _same_lag_choice(x):
            continue
        theirs = float(arch.optimal_block_length(x)["stationary"].iloc[0])
        assert optimal_block_length(x) == pytest.approx(max(theirs, 1.0), rel=1e-12), seed
        compared += 1
    assert compared >= 180  # the two normalisations straddle the band for few series


def test_dependence_lengthens_the_blocks():
    rng = np.random.default_rng(4)
    noise = rng.standard_normal(736)
    trending = np.empty(736)
    trending[0] = noise[0]
    for i in range(1, 736):
        trending[i] = 0.9 * trending[i - 1] + noise[i]

    assert optimal_block_length(noise) < 3
    assert optimal_block_length(trending) > 10
    assert optimal_block_length(np.zeros(100)) == 1.0  # constant: the iid bootstrap
