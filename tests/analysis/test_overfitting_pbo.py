"""PBO by CSCV (Bailey, Borwein, López de Prado & Zhu 2017): hand case, brute force, null, edge."""

import itertools
import math

import numpy as np
import pytest

import backtest.analysis.overfitting as ovf
from backtest.analysis.overfitting import pbo_cscv


def brute_force_cscv(m, n_blocks, objective):
    """The paper's procedure written out literally: one split at a time, np.std(ddof=1)."""
    blocks = np.array_split(np.arange(m.shape[0]), n_blocks)
    n = m.shape[1]

    def score(rows):
        x = m[rows]
        if objective == "total_r":
            return x.sum(axis=0)
        sd = x.std(axis=0, ddof=1) if len(rows) > 1 else np.zeros(n)
        out = np.zeros(n)
        live = sd > 1e-12 * np.abs(x).max(axis=0)
        out[live] = x.mean(axis=0)[live] / sd[live]
        return out

    logits, chosen, is_obj, oos_obj = [], [], [], []
    for c in itertools.combinations(range(n_blocks), n_blocks // 2):
        train = np.concatenate([blocks[i] for i in c])
        test = np.concatenate([blocks[i] for i in range(n_blocks) if i not in c])
        r, r_bar = score(train), score(test)
        best = int(np.argmax(r))
        rank = np.sum(r_bar < r_bar[best]) + (np.sum(r_bar == r_bar[best]) + 1) / 2
        logits.append(math.log(rank / (n + 1 - rank)))
        chosen.append(best)
        is_obj.append(r[best])
        oos_obj.append(r_bar[best])
    return np.array(logits), np.array(chosen), np.array(is_obj), np.array(oos_obj)


def test_hand_computed_s4_n3_total_r():
    # One day per block; columns A, B, C; objective = sum of the in-sample days.
    #   block:  b0  b1  b2  b3    totals
    #   A        2   2   2   1       7
    #   B        0   1  -1   3       3
    #   C        1   1   1   1       4
    m = np.array([[2, 0, 1], [2, 1, 1], [2, -1, 1], [1, 3, 1]], dtype=float)
    # IS blocks   IS sums (A,B,C)  pick        OOS sums (A,B,C)   OOS rank of pick   lambda
    # {0,1}       4, 1, 2          A           3, 2, 2            3                  ln(3/1)
    # {0,2}       4,-1, 2          A           3, 4, 2            2 (median)         ln(2/2)=0
    # {0,3}       3, 3, 2          A (tie: lowest index wins over B)
    #                                          4, 0, 2            3                  ln(3/1)
    # {1,2}       4, 0, 2          A           3, 3, 2            2.5 (tie with B)   ln(2.5/1.5)
    # {1,3}       3, 4, 2          B           4,-1, 2            1                  ln(1/3)
    # {2,3}       3, 2, 2          A           4, 1, 2            3                  ln(3/1)
    # omega = rank / (N + 1) = rank / 4; lambda <= 0 in {0,2} and {1,3}: PBO = 2/6.
    result = pbo_cscv(m, n_blocks=4, objective="total_r")

    assert result.pbo == pytest.approx(1 / 3)
    np.testing.assert_allclose(
        result.logits,
        [math.log(3), 0.0, math.log(3), math.log(5 / 3), math.log(1 / 3), math.log(3)],
        rtol=0,
        atol=1e-15,
    )
    np.testing.assert_allclose(result.omega, [3 / 4, 2 / 4, 3 / 4, 2.5 / 4, 1 / 4, 3 / 4])
    assert result.selected.tolist() == [0, 0, 0, 0, 1, 0]
    assert result.is_objective.tolist() == [4, 4, 3, 4, 4, 3]
    assert result.oos_objective.tolist() == [3, 3, 4, 3, -1, 4]
    assert (result.n_splits, result.n_blocks, result.n_trials, result.n_obs) == (6, 4, 3, 4)


def test_lambda_zero_counts_as_overfit():
    # Three identical columns: every OOS rank is the mid-rank (N + 1) / 2, so lambda = 0.
    m = np.tile(np.array([[1.0], [-2.0], [0.5], [3.0]]), (1, 3))

    result = pbo_cscv(m, n_blocks=4, objective="sharpe")

    assert result.pbo == 1.0
    assert np.all(result.logits == 0.0)
    assert np.all(result.selected == 0)  # IS ties go to the lowest column index


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("objective", ["sharpe", "total_r"])
def test_matches_the_literal_procedure_on_uneven_blocks(seed, objective):
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0, 1.0, size=(37, 9)).round(2)  # 37 days in 6 blocks: 7,6,6,6,6,6
    m[:, 4] = m[:, 1]  # an exact duplicate: ties in and out of sample
    m[:, 7] = 0.25  # a constant column: Sharpe 0
    m[:10, 8] = 0.0  # a late starter

    result = pbo_cscv(m, n_blocks=6, objective=objective)
    logits, chosen, is_obj, oos_obj = brute_force_cscv(m, 6, objective)

    assert result.n_splits == math.comb(6, 3)
    assert result.selected.tolist() == chosen.tolist()
    np.testing.assert_allclose(result.logits, logits, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.is_objective, is_obj, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.oos_objective, oos_obj, rtol=1e-9, atol=1e-12)
    assert result.pbo == pytest.approx(np.mean(logits <= 0))


