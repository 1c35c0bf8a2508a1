"""A prop-firm challenge on an account's daily results: the rules, a replay from every
start day, a stationary bootstrap, the block length chosen from the data.

Pure functions on numpy arrays (no I/O): :mod:`backtest.analysis.account` builds the
account's days from the runs and writes the outputs. Money is the account's currency.

**Days.** An account's history is a sequence of trading days (:class:`Days`), each with its
closed P&L (``net``), the lowest closed-trade balance of the day relative to its start
(``closed_low`` <= 0) and, when the trades carry their adverse excursion, the lowest
equity relative to the start (``equity_low`` <= 0; None: *closed-trade balance only*, which
every output says). The rules use the equity low when there is one, else the closed low.

**The rules of one phase** (:class:`Rules`, from a :class:`backtest.core.programs.Program`),
day by day from a fresh account of ``account_size`` (A); B = the balance at the day's start:

- daily loss: ``-low / base × 100 > daily_loss_pct`` breaches, base = B
  (``day_start_balance``) or A (``initial_balance``);
- overall loss (static): ``(A - (B + low)) / A × 100 > overall_loss_pct`` breaches;
- a profitable day: ``net / A × 100 >= profitable_day_pct``;
- the phase passes at the end of the first day on which ``(B + net - A) / A × 100 >=
  profit_target_pct`` and the phase has had at least ``min_profitable_days`` profitable
  days; the next phase starts on the next trading day, again at A;
- a phase that has lasted ``time_limit_days`` trading days without passing fails.

A loss of exactly a limit is inside and a balance exactly on the target passes: every
comparison allows :data:`backtest.strategy.risk_manager.LIMIT_TOLERANCE_PCT` (1e-9
percentage points), as the prop view does. A breach is checked before the day's
profitable-day and target tests: a day that touches a limit ends the account even if it
closes above the target. A target reached inside a day and lost by its close does not
count (only closed days are known here).

**Replay** (:func:`replay`): a challenge started on every day of the history, run until it
passes every phase, breaches, hits the time limit or runs out of days (unfinished).
Overlapping starts: the shares are descriptive, not independent trials.

**Simulation** (:func:`simulate`): the stationary bootstrap of Politis & Romano ("The
Stationary Bootstrap", J. Amer. Statist. Assoc. 89(428), 1994, 1303-1313, section 2): the
first day of a path is uniform on the history; each next day is, with probability
``1 - p``, the day after the previous one (wrapping from the last day to the first), and
with probability ``p`` a new uniform day, so blocks have geometric lengths with mean
``1/p``. A day is drawn whole, all symbols together, so their correlation is kept. The
mean block length ``1/p`` comes from the data (:func:`optimal_block_length`). Paths are
``horizon`` days long (default: the history's length); a path that has not finished by
then is unfinished. Seeded (``numpy.random.default_rng(seed)``, paths drawn in chunks of
:data:`CHUNK`): the same seed gives the same numbers; every risk level walks the same paths
(common random numbers), so the levels differ by their risk only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from backtest.core.programs import Program
from backtest.strategy.risk_manager import LIMIT_TOLERANCE_PCT

# Outcome of one challenge (a path or a replay start).
PASSED = 0
BREACH_DAILY = 1  # bit: the daily loss limit
BREACH_OVERALL = 2  # bit: the overall loss limit (3 = both on the same day)
TIME_LIMIT = 4
UNFINISHED = 5
OUTCOME_NAMES = {
    PASSED: "passed",
    BREACH_DAILY: "breach: daily loss",
    BREACH_OVERALL: "breach: overall loss",
    BREACH_DAILY | BREACH_OVERALL: "breach: daily and overall loss",
    TIME_LIMIT: "failed: time limit",
    UNFINISHED: "unfinished",
}
CHUNK = 2048  # bootstrap paths drawn and walked at a time (part of the seeded sequence)
CLOSED_ONLY = (
    "closed-trade balance only: these trades carry no intraday excursion (compact trades "
    "written before the runs recorded it), so the equity-based daily loss is not known; "
    "re-run with --save-daily for it"
)


@dataclass(frozen=True)
class Days:
    """An account's trading days in calendar order (money, the account's currency)."""

    net: np.ndarray  # float64: the day's closed P&L
    closed_low: np.ndarray  # float64 <= 0: lowest closed balance of the day minus its start
    equity_low: np.ndarray | None = None  # float64 <= 0, or None: closed-trade balance only
    trades: np.ndarray | None = None  # int64 trades per day (for the outputs)

    def __len__(self) -> int:
        return len(self.net)

    @property
    def has_equity(self) -> bool:
        return self.equity_low is not None

    def low(self) -> np.ndarray:
        """The low the rules use: equity when known, else closed."""
        return self.closed_low if self.equity_low is None else self.equity_low

    def scaled(self, factor: float) -> Days:
        """The same days at ``factor`` times the money (another risk per trade)."""
        return Days(
            self.net * factor,
            self.closed_low * factor,
            None if self.equity_low is None else self.equity_low * factor,
            self.trades,
        )


def symbol_days(
    trade_day: np.ndarray,
    trade_pnl: np.ndarray,
    calendar: np.ndarray,
    trade_adverse: np.ndarray | None = None,
) -> Days:
    """One symbol's :class:`Days` over ``calendar`` (sorted day numbers) from its trades in
    exit order (one position at a time: entry order is exit order): ``trade_day`` (the
    day number of each trade), ``trade_pnl`` (money).

    ``closed_low`` of a day = min(0, the running sum of its trades' P&L after each trade);
    with ``trade_adverse`` (each trade's worst open P&L in money, <= 0: its maximum adverse
    excursion valued with its lots and costs) ``equity_low`` = min(closed_low, min over the
    day's trades of (closed P&L before the trade + its adverse excursion)). Trades on days
    outside the calendar are an error (the caller aligns first)."""
    day = np.asarray(trade_day, dtype=np.int64)
    pnl = np.asarray(trade_pnl, dtype=np.float64)
    cal = np.asarray(calendar, dtype=np.int64)
    if day.shape != pnl.shape or day.ndim != 1:
        raise ValueError("trade_day and trade_pnl must be 1-D and of one length")
    if len(day) and (np.diff(day) < 0).any():
        raise ValueError("trades must be in day order")
    row = np.searchsorted(cal, day)
    if len(day) and ((row >= len(cal)) | (cal[np.minimum(row, len(cal) - 1)] != day)).any():
        raise ValueError("a trade's day is not in the calendar")
    net, closed, trades = np.zeros(len(cal)), np.zeros(len(cal)), np.zeros(len(cal), np.int64)
    equity = np.zeros(len(cal))
    adverse = pnl
    if trade_adverse is not None:
        adverse = np.asarray(trade_adverse, dtype=np.float64)
        if adverse.shape != pnl.shape or (adverse > 0).any() or not np.isfinite(adverse).all():
            raise ValueError("trade_adverse: one value <= 0 per trade, finite")
    _fold_days(row, pnl, adverse, trade_adverse is not None, net, closed, equity, trades)
    return Days(net, closed, None if trade_adverse is None else equity, trades)


@njit(cache=True)
def _fold_days(row, pnl, adverse, has_adverse, net, closed, equity, trades):
    """Per trade in order: the day's running P&L, its closed low and its equity low."""
    for i in range(len(row)):
        d = row[i]
        before = net[d]
        if has_adverse:
            equity[d] = min(equity[d], before + adverse[i], before + pnl[i])
        net[d] = before + pnl[i]
        closed[d] = min(closed[d], net[d])
        trades[d] += 1


def combine(days: list[Days], factors: list[float] | np.ndarray) -> Days:
    """The account's days: the symbols' days (one calendar) times their money factors,
    summed. The day's low is the sum of the symbols' lows: the worst case, as if each
    symbol's lowest point came at the same moment (the order of exits across symbols is
    not in the compact trades); exact for a day on which one symbol trades. The equity low
    is known only when every symbol has one."""
    if not days:
        raise ValueError("no symbol")
    f = np.asarray(factors, dtype=np.float64)
    if len(f) != len(days) or len({len(d) for d in days}) != 1:
        raise ValueError("one factor per symbol, all on one calendar")
    net = sum((d.net * x for d, x in zip(days, f)), np.zeros(len(days[0])))
    closed = sum((d.closed_low * x for d, x in zip(days, f)), np.zeros(len(days[0])))
    equity = None
    if all(d.equity_low is not None for d in days):
        equity = sum(
            (d.equity_low * x for d, x in zip(days, f) if d.equity_low is not None),
            np.zeros(len(days[0])),
        )
    trades = sum((d.trades for d in days if d.trades is not None), np.zeros(len(days[0]), np.int64))
    return Days(net, closed, equity, trades)


@dataclass(frozen=True)
class Rules:
    """The numbers the walk needs (see the module doc); :meth:`of` a program."""

    account_size: float
    targets_pct: tuple[float, ...]
    daily_loss_pct: float | None
    daily_base_initial: bool
    overall_loss_pct: float
    min_profitable_days: int
    profitable_day_pct: float
    time_limit_days: int | None = None
    phase_names: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, program: Program) -> Rules:
        return cls(
            account_size=program.account_size,
            targets_pct=tuple(p.profit_target_pct for p in program.phases),
            daily_loss_pct=program.daily_loss_pct,
            daily_base_initial=program.daily_loss_base == "initial_balance",
            overall_loss_pct=program.overall_loss_pct,
            min_profitable_days=program.min_profitable_days,
            profitable_day_pct=program.profitable_day_pct,
            time_limit_days=program.time_limit_days,
            phase_names=tuple(p.name for p in program.phases),
        )

    def args(self) -> tuple[Any, ...]:
        """The walk kernel's rule arguments."""
        return (
            float(self.account_size),
            np.asarray(self.targets_pct, dtype=np.float64),
            -1.0 if self.daily_loss_pct is None else float(self.daily_loss_pct),
            bool(self.daily_base_initial),
            float(self.overall_loss_pct),
            float(self.profitable_day_pct),
            int(self.min_profitable_days),
            -1 if self.time_limit_days is None else int(self.time_limit_days),
            float(LIMIT_TOLERANCE_PCT),
        )

    def names(self) -> tuple[str, ...]:
        return self.phase_names or tuple(f"Phase {i + 1}" for i in range(len(self.targets_pct)))


@njit(cache=True)
def _walk(
    net,
    low,
    order,
    start,
    stop,
    account,
    targets,
    daily_pct,
    base_initial,
    overall_pct,
    pday_pct,
    min_pdays,
    time_limit,
    tol,
    phase_days,
):
    """One challenge on days ``order[start:stop]``: (outcome, phases passed, the position
    of its last day); ``phase_days[k]`` = the trading days spent in phase k (0 for phases
    not reached)."""
    n_phases = len(targets)
    for k in range(n_phases):
        phase_days[k] = 0
    pos = start
    for k in range(n_phases):
        balance = account
        profitable = 0
        days = 0
        while True:
            if time_limit > 0 and days >= time_limit:
                return TIME_LIMIT, k, pos - 1
            if pos >= stop:
                return UNFINISHED, k, pos - 1
            d = order[pos]
            pos += 1
            days += 1
            phase_days[k] = days
            lowest = balance + low[d]
            breach = 0
            if daily_pct >= 0.0:
                base = account if base_initial else balance
                if base <= 0.0 or -low[d] * 100.0 / base > daily_pct + tol:
                    breach |= BREACH_DAILY
            if (account - lowest) * 100.0 / account > overall_pct + tol:
                breach |= BREACH_OVERALL
            if breach:
                return breach, k, pos - 1
            balance += net[d]
            if net[d] * 100.0 / account >= pday_pct - tol:
                profitable += 1
            if (balance - account) * 100.0 / account >= targets[k] - tol and (
                profitable >= min_pdays
            ):
                break
    return PASSED, n_phases, pos - 1


@njit(cache=True)
def _replay_nb(
    nets,
    lows,
    account,
    targets,
    daily_pct,
    base_initial,
    overall_pct,
    pday_pct,
    min_pdays,
    time_limit,
    tol,
    outcome,
    passed,
    last,
    phase_days,
):
    """Every start day of the history, for every level (row) of ``nets``/``lows``."""
    n_levels, n_days = nets.shape
    order = np.arange(n_days)
    for k in range(n_levels):
        for s in range(n_days):
            o, p, e = _walk(
                nets[k],
                lows[k],
                order,
                s,
                n_days,
                account,
                targets,
                daily_pct,
                base_initial,
                overall_pct,
                pday_pct,
                min_pdays,
                time_limit,
                tol,
                phase_days[k, s],
            )
            outcome[k, s] = o
            passed[k, s] = p
            last[k, s] = e


@njit(cache=True)
def _simulate_nb(
    nets,
    lows,
    orders,
    account,
    targets,
    daily_pct,
    base_initial,
    overall_pct,
    pday_pct,
    min_pdays,
    time_limit,
    tol,
    at,
    outcome,
    passed,
    phase_days,
):
    """Every path (row of ``orders``) for every level; results into rows ``at + i``."""
    n_levels = nets.shape[0]
    n_paths, length = orders.shape
    for k in range(n_levels):
        for i in range(n_paths):
            o, p, _ = _walk(
                nets[k],
                lows[k],
                orders[i],
                0,
                length,
                account,
                targets,
                daily_pct,
                base_initial,
                overall_pct,
                pday_pct,
                min_pdays,
                time_limit,
                tol,
                phase_days[k, at + i],
            )
            outcome[k, at + i] = o
            passed[k, at + i] = p


@dataclass(frozen=True)
class Outcomes:
    """Challenges at several levels (rows): outcome, phases passed, days in each phase;
    for a replay also the position of each challenge's last day."""

    outcome: np.ndarray  # int8 (levels, n)
    passed: np.ndarray  # int8 (levels, n): phases passed
    phase_days: np.ndarray  # int32 (levels, n, phases)
    last: np.ndarray | None = None  # int32 (levels, n): replay only


def _stack(days_at_levels: list[Days]) -> tuple[np.ndarray, np.ndarray]:
    nets = np.ascontiguousarray(np.stack([d.net for d in days_at_levels]), dtype=np.float64)
    lows = np.ascontiguousarray(np.stack([d.low() for d in days_at_levels]), dtype=np.float64)
    return nets, lows


def replay(days_at_levels: list[Days], rules: Rules) -> Outcomes:
    """A challenge started on every day of the history (module doc), per level."""
    nets, lows = _stack(days_at_levels)
    n_levels, n_days = nets.shape
    phases = len(rules.targets_pct)
    outcome = np.zeros((n_levels, n_days), np.int8)
    passed = np.zeros((n_levels, n_days), np.int8)
    last = np.zeros((n_levels, n_days), np.int32)
    phase_days = np.zeros((n_levels, n_days, phases), np.int32)
    if n_days:
        _replay_nb(nets, lows, *rules.args(), outcome, passed, last, phase_days)
    return Outcomes(outcome, passed, phase_days, last)


def stationary_indices(
    rng: np.random.Generator, n: int, paths: int, length: int, mean_block: float
) -> np.ndarray:
    """``paths`` × ``length`` day indices of the stationary bootstrap (Politis & Romano
    1994, section 2) over ``n`` days with mean block length ``mean_block`` (p = 1 /
    mean_block): the first index uniform; then with probability p a new uniform index
    (a block starts), else the previous index + 1, circularly (n - 1 is followed by 0).
    Draws, in this order: the uniform candidates (``integers``, paths × length), then the
    block starts (``random``, paths × length)."""
    if n < 1 or paths < 0 or length < 1 or not mean_block >= 1.0:
        raise ValueError(
            f"need n >= 1, length >= 1, mean_block >= 1; got {n}, {length}, {mean_block}"
        )
    fresh = rng.integers(0, n, size=(paths, length), dtype=np.int64)
    starts = rng.random((paths, length)) < 1.0 / mean_block
    starts[:, 0] = True
    position = np.arange(length, dtype=np.int64)
    last = np.maximum.accumulate(np.where(starts, position, 0), axis=1)
    first = np.take_along_axis(fresh, last, axis=1)
    return ((first + (position - last)) % n).astype(np.int32)


def simulate(
    days_at_levels: list[Days],
    rules: Rules,
    n_paths: int = 10_000,
    seed: int = 0,
    mean_block: float = 1.0,
    horizon: int | None = None,
) -> Outcomes:
    """``n_paths`` bootstrap challenges per level (module doc); every level walks the same
    paths. ``horizon``: days per path (default: the history's length)."""
    nets, lows = _stack(days_at_levels)
    n_levels, n_days = nets.shape
    if n_days == 0:
        raise ValueError("no trading day to resample")
    if n_paths < 1:
        raise ValueError(f"n_paths must be >= 1; got {n_paths}")
    length = int(horizon or n_days)
    phases = len(rules.targets_pct)
    outcome = np.zeros((n_levels, n_paths), np.int8)
    passed = np.zeros((n_levels, n_paths), np.int8)
    phase_days = np.zeros((n_levels, n_paths, phases), np.int32)
    rng = np.random.default_rng(seed)
    for at in range(0, n_paths, CHUNK):
        size = min(CHUNK, n_paths - at)
        orders = stationary_indices(rng, n_days, size, length, mean_block)
        _simulate_nb(nets, lows, orders, *rules.args(), at, outcome, passed, phase_days)
    return Outcomes(outcome, passed, phase_days)


def _quantile(values: np.ndarray, q: float) -> int | None:
    """The smallest value v with at least a share q of ``values`` <= v (numpy's
    ``inverted_cdf``); None without values."""
    if len(values) == 0:
        return None
    return int(np.quantile(values, q, method="inverted_cdf"))


def summary(outcomes: Outcomes, level: int, rules: Rules) -> dict[str, Any]:
    """Shares and days to pass at one level, in total and per phase (JSON-ready).
    ``days_to_pass`` counts the trading days from the first day to the day the last phase
    passed, both included; quantiles are over the challenges that passed."""
    o, p, days = outcomes.outcome[level], outcomes.passed[level], outcomes.phase_days[level]
    n = len(o)
    total = days.sum(axis=1)
    won = o == PASSED
    breach = (o >= BREACH_DAILY) & (o <= (BREACH_DAILY | BREACH_OVERALL))
    phases = []
    for k, name in enumerate(rules.names()):
        reached = p >= k
        ok = p > k
        spent = days[ok, k]
        phases.append(
            {
                "phase": name,
                "target_pct": rules.targets_pct[k],
                "reached": int(reached.sum()),
                "passed": int(ok.sum()),
                "p_pass": float(ok.mean()) if n else 0.0,
                "p_pass_if_reached": float(ok.sum() / reached.sum()) if reached.any() else None,
                "median_days": _quantile(spent, 0.5),
                "p90_days": _quantile(spent, 0.9),
            }
        )
    counts = {name: int((o == code).sum()) for code, name in OUTCOME_NAMES.items()}

    def share(mask: np.ndarray) -> float:
        return float(mask.mean()) if n else 0.0

    return {
        "n": n,
        "p_pass": share(won),
        "p_breach": share(breach),
        "p_breach_daily": share((o & BREACH_DAILY).astype(bool) & breach),
        "p_breach_overall": share((o & BREACH_OVERALL).astype(bool) & breach),
        "p_time_limit": share(o == TIME_LIMIT),
        "p_unfinished": share(o == UNFINISHED),
        "se_p_pass": _se(share(won), n),
        "se_p_breach": _se(share(breach), n),
        "counts": counts,
        "median_days_to_pass": _quantile(total[won], 0.5),
        "p90_days_to_pass": _quantile(total[won], 0.9),
        "phases": phases,
    }


def _se(p: float, n: int) -> float:
    """Standard error of a share of n independent draws (binomial)."""
    return math.sqrt(p * (1.0 - p) / n) if n else 0.0


def pass_curve(outcomes: Outcomes, level: int, days: int) -> list[float]:
    """The share of all challenges passed within d trading days, d = 1..``days``."""
    o, phase_days = outcomes.outcome[level], outcomes.phase_days[level]
    total = phase_days.sum(axis=1)[o == PASSED]
    counts = np.bincount(np.minimum(total, days + 1), minlength=days + 2)[1 : days + 1]
    return (np.cumsum(counts) / max(len(o), 1)).tolist()


# --- the block length ------------------------------------------------------------------


def flat_top(t: float) -> float:
    """The trapezoidal flat-top lag window of Politis & Romano (1995), used by Politis &
    White (2004), eq. (6) context: 1 for |t| <= 1/2, 2(1 - |t|) for 1/2 <= |t| <= 1, else 0."""
    a = abs(t)
    return 1.0 if a <= 0.5 else (2.0 * (1.0 - a) if a <= 1.0 else 0.0)


def block_from_autocovariances(acv: np.ndarray, m: int, n: int) -> float:
    """The stationary-bootstrap block length of Politis & White (2004) for lag window
    ``M = m`` and autocovariances ``acv[k] = R̂(k)``, k = 0..m, of a series of length n:

    ``b_SB = (2 Ĝ² / D̂_SB)^(1/3) n^(1/3)`` with ``Ĝ = Σ_{k=-M..M} λ(k/M) |k| R̂(k)`` and
    ``D̂_SB = 2 ĝ(0)²``, ``ĝ(0) = Σ_{k=-M..M} λ(k/M) R̂(k)``: Politis & White, "Automatic
    Block-Length Selection for the Dependent Bootstrap", Econometric Reviews 23(1), 2004,
    53-70, eqs. (8)-(9) and section 3.2, with D_SB as corrected by Patton, Politis & White,
    Econometric Reviews 28(4), 2009, 372-375 (the 2004 paper's D_SB was wrong by a factor).
    """
    g = 0.0
    long_run = float(acv[0])
    for k in range(1, m + 1):
        weight = flat_top(k / m)
        g += 2.0 * weight * k * float(acv[k])
        long_run += 2.0 * weight * float(acv[k])
    d_sb = 2.0 * long_run**2
    if d_sb <= 0.0:
        return 1.0
    return (2.0 * g**2 / d_sb) ** (1.0 / 3.0) * n ** (1.0 / 3.0)


def optimal_block_length(x: np.ndarray) -> float:
    """The mean block length of the stationary bootstrap chosen from the data (Politis &
    White 2004 with the Patton, Politis & White 2009 correction:
    :func:`block_from_autocovariances`).

    The lag window M follows Politis & White section 3.2 (after Politis 2003) as in
    Patton's published code: R̂(k) = n⁻¹ Σ (x_i - x̄)(x_{i+k} - x̄), ρ̂(k) = R̂(k)/R̂(0);
    m̂ = the first lag that starts K_N consecutive lags with |ρ̂| < c √(log10(n)/n),
    c = 2, K_N = max(5, ⌈√log10 n⌉); M = 2 m̂ (at least 2), at most m_max = ⌈√n⌉ + K_N
    (m_max itself when no such run is found); b at most ⌈min(3√n, n/3)⌉ and at least 1
    (a series without dependence, or constant: 1, the iid bootstrap).

    Differential test against the ``arch`` package's ``optimal_block_length``
    (``tests/analysis/test_challenge_block_length.py``), which follows the same code."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if x.ndim != 1 or n < 2 or not np.isfinite(x).all():
        raise ValueError("a 1-D finite series of at least 2 values")
    eps = x - x.mean()
    acv0 = float(eps @ eps) / n
    if acv0 <= 0.0:
        return 1.0
    k_n = max(5, math.ceil(math.sqrt(math.log10(n))))
    m_max = math.ceil(math.sqrt(n)) + k_n
    band = 2.0 * math.sqrt(math.log10(n) / n)
    lags = min(m_max, n - 1)
    acv = np.array([float(eps[k:] @ eps[: n - k]) / n for k in range(lags + 1)])
    small = np.abs(acv / acv0) < band
    m_hat = None
    for start in range(1, lags - k_n + 2):
        if small[start : start + k_n].all():
            m_hat = start
            break
    m = m_max if m_hat is None else min(2 * max(m_hat, 1), m_max)
    m = min(m, lags)
    b_max = math.ceil(min(3.0 * math.sqrt(n), n / 3.0))
    return float(min(max(block_from_autocovariances(acv, m, n), 1.0), b_max))
