"""Overfitting statistics for a parameter sweep (one column or row per combination = trial).

PBO by CSCV, the probabilistic and deflated Sharpe ratios, a bootstrap of the selected
combination's days against the account's loss limits, and the stability of a combination's
objective over its grid neighbours. Pure functions on numpy arrays (pandas only for the
parameter table); no I/O, no globals that change.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

EULER_GAMMA = float(np.euler_gamma)
# Elements of one (splits x trials) or (samples x days) work array: 2**21 float64 = 16 MiB,
# so a call's working set is a few hundred MiB whatever the number of trials or samples.
_CHUNK_ELEMENTS = 1 << 21
# A column whose variance is below this share of its raw second moment is constant up to
# float64 rounding of the sums; its Sharpe ratio is taken as 0, like an exactly constant one.
_ZERO_VARIANCE = 1e-10
_TINY = 1e-300
_BREACH_TOL = 1e-9
OBJECTIVES = ("sharpe", "total_r")


@dataclass(frozen=True, eq=False)
class PBOResult:
    """CSCV outcome. Split i has the i-th block set of ``itertools.combinations(range(S), S/2)``
    in sample; the per-split arrays hold the paper's rank-degradation data (its Fig. of
    OOS vs IS performance of the in-sample best) and the logits of its histogram."""

    pbo: float
    logits: np.ndarray  # lambda_c = ln(omega_c / (1 - omega_c))
    omega: np.ndarray  # relative OOS rank of the IS best, rank / (N + 1)
    selected: np.ndarray  # column chosen in sample (n*)
    is_objective: np.ndarray  # its in-sample objective R_{n*}
    oos_objective: np.ndarray  # its out-of-sample objective R-bar_{n*}
    n_splits: int
    n_blocks: int
    n_trials: int
    n_obs: int
    objective: str


def pbo_cscv(daily_r: np.ndarray, n_blocks: int = 16, objective: str = "sharpe") -> PBOResult:
    """Probability of Backtest Overfitting by Combinatorially Symmetric Cross-Validation.

    Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting",
    J. Computational Finance 20(4), 2017 (SSRN 2326253), section 2, the CSCV procedure as
    restated in López de Prado, Advances in Financial Machine Learning (2018), section 11.6:
    (1) M is the T x N matrix ``daily_r`` (rows = days in time order, columns = trials);
    (2) its rows are cut into S = ``n_blocks`` contiguous blocks (``np.array_split`` sizes:
    the first T mod S blocks get one extra day); (3) every one of the C(S, S/2) sets of S/2
    blocks is a training set J, its complement the testing set; (4.3-4.4) R = objective of
    each column on J, n* = argmax R, ties to the lowest column index; (4.5-4.6) the relative
    rank of the OOS objective of n* among all N OOS objectives, omega = rank / (N + 1) with
    rank 1 = worst and ties at their mid-rank (the paper only asks omega in (0, 1); this
    choice puts a median rank at omega = 1/2 and keeps the logit finite); (4.7) logit
    lambda = ln(omega / (1 - omega)); (5) PBO = integral of f(lambda) over lambda <= 0, the
    share of splits whose IS best is at or below the OOS median (lambda = 0 counts).

    ``objective``: "sharpe" = mean / std (ddof=1) of the selected days, 0 for a constant
    column; "total_r" = their sum. Computed from per-block sums and sums of squares (S x N,
    float64): the splits holding block 0 go in chunks of about 2**21 / N as a 0/1 indicator
    matrix times the block sums, and each chunk also serves the complementary splits
    (OOS = total - IS), so every matrix is both one split's IS and its mate's OOS; memory
    is O(S N) plus the fixed chunk. Chunks stay in float64: that meets the target (about
    20-25 s and 0.6 GiB for N = 100,000, T = 736, S = 16 on one core), so float32, whose
    rounding could flip near-ties, is not used; ranks and ties are those of the float64 sums.
    """
    x = np.asarray(daily_r)
    if x.ndim != 2:
        raise ValueError(f"daily_r must be a T x N matrix; got shape {x.shape}")
    n_obs, n_trials = x.shape
    if n_trials < 2:
        raise ValueError(f"PBO needs N >= 2 trials (columns); got {n_trials}")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}; got {objective!r}")
    if n_blocks < 2 or n_blocks % 2 or n_blocks > n_obs:
        raise ValueError(f"n_blocks must be even, >= 2 and <= T = {n_obs}; got {n_blocks}")
    sizes = np.array([len(b) for b in np.array_split(np.arange(n_obs), n_blocks)], float)
    bounds = np.concatenate(([0], np.cumsum(sizes).astype(int)))
    bsum = np.empty((n_blocks, n_trials))
    bsq = np.empty((n_blocks, n_trials))
    for s in range(n_blocks):
        block = np.asarray(x[bounds[s] : bounds[s + 1]], dtype=np.float64)
        bsum[s] = block.sum(axis=0)
        bsq[s] = np.einsum("ij,ij->j", block, block)
    if not (np.isfinite(bsum).all() and np.isfinite(bsq).all()):
        raise ValueError("daily_r must be finite")

    combos = list(itertools.combinations(range(n_blocks), n_blocks // 2))
    position = {c: i for i, c in enumerate(combos)}
    member = np.zeros((len(combos), n_blocks))
    for i, c in enumerate(combos):
        member[i, list(c)] = 1.0
    everything = frozenset(range(n_blocks))
    half = np.array([i for i, c in enumerate(combos) if c[0] == 0])
    mate = np.array([position[tuple(sorted(everything - set(combos[i])))] for i in half])
    rows = member @ sizes
    tot_s, tot_q = bsum.sum(axis=0), bsq.sum(axis=0)
    selected = np.empty(len(combos), dtype=np.int64)
    rank = np.empty(len(combos))
    step = max(1, _CHUNK_ELEMENTS // n_trials)
    for a in range(0, len(half), step):
        own, other = half[a : a + step], mate[a : a + step]
        s_in = member[own] @ bsum
        s_out = np.subtract(tot_s, s_in)
        if objective == "sharpe":
            q_in = member[own] @ bsq
            q_out = np.subtract(tot_q, q_in)
            g_in = _sharpe_score(s_in, q_in, rows[own])
            g_out = _sharpe_score(s_out, q_out, rows[other])
        else:
            g_in, g_out = s_in, s_out
        for ids, g_is, g_oos in ((own, g_in, g_out), (other, g_out, g_in)):
            best = g_is.argmax(axis=1)
            selected[ids] = best
            rank[ids] = _mid_rank(g_oos, best)

    omega = rank / (n_trials + 1)
    logits = np.log(rank) - np.log(n_trials + 1 - rank)
    is_obj = _column_objective(member, bsum, bsq, sizes, selected, objective)
    oos_obj = _column_objective(1.0 - member, bsum, bsq, sizes, selected, objective)
    return PBOResult(
        pbo=float(np.mean(rank <= (n_trials + 1) / 2)),
        logits=logits,
        omega=omega,
        selected=selected,
        is_objective=is_obj,
        oos_objective=oos_obj,
        n_splits=len(combos),
        n_blocks=n_blocks,
        n_trials=n_trials,
        n_obs=n_obs,
        objective=objective,
    )


def _sharpe_score(s: np.ndarray, q: np.ndarray, n: np.ndarray) -> np.ndarray:
    """w = s / sqrt(q) = sqrt(n) mean / rms, increasing in the Sharpe ratio for a given n
    (SR = w sqrt((n - 1) / n) / sqrt(n - w^2)), so argmax and ranks are the Sharpe's, without
    the cancellation of n q - s^2; 0 for constant columns (w^2 = n). Overwrites ``s`` and
    ``q`` (chunk buffers)."""
    np.add(q, _TINY, out=q)  # an all-zero column gives 0 / tiny = 0, not 0 / 0
    np.sqrt(q, out=q)
    w = np.divide(s, q, out=s)
    live = np.less(np.abs(w, out=q), np.sqrt((1.0 - _ZERO_VARIANCE) * n)[:, None])
    return np.multiply(w, live, out=w)


def _mid_rank(values: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Per row, the ascending mid-rank (1 = lowest) of ``values[row, best[row]]``."""
    v = values[np.arange(len(best)), best][:, None]
    below = np.count_nonzero(values < v, axis=1)
    ties = np.count_nonzero(values == v, axis=1)  # includes the chosen column
    return below + (ties + 1) / 2.0


