"""Deterministic, realistic-looking M1 sample data (and a sample news file).

Built-in sample data lets a user try the whole pipeline without market data.
The bars are synthetic but shaped like the real thing, so that the IB breakout
has something to find: trading hours from the symbol's ``session`` (local time,
so the UTC hours move with daylight saving), weekdays only and no bars on
Dec 25 / Jan 1, a U-shaped intraday volatility with a spike at each cash open,
volatility clustering (a daily log-volatility AR(1) plus slow intraday noise),
fat-tailed minute returns, overnight/weekend gaps at the session open, rare
intraday jumps, a small share of missing minutes and some doji bars. Prices are
whole points and every bar is valid (spec section 1). The ``spread`` column (whole
points, as an MT5 export's ``<SPREAD>`` with the default ``spread_unit``) is the
symbol's fixed spread in quiet hours, wider before the first cash open, in the first
minutes after the session open and each cash open, and around the jumps (news-like
spikes), as a broker's is; it draws on its own random stream, so the prices are
those of generator version 1.

The same (symbol, dates, seed) gives byte-identical Parquet, so the same
checksum in the results' metadata. Bump :data:`GENERATOR_VERSION` whenever the
output changes: it is part of the cached file name.
"""

from __future__ import annotations

import datetime as dt
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.core.atomic import atomic_write
from backtest.core.config import DEFAULTS, REPO_ROOT, period, symbol_spec
from backtest.data.bars import epoch_ns

GENERATOR_VERSION = 2  # 2: a realistic spread column (1: the fixed spread plus noise)

# Cash-market opens (local time of the symbol) that get a volatility spike; a
# symbol's config may override them with "cash_opens".
_CASH_OPENS = {"GER40": ("09:00",), "XAUUSD": ("08:00", "14:30")}
_HOLIDAYS = ((12, 25), (1, 1))  # (month, day): no bars

_MINUTE_SIGMA = 0.00018  # relative std of one minute's move at activity 1.0
_OPEN_GAP_SIGMA = 0.0025  # relative std of the gap at the session open
_MONDAY_GAP_FACTOR = 1.6  # the weekend gap is wider
_JUMP_SHARE = 3e-4  # share of minutes with an intraday jump
_JUMP_SIGMA = 6.0  # jump size in minute sigmas
_MISSING_SHARE = 0.007  # share of minutes without a bar
_DOJI_SHARE = 0.015  # share of bars forced to close == open
_DAY_VOL_PHI = 0.85  # daily log-volatility AR(1) coefficient
_DAY_VOL_SIGMA = 0.2  # ... and its innovation std
_TICKS_PER_MINUTE = 40.0
# The spread, relative to the symbol's fixed spread (its quiet-hours level):
_SPREAD_PRE_CASH = 1.8  # before the first cash open (thin pre-market)
_SPREAD_SESSION_OPEN = 3.0  # extra at the session open, decaying over _SPREAD_DECAY minutes
_SPREAD_CASH_OPEN = 1.5  # extra at each cash open
_SPREAD_DECAY = 4.0
_SPREAD_NEWS = (2.0, 5.0)  # extra around a jump: uniform in this range, then decaying
_SPREAD_TICK = 0.1  # a spread step (the noise's unit), as a share of the fixed spread