def test_constant_column_has_sharpe_zero_and_wins_against_losers():
    rng = np.random.default_rng(5)
    m = np.column_stack([np.full(40, 0.3), rng.normal(-1.0, 0.1, size=(40, 3))])

    result = pbo_cscv(m, n_blocks=4)

    assert np.all(result.selected == 0)
    assert np.all(result.is_objective == 0.0) and np.all(result.oos_objective == 0.0)
    assert result.pbo == 0.0  # best OOS too: rank N, lambda = ln(N)


def test_chunking_does_not_change_the_result(monkeypatch):
    m = np.random.default_rng(11).normal(size=(64, 7))
    whole = pbo_cscv(m, n_blocks=8)

    monkeypatch.setattr(ovf, "_CHUNK_ELEMENTS", 3 * 7)  # 3 splits per chunk, 35 = 11*3 + 2
    chunked = pbo_cscv(m, n_blocks=8)

    np.testing.assert_array_equal(chunked.logits, whole.logits)
    np.testing.assert_array_equal(chunked.selected, whole.selected)


def test_float32_input_is_summed_in_float64():
    m32 = np.random.default_rng(4).normal(size=(48, 6)).astype(np.float32)

    from32 = pbo_cscv(m32, n_blocks=8)
    from64 = pbo_cscv(m32.astype(np.float64), n_blocks=8)

    np.testing.assert_array_equal(from32.logits, from64.logits)
    np.testing.assert_array_equal(from32.is_objective, from64.is_objective)


def test_pure_noise_gives_pbo_near_one_half():
    # Under the null the trials are exchangeable, so in every split the IS best's OOS rank is
    # uniform on 1..N and P(lambda <= 0) = (N/2) / N = 1/2 exactly. The 12,870 splits of one
    # matrix share blocks and are strongly dependent, so one matrix's PBO is noisy (sd ~0.1,
    # not the binomial sqrt(1/4 / 12870) = 0.004). Independent matrices are independent:
    # the mean over k seeds is within 4 of its standard errors of 1/2, with the standard
    # error taken from the seeds themselves (bounded above by 0.5 / sqrt(k) for values in
    # [0, 1]).
    pbos = np.array(
        [
            pbo_cscv(np.random.default_rng(seed).normal(size=(480, 50)), n_blocks=16).pbo
            for seed in range(10)
        ]
    )

    k = len(pbos)
    se = pbos.std(ddof=1) / math.sqrt(k)
    assert se < 0.5 / math.sqrt(k)
    assert abs(pbos.mean() - 0.5) < 4 * se
    assert np.all((pbos > 0.05) & (pbos < 0.95))


def test_one_planted_edge_gives_pbo_near_zero():
    rng = np.random.default_rng(7)
    m = rng.normal(0.0, 1.0, size=(480, 50))
    m[:, 13] += 0.3  # a per-day Sharpe of 0.3 against pure noise

    result = pbo_cscv(m, n_blocks=16)

    assert result.pbo < 0.05
    assert np.mean(result.selected == 13) > 0.95
    assert np.median(result.oos_objective) > 0.2  # the IS best keeps its edge OOS


@pytest.mark.parametrize("n_blocks", [0, 3, 5, 12])
def test_bad_block_counts_are_refused(n_blocks):
    with pytest.raises(ValueError, match="n_blocks must be even, >= 2 and <= T = 10"):
        pbo_cscv(np.zeros((10, 3)), n_blocks=n_blocks)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="T x N matrix"):
        pbo_cscv(np.zeros(10), n_blocks=2)
    with pytest.raises(ValueError, match="N >= 2"):
        pbo_cscv(np.zeros((10, 1)), n_blocks=2)
    with pytest.raises(ValueError, match="objective"):
        pbo_cscv(np.zeros((10, 2)), n_blocks=2, objective="calmar")
    bad = np.zeros((10, 2))
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        pbo_cscv(bad, n_blocks=2)