def _column_objective(
    mask: np.ndarray,
    bsum: np.ndarray,
    bsq: np.ndarray,
    sizes: np.ndarray,
    cols: np.ndarray,
    objective: str,
) -> np.ndarray:
    """Objective of column ``cols[i]`` over the blocks flagged in ``mask[i]``."""
    s = np.einsum("ij,ji->i", mask, bsum[:, cols])
    if objective == "total_r":
        return s
    q = np.einsum("ij,ji->i", mask, bsq[:, cols])
    n = mask @ sizes
    d = n * q - s * s
    live = d > _ZERO_VARIANCE * n * q
    sr = s * np.sqrt((n - 1) / n) / np.sqrt(np.where(live, d, 1.0))
    return np.where(live, sr, 0.0)


@dataclass(frozen=True)
class DSRResult:
    """Deflated Sharpe ratio with its inputs; all Sharpe values per period, not annualised."""

    dsr: float
    sr: float
    sr_benchmark: float  # expected maximum Sharpe of n_trials false strategies
    n_trials: int
    var_sharpe: float
    n_obs: int
    skew: float
    kurtosis: float


def probabilistic_sharpe_ratio(
    sr: float, sr_benchmark: float, n_obs: int, skew: float, kurtosis: float
) -> float:
    """P(true Sharpe > ``sr_benchmark``) given an estimate ``sr`` from ``n_obs`` returns.

    PSR = Z[(SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1)/4 SR^2)], Bailey & López de
    Prado, "The Sharpe Ratio Efficient Frontier", J. of Risk 15(2), 2012, section 3 (the
    Mertens 2002 variance of the Sharpe estimator); the kernel of eq. (2) of "The Deflated
    Sharpe Ratio", JPM 40(5), 2014. ``kurtosis`` is the non-excess kurtosis g4 (3 for Normal).
    """
    if n_obs < 2:
        raise ValueError(f"n_obs must be >= 2; got {n_obs}")
    spread = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr
    if not spread > 0.0:
        raise ValueError(
            f"moments give a non-positive Sharpe variance (skew={skew}, kurtosis={kurtosis}); "
            "any distribution has kurtosis >= 1 + skew**2"
        )
    z = (sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(spread)
    return float(stats.norm.cdf(z))


def expected_max_sharpe(n_trials: int, var_sharpe: float) -> float:
    """Expected maximum of ``n_trials`` iid Sharpe estimates of zero-skill strategies.

    SR0 = sqrt(V) ((1 - gamma) Z^-1[1 - 1/N] + gamma Z^-1[1 - 1/(N e)]), gamma = Euler-
    Mascheroni: the benchmark of Bailey & López de Prado, "The Deflated Sharpe Ratio",
    JPM 40(5), 2014, stated with eq. (2) (Proposition 1 of Bailey, Borwein, López de Prado
    & Zhu, Notices of the AMS 61(5), 2014; later López de Prado's False Strategy theorem).
    ``var_sharpe`` is the variance of the trials' Sharpe estimates, in the units of the
    Sharpe it will be compared with. One trial has no selection: the benchmark is 0.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1; got {n_trials}")
    if not var_sharpe >= 0.0:
        raise ValueError(f"var_sharpe must be >= 0; got {var_sharpe}")
    if n_trials == 1:
        return 0.0
    first = stats.norm.ppf(1.0 - 1.0 / n_trials)
    second = stats.norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return float(math.sqrt(var_sharpe) * ((1.0 - EULER_GAMMA) * first + EULER_GAMMA * second))


def deflated_sharpe_ratio(
    sr: float, n_trials: int, var_sharpe: float, n_obs: int, skew: float, kurtosis: float
) -> DSRResult:
    """DSR = PSR(SR0): the PSR against the expected maximum Sharpe of ``n_trials`` false
    strategies. Bailey & López de Prado, "The Deflated Sharpe Ratio", JPM 40(5), 2014,
    eq. (2). All Sharpe inputs per period (e.g. daily): ``var_sharpe`` is the variance of
    the trials' per-period Sharpe estimates (the paper's V[{SR_n}]); ``kurtosis`` non-excess."""
    benchmark = expected_max_sharpe(n_trials, var_sharpe)
    return DSRResult(
        dsr=probabilistic_sharpe_ratio(sr, benchmark, n_obs, skew, kurtosis),
        sr=sr,
        sr_benchmark=benchmark,
        n_trials=n_trials,
        var_sharpe=var_sharpe,
        n_obs=n_obs,
        skew=skew,
        kurtosis=kurtosis,
    )


def daily_sharpe_moments(daily: np.ndarray) -> tuple[float, float, float, int]:
    """(sr, skew, kurtosis, n_obs) of one daily series, per day (not annualised), as the
    PSR/DSR formulas take them (Bailey & López de Prado 2014, eq. (2)).

    sr = mean / std (ddof=1); skew and kurtosis are the moment estimators m3 / m2^1.5 and
    m4 / m2^2 (``scipy.stats.skew`` / ``kurtosis(fisher=False)`` with bias=True, the
    Mertens asymptotics' plain sample moments; the small-sample correction is negligible at
    hundreds of days). A constant series (variance below 1e-10 of the mean square, i.e.
    constant up to rounding) gets sr 0 and Normal moments (0, 3), which do not enter PSR
    when sr is 0.
    """
    x = np.asarray(daily, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"daily must be a 1-D series of >= 2 values; got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("daily must be finite")
    if x.var() <= _ZERO_VARIANCE * float(np.mean(x * x)):
        return 0.0, 0.0, 3.0, int(x.size)
    skew = float(stats.skew(x, bias=True))
    kurt = float(stats.kurtosis(x, fisher=False, bias=True))
    return float(x.mean() / x.std(ddof=1)), skew, kurt, int(x.size)


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Bootstrap of the selected combination's days; per-sample arrays for histograms."""

    max_dd_r_p05: float
    max_dd_r_p50: float
    max_dd_r_p95: float
    p_daily_breach: float
    p_overall_breach: float
    p_any_breach: float
    n_samples: int
    seed: int
    block: int
    max_dd_r: np.ndarray  # per sample: max drawdown of cumulative R, >= 0
    max_daily_loss_pct: np.ndarray  # per sample: worst intraday loss, % of account_size
    max_dd_pct: np.ndarray  # per sample: worst drop of the balance below its running peak, %