def _minute_of_day(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _symbol_raw(symbol: str, cfg: dict[str, Any]) -> dict[str, Any]:
    symbol_spec(symbol, cfg)  # raises ConfigError on an unknown symbol
    return cfg["symbols"][symbol]


def _sessions(raw: dict[str, Any], symbol: str) -> list[tuple[int, int]]:
    out = []
    for start, end in raw["session"]:
        lo, hi = _minute_of_day(start), _minute_of_day(end)
        if not 0 <= lo < hi <= 1440:
            raise ValueError(f"symbol {symbol}: session {start}-{end} must lie within one day")
        out.append((lo, hi))
    return out


_MINUTES = np.arange(1440, dtype=np.float64)  # the local minutes of a day


def _decay(start: int, height: float, minutes: float) -> np.ndarray:
    """A spike of ``height`` at local minute ``start``, decaying over ``minutes`` (per
    minute of the day; 0 before ``start``)."""
    m = _MINUTES
    return np.where(m >= start, height * np.exp(-np.clip(m - start, 0, None) / minutes), 0.0)


def _activity(sessions: list[tuple[int, int]], opens: list[int]) -> np.ndarray:
    """Relative volatility of each local minute of the day (index 0..1439).

    Quiet before the first cash open, a U over the session, and a decaying
    spike at every cash open (the first one strongest).
    """
    m = _MINUTES
    first_open = min(opens)
    level = np.where(m < first_open - 60, 0.45, np.where(m < first_open, 0.7, 1.0))
    u_shape = np.zeros(1440)
    for lo, hi in sessions:
        inside = (m >= lo) & (m < hi)
        u_shape += inside * (0.8 * np.exp(-(m - lo) / 45.0) + 0.4 * np.exp(-(hi - 1 - m) / 60.0))
    spikes = np.zeros(1440)
    for k, o in enumerate(sorted(opens)):
        spikes += _decay(o, 2.2 if k == 0 else 1.5, 20.0)
    return level + u_shape + spikes


def _spread_shape(sessions: list[tuple[int, int]], opens: list[int]) -> np.ndarray:
    """Relative spread of each local minute of the day (1: the fixed spread): wider
    before the first cash open, and wide in the first minutes after the session open
    and after each cash open."""
    shape = np.where(_MINUTES < min(opens), _SPREAD_PRE_CASH, 1.0)
    for lo, _ in sessions:
        shape += _decay(lo, _SPREAD_SESSION_OPEN, _SPREAD_DECAY)
    for o in opens:
        shape += _decay(o, _SPREAD_CASH_OPEN, _SPREAD_DECAY)
    return shape


def _news_widening(jumps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Relative extra spread around each jump (a news-like spike): half of it the minute
    before, all of it at the jump, then decaying over :data:`_SPREAD_DECAY` minutes."""
    impulse = np.zeros(len(jumps))
    impulse[jumps] = rng.uniform(*_SPREAD_NEWS, np.count_nonzero(jumps))
    after = np.exp(-np.arange(9) / _SPREAD_DECAY)
    kernel = np.concatenate(([0.5], after))  # offsets -1, 0, 1, ..., 8 minutes
    return np.convolve(impulse, kernel)[1 : len(jumps) + 1]


def _spread_points(
    quiet: int, shape: np.ndarray, day_vol: np.ndarray, widening: np.ndarray, ticks: np.ndarray
) -> np.ndarray:
    """Each bar's spread in whole points: ``quiet`` (the fixed spread) × the minute's
    shape × a day factor (volatile days are wider) × (1 + news widening), plus
    ``ticks`` steps of :data:`_SPREAD_TICK` of it."""
    quiet = max(quiet, 1)
    tick = max(1, round(quiet * _SPREAD_TICK))
    level = quiet * shape * np.sqrt(day_vol) * (1.0 + widening)
    return np.rint(level).astype(np.int64) + ticks * tick


def _trading_days(start_date: str, end_date: str) -> pd.DatetimeIndex:
    days = pd.bdate_range(start_date, end_date)
    holiday = np.zeros(len(days), dtype=bool)
    for month, day in _HOLIDAYS:
        holiday |= (days.month == month) & (days.day == day)
    return days[~holiday]


def _session_times(
    days: pd.DatetimeIndex, sessions: list[tuple[int, int]], tz: str
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """UTC open times of every session minute, with its day index and local minute.

    Local times that do not exist or are ambiguous (a DST change inside the
    session, impossible on weekdays in Europe) are left out.
    """
    minutes = np.concatenate([np.arange(lo, hi) for lo, hi in sessions])
    day_ns = epoch_ns(days)
    local_ns = (day_ns[:, None] + minutes[None, :] * 60_000_000_000).ravel()
    day_index = np.repeat(np.arange(len(days)), len(minutes))
    minute = np.tile(minutes, len(days))
    local = pd.DatetimeIndex(local_ns.astype("datetime64[ns]"))
    utc = local.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")
    keep = ~utc.isna()
    return utc[keep], day_index[keep], minute[keep]


def _daily_volatility(rng: np.random.Generator, n_days: int) -> np.ndarray:
    """Volatility clustering across days: exp of an AR(1) in log-volatility."""
    shocks = rng.normal(0.0, _DAY_VOL_SIGMA, n_days)
    h = np.empty(n_days)
    level = 0.0
    for i in range(n_days):
        level = _DAY_VOL_PHI * level + shocks[i]
        h[i] = level
    return np.exp(h - h.var() / 2)


def _slow_noise(rng: np.random.Generator, n: int, window: int = 60) -> np.ndarray:
    """Smooth unit-variance noise: intraday volatility clustering."""
    raw = rng.normal(0.0, 1.0, n + window - 1)
    return np.convolve(raw, np.ones(window) / np.sqrt(window), mode="valid")


def generate_bars(
    symbol: str, start_date: str, end_date: str, seed: int, cfg: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Synthetic M1 bars of ``symbol`` for the local dates ``start_date..end_date``.

    Columns: ``time`` (UTC, tz-aware, bar open), ``open``, ``high``, ``low``,
    ``close`` (price units, whole points), ``tick_volume``, ``spread`` (points).
    Deterministic for (symbol, dates, seed, cfg).
    """
    cfg = cfg or DEFAULTS
    spec = symbol_spec(symbol, cfg)
    raw = _symbol_raw(symbol, cfg)
    sessions = _sessions(raw, symbol)
    opens = [_minute_of_day(t) for t in raw.get("cash_opens", _CASH_OPENS.get(symbol, ()))]
    opens = opens or [sessions[0][0]]
    activity_of_minute = _activity(sessions, opens)
    rng = np.random.default_rng([seed, zlib.crc32(symbol.encode())])

    days = _trading_days(start_date, end_date)
    times, day_index, minute = _session_times(days, sessions, spec.timezone)
    n = len(times)
    if n == 0:
        return pd.DataFrame(
            {
                "time": times,
                "open": [],
                "high": [],
                "low": [],
                "close": [],
                "tick_volume": [],
                "spread": [],
            }
        )
    day_vol = _daily_volatility(rng, len(days))[day_index]
    activity = activity_of_minute[minute] * np.exp(0.25 * _slow_noise(rng, n))
    sigma = _MINUTE_SIGMA * day_vol * activity

    move = sigma * rng.standard_t(5, n) / np.sqrt(5.0 / 3.0)
    move[rng.random(n) < _DOJI_SHARE] = 0.0
    gap = np.zeros(n)
    jumps = rng.random(n) < _JUMP_SHARE
    gap[jumps] = rng.normal(0.0, _JUMP_SIGMA, jumps.sum()) * sigma[jumps]
    first = np.flatnonzero(np.diff(day_index, prepend=-1) != 0)
    monday = days.dayofweek.to_numpy()[day_index[first]] == 0
    gap[first] = (
        rng.normal(0.0, _OPEN_GAP_SIGMA, len(first))
        * day_vol[first]
        * np.where(monday, _MONDAY_GAP_FACTOR, 1.0)
    )
    gap[0] = 0.0

    log_close = np.log(float(raw["base_price"])) + np.cumsum(gap + move)
    close = np.rint(np.exp(log_close) / spec.point).astype(np.int64)
    open_ = np.rint(np.exp(log_close - move) / spec.point).astype(np.int64)
    continuous = gap == 0.0
    continuous[0] = False
    open_[1:][continuous[1:]] = close[:-1][continuous[1:]]
    doji = move == 0.0
    close[doji] = open_[doji]

    sigma_points = sigma * np.exp(log_close) / spec.point
    high = np.maximum(open_, close) + np.floor(sigma_points * rng.exponential(0.5, n)).astype(
        np.int64
    )
    low = np.minimum(open_, close) - np.floor(sigma_points * rng.exponential(0.5, n)).astype(
        np.int64
    )
    low = np.maximum(low, 1)

    tick_volume = np.maximum(
        1, np.rint(_TICKS_PER_MINUTE * activity * day_vol * rng.lognormal(0.0, 0.4, n))
    ).astype(np.int64)
    ticks = rng.geometric(0.5, n) - 1  # drawn where version 1 drew its spread noise
    spread_rng = np.random.default_rng([seed, zlib.crc32(symbol.encode()), zlib.crc32(b"spread")])
    spread = _spread_points(
        spec.spread_points,
        _spread_shape(sessions, opens)[minute],
        day_vol,
        _news_widening(jumps, spread_rng),
        ticks,
    )

    keep = rng.random(n) >= _MISSING_SHARE

    def price(points: np.ndarray) -> np.ndarray:
        return np.round(points[keep] * spec.point, spec.digits)

    return pd.DataFrame(
        {
            "time": times[keep],
            "open": price(open_),
            "high": price(high),
            "low": price(low),
            "close": price(close),
            "tick_volume": tick_volume[keep],
            "spread": spread[keep],
        }
    )


def _sample_dir(cfg: dict[str, Any]) -> Path:
    path = Path(cfg["run"]["sample_dir"])
    return path if path.is_absolute() else REPO_ROOT / path


def sample_path(
    symbol: str, start_date: str, end_date: str, seed: int, cfg: dict[str, Any] | None = None
) -> Path:
    """Where the sample bars of these dates and seed are cached."""
    cfg = cfg or DEFAULTS
    name = f"{symbol}_M1_{start_date}_{end_date}_seed{seed}_v{GENERATOR_VERSION}.parquet"
    return _sample_dir(cfg) / name


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Bars frame to Parquet, atomically; same frame, same bytes."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    atomic_write(Path(path), lambda tmp: pq.write_table(table, tmp))


def ensure_sample(
    symbol: str, period_name: str, cfg: dict[str, Any] | None = None, seed: int | None = None
) -> Path:
    """The sample bars of ``symbol`` for a configured period, generated on first use."""
    cfg = cfg or DEFAULTS
    span = period(period_name, cfg)
    seed = int(cfg["run"]["sample_seed"] if seed is None else seed)
    path = sample_path(symbol, span.start_date, span.end_date, seed, cfg)
    if not path.exists():
        write_parquet(generate_bars(symbol, span.start_date, span.end_date, seed, cfg), path)
    return path


# --- news ------------------------------------------------------------------

_NY, _BERLIN = "America/New_York", "Europe/Berlin"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th (1-based) given weekday of a month."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _business_day(day: dt.date) -> dt.date:
    """``day`` moved forward to Monday when it falls on a weekend."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _month_events(year: int, month: int, rng: np.random.Generator) -> list[tuple]:
    """(local date, local time, tz, currency, impact, title) of one month."""

    def jitter(day: int, spread: int = 2) -> dt.date:
        return _business_day(dt.date(year, month, day + int(rng.integers(-spread, spread + 1))))

    events = [
        (_nth_weekday(year, month, 4, 1), "08:30", _NY, "USD", "high", "Non-Farm Payrolls"),
        (jitter(12), "08:30", _NY, "USD", "high", "CPI m/m"),
        (jitter(15), "08:30", _NY, "USD", "medium", "Retail Sales m/m"),
        (jitter(23), "10:00", _BERLIN, "EUR", "medium", "German Flash Manufacturing PMI"),
        (
            _nth_weekday(year, month, 1, 3),
            "11:00",
            _BERLIN,
            "EUR",
            "medium",
            "German ZEW Economic Sentiment",
        ),
        (jitter(3, 1), "11:00", _BERLIN, "EUR", "medium", "CPI Flash Estimate y/y"),
    ]
    if month in (1, 3, 5, 6, 7, 9, 11, 12):
        events.append(
            (_nth_weekday(year, month, 2, 3), "14:00", _NY, "USD", "high", "FOMC Statement")
        )
    if month in (1, 3, 4, 6, 7, 9, 10, 12):
        events.append(
            (
                _nth_weekday(year, month, 3, 2),
                "14:15",
                _BERLIN,
                "EUR",
                "high",
                "ECB Main Refinancing Rate",
            )
        )
    thursday = _nth_weekday(year, month, 3, 1)
    while thursday.month == month:
        events.append((thursday, "08:30", _NY, "USD", "low", "Unemployment Claims"))
        thursday += dt.timedelta(days=7)
    return events


def generate_news(start_date: str, end_date: str, seed: int) -> pd.DataFrame:
    """Plausible economic-calendar events ``start_date..end_date`` (UTC dates).

    Columns ``time`` (UTC, tz-aware), ``currency``, ``impact`` (high/medium/low),
    ``title``; sorted by time. Release times are local (08:30 New York, 14:15
    Frankfurt, ...), so their UTC time follows each place's daylight saving.
    """
    rng = np.random.default_rng([seed, zlib.crc32(b"news")])
    first, last = dt.date.fromisoformat(start_date), dt.date.fromisoformat(end_date)
    rows = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        for day, clock, tz, currency, impact, title in _month_events(year, month, rng):
            local = pd.Timestamp(f"{day.isoformat()} {clock}").tz_localize(tz)
            rows.append((local.tz_convert("UTC"), currency, impact, title))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    frame = pd.DataFrame(rows, columns=["time", "currency", "impact", "title"])
    dates = frame["time"].dt.date
    frame = frame[(dates >= first) & (dates <= last)]
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def write_news_csv(frame: pd.DataFrame, path: Path) -> None:
    """News frame to CSV (ISO 8601 times with offset), atomically."""
    out = frame.assign(time=frame["time"].map(lambda t: t.isoformat()))
    atomic_write(Path(path), lambda tmp: out.to_csv(tmp, index=False))


def news_sample_path(
    start_date: str, end_date: str, seed: int, cfg: dict[str, Any] | None = None
) -> Path:
    return _sample_dir(cfg or DEFAULTS) / (
        f"news_{start_date}_{end_date}_seed{seed}_v{GENERATOR_VERSION}.csv"
    )


def ensure_sample_news(
    period_name: str, cfg: dict[str, Any] | None = None, seed: int | None = None
) -> Path:
    """The sample news CSV of a configured period, generated on first use."""
    cfg = cfg or DEFAULTS
    span = period(period_name, cfg)
    seed = int(cfg["run"]["sample_seed"] if seed is None else seed)
    path = news_sample_path(span.start_date, span.end_date, seed, cfg)
    if not path.exists():
        write_news_csv(generate_news(span.start_date, span.end_date, seed), path)
    return path