def bootstrap_days(
    day_r: np.ndarray,
    day_money: np.ndarray,
    day_low_money: np.ndarray,
    account_size: float,
    daily_loss_limit_pct: float,
    max_loss_limit_pct: float,
    n_samples: int = 10_000,
    seed: int = 0,
    block: int = 1,
) -> BootstrapResult:
    """Resample the trading days with replacement and measure each path against the limits.

    Per day: total R, total money and the lowest intraday closed-trade balance relative to
    the day's start (<= 0). ``block`` = 1 is Efron's iid bootstrap (Ann. Statist. 7(1),
    1979); ``block`` > 1 the circular block bootstrap of Politis & Romano ("A circular
    block-resampling procedure for stationary data", 1992), Künsch's moving blocks (Ann.
    Statist. 17(3), 1989) wrapped around the end so every day is equally likely: blocks of
    ``block`` consecutive days from uniform starts, cut to the original length.

    Per path: max drawdown of cumulative R with the peak starting at 0 (Magdon-Ismail &
    Atiya, "Maximum drawdown", Risk 17(10), 2004); max daily loss % = max of
    -day_low_money / account_size * 100; max drawdown % of the balance =
    max of (peak - (day start + day_low_money)) / peak * 100, the peak running over
    account_size and the end-of-day balances before that day. A limit breach is a value
    above the limit by more than 1e-9 (a loss of exactly the limit is inside). Quantiles
    use numpy's linear interpolation. Seeded with ``numpy.random.default_rng(seed)``.
    """
    r, money, low = (np.asarray(a, dtype=np.float64) for a in (day_r, day_money, day_low_money))
    if r.ndim != 1 or r.shape != money.shape or r.shape != low.shape or r.size == 0:
        raise ValueError("day_r, day_money and day_low_money must be 1-D, equal and non-empty")
    if not (np.isfinite(r).all() and np.isfinite(money).all() and np.isfinite(low).all()):
        raise ValueError("day values must be finite")
    if (low > 0).any():
        raise ValueError("day_low_money is the day's low relative to its start: must be <= 0")
    if not account_size > 0:
        raise ValueError(f"account_size must be > 0; got {account_size}")
    n = r.size
    if n_samples < 1 or not 1 <= block <= n:
        raise ValueError(f"need n_samples >= 1 and 1 <= block <= {n}; got {n_samples}, {block}")
    rng = np.random.default_rng(seed)
    loss_pct = -low / account_size * 100.0
    dd_r, daily, dd_pct = (np.empty(n_samples) for _ in range(3))
    step = max(1, _CHUNK_ELEMENTS // n)
    for a in range(0, n_samples, step):
        idx = _resample_days(rng, min(step, n_samples - a), n, block)
        out = slice(a, a + idx.shape[0])
        cum = np.cumsum(r[idx], axis=1)
        peak = np.maximum.accumulate(np.maximum(cum, 0.0), axis=1)
        dd_r[out] = (peak - cum).max(axis=1)
        daily[out] = loss_pct[idx].max(axis=1)
        start = np.empty(idx.shape)
        start[:, 0] = account_size
        start[:, 1:] = account_size + np.cumsum(money[idx[:, :-1]], axis=1)
        top = np.maximum.accumulate(start, axis=1)
        dd_pct[out] = ((top - (start + low[idx])) / top * 100.0).max(axis=1)
    daily_breach = daily > daily_loss_limit_pct + _BREACH_TOL
    overall_breach = dd_pct > max_loss_limit_pct + _BREACH_TOL
    p05, p50, p95 = np.quantile(dd_r, [0.05, 0.5, 0.95])
    return BootstrapResult(
        max_dd_r_p05=float(p05),
        max_dd_r_p50=float(p50),
        max_dd_r_p95=float(p95),
        p_daily_breach=float(daily_breach.mean()),
        p_overall_breach=float(overall_breach.mean()),
        p_any_breach=float((daily_breach | overall_breach).mean()),
        n_samples=n_samples,
        seed=seed,
        block=block,
        max_dd_r=dd_r,
        max_daily_loss_pct=daily,
        max_dd_pct=dd_pct,
    )


def _resample_days(rng: np.random.Generator, m: int, n: int, block: int) -> np.ndarray:
    """``m`` paths of ``n`` day indices: iid, or circular blocks of length ``block``."""
    if block == 1:
        return rng.integers(0, n, size=(m, n))
    starts = rng.integers(0, n, size=(m, -(-n // block)))
    return ((starts[:, :, None] + np.arange(block)).reshape(m, -1)[:, :n]) % n


def neighbour_stability(
    params: pd.DataFrame, objective: np.ndarray, numeric: list[str]
) -> pd.DataFrame:
    """Objective of each combination's grid neighbours, and the plateau it sits on.

    A neighbour differs by one step, up or down, in exactly one ``numeric`` column (steps
    along that column's sorted unique values over the whole table) and is equal in every
    other column, non-numeric ones included (strings such as "09:00" or JSON lists). This
    is the optimisation-profile / plateau check of Pardo, "The Evaluation and Optimization
    of Trading Strategies" (Wiley, 2nd ed. 2008): a robust optimum sits on a plateau, not
    a spike; the one-step (von Neumann) neighbourhood is this module's definition.

    Returns, aligned with ``params`` (index kept): ``neighbours`` (count),
    ``neighbour_mean`` and ``neighbour_min`` (NaN without neighbours) and ``plateau`` =
    mean over the combination and its neighbours (its own value without neighbours).
    Rows are matched through integer codes and sorted keys, not a loop per row.
    """
    n = len(params)
    obj = np.asarray(objective, dtype=np.float64)
    if obj.shape != (n,) or not np.isfinite(obj).all():
        raise ValueError(f"objective must be {n} finite values, one per row of params")
    absent = [c for c in numeric if c not in params.columns]
    if absent:
        raise ValueError(f"numeric columns not in params: {absent}")
    others = [c for c in params.columns if c not in numeric]
    base = _combine_codes([pd.factorize(params[c], use_na_sentinel=False)[0] for c in others], n)
    # sorted codes; NaN -> -1, never stepped from or to
    codes = [pd.factorize(params[c], sort=True)[0].astype(np.int64) for c in numeric]
    prefix = [base]  # prefix[j]: code of (others, numeric[:j])
    for code in codes:
        prefix.append(_combine_codes([prefix[-1], code + 1], n))
    suffix = [np.zeros(n, dtype=np.int64)]  # suffix[k]: code of numeric[len - k:]
    for code in reversed(codes):
        suffix.append(_combine_codes([code + 1, suffix[-1]], n))
    unique = int(prefix[-1].max(initial=-1)) + 1
    if unique < n:
        raise ValueError(f"params has {n - unique} duplicate combinations")
    count = np.zeros(n, dtype=np.int64)
    total = np.zeros(n)
    worst = np.full(n, np.inf)
    for j, code in enumerate(codes if n else []):
        rest = _combine_codes([prefix[j], suffix[len(codes) - 1 - j]], n)
        width = int(code.max(initial=-1)) + 2  # codes 0 .. width - 2; width - 1 never used
        order = np.argsort(rest * width + code, kind="stable")
        key, step_ok = (rest * width + code)[order], code[order] >= 0
        # keys are unique, so the row one step up, if present, is the next key in order
        link = np.flatnonzero(step_ok[:-1] & step_ok[1:] & (np.diff(key) == 1))
        for row, other in ((order[link], order[link + 1]), (order[link + 1], order[link])):
            count[row] += 1
            total[row] += obj[other]
            worst[row] = np.minimum(worst[row], obj[other])
    seen = count > 0
    safe = np.maximum(count, 1)
    return pd.DataFrame(
        {
            "neighbours": count,
            "neighbour_mean": np.where(seen, total / safe, np.nan),
            "neighbour_min": np.where(seen, worst, np.nan),
            "plateau": (obj + total) / (1 + count),
        },
        index=params.index,
    )


def _combine_codes(parts: list[np.ndarray], n: int) -> np.ndarray:
    """One dense int64 code per distinct tuple of non-negative codes (0 for no parts)."""
    key = np.zeros(n, dtype=np.int64)
    for part in parts:
        part = np.asarray(part, dtype=np.int64)
        key = pd.factorize(key * (int(part.max(initial=0)) + 1) + part)[0].astype(np.int64)
    return key
