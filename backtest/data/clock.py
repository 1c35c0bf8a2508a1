"""Is the clock right? The cash open, measured from the bars (issue 25 item 1).

A wrong broker clock (``--server-tz``) moves every bar by whole hours and nothing else
notices: the IB window then covers other hours and every result changes. But an
exchange-traded index shows its clock itself: volatility jumps at the cash open
(GER40: 09:00 Europe/Berlin; XAUUSD: the London 08:00 and New York 14:30 opens, London
time). The symbol's ``cash_opens`` (config; the built-in symbols have them) say where the
jumps belong, in the session time zone.

The measure, on the loaded bars (in the session time zone, after the conversion):

1. Each day with at least :data:`MIN_DAY_BARS` bars; a bar's range ``high - low``
   divided by the day's median range.
2. At each local minute ``m`` of a day, the jump: the mean range of the :data:`AFTER`
   minutes from ``m`` on less that of the :data:`BEFORE` minutes before ``m`` (each
   mean needs most of its bars).
3. The day's shift: the minutes ``s`` (-12 h .. +12 h) for which the jumps at the
   expected opens moved by ``s`` add up highest (one open: where the day's jump is
   largest, less the open).
4. The measured shift: the median of the days' shifts within :data:`AGREE` minutes of
   the most common one (the usual median over days, but a day whose largest jump was
   a news release or another market's open does not pull it). It is *measured* when at
   least :data:`MIN_SHARE` of the days agree and the median jump there is at least
   :data:`MIN_STRENGTH` median ranges; else the data shows no clear open (random-walk
   data, a file of a few hours a day).

A measured open :data:`WRONG` minutes or more away from where it belongs (an hour,
less the measure's noise of a few minutes) is a wrong clock. The clock that puts it
right is found by trying the usual ones on the same days (``broker:NY+H``, the fixed
``Etc/GMT-K``, a few European zones, each day with its own daylight saving): the one
under which most days agree, the ``broker:NY+H`` presets first on a tie.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtest.core.config import DEFAULTS, ConfigError
from backtest.data.bars import Bars, epoch_ns
from backtest.data.files import DataError, Log, say
from backtest.data.sample import _CASH_OPENS
from backtest.data.server_tz import NEW_YORK, broker_offset_hours, server_to_utc

BEFORE = 30  # minutes before a candidate open whose mean range it is compared with
AFTER = 10  # minutes from the candidate open on
MIN_BEFORE = 20  # bars needed in the BEFORE minutes
MIN_AFTER = 5  # ... and in the AFTER minutes
MIN_DAY_BARS = 240  # a day with fewer bars (a half day, a hand-made file) is not measured
MIN_DAYS = 10  # fewer measured days: the clock is not checked
AGREE = 30  # minutes: a day whose shift is within this of another agrees with it
WRONG = 45  # minutes: a measured open this far from where it belongs is a wrong clock
MIN_SHARE = 1 / 3  # share of the days that must agree for a measured open
MIN_STRENGTH = 0.5  # median jump at the measured open, in median bar ranges
SHIFTS = np.arange(-720, 721)  # the shifts tried, in minutes
CHUNK_DAYS = 500  # days measured at a time (the temporaries stay small)
MINUTE_NS = 60_000_000_000
DAY_MINUTES = 1440
# Clocks tried for the one that puts the open right, in order of preference on a tie:
# the broker presets (UTC-12..UTC+14 in winter), fixed offsets, a few zones with the
# European daylight-saving dates.
CANDIDATES = (
    tuple(f"broker:NY{h:+d}" if h else "broker:NY" for h in range(-7, 20))
    + ("UTC",)
    + tuple(f"Etc/GMT{-k:+d}" for k in range(-12, 15) if k)
    + ("Europe/London", "Europe/Berlin", "Europe/Athens")
)


def _minute_of(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def hhmm(minute: float) -> str:
    """A local minute of the day (any number, taken modulo a day) as HH:MM."""
    m = int(round(minute)) % DAY_MINUTES
    return f"{m // 60:02d}:{m % 60:02d}"


def expected_opens(symbol: str, cfg: dict[str, Any] | None = None) -> tuple[int, ...]:
    """The local minutes of ``symbol``'s cash opens: its ``cash_opens`` in ``cfg``, else
    a built-in symbol's (those of the sample-data generator), as long as its time zone is
    the built-in one; empty: the symbol's clock cannot be checked."""
    cfg = cfg or DEFAULTS
    raw = cfg["symbols"].get(symbol, {})
    opens = raw.get("cash_opens")
    if opens is None:
        built_in = DEFAULTS["symbols"].get(symbol, {})
        same_zone = raw.get("timezone") == built_in.get("timezone")
        opens = _CASH_OPENS.get(symbol, ()) if same_zone else ()
    return tuple(sorted(_minute_of(str(t)) for t in opens))


def describe_clock(clock: str) -> str:
    """A clock as a reader needs it: Etc/GMT+2 says that it is UTC-2 (POSIX sign)."""
    match = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", clock)
    if not match:
        return clock
    sign = "-" if match.group(1) == "+" else "+"
    return f"{clock} (UTC{sign}{int(match.group(2))}: POSIX inverts the sign)"


def server_wall(utc_ns: np.ndarray, clock: str) -> np.ndarray:
    """UTC ns to the wall-clock time of ``clock`` (naive ns): the inverse of
    :func:`backtest.data.server_tz.server_to_utc`; ``UTC`` is the identity."""
    if clock == "UTC":
        return utc_ns
    hours = broker_offset_hours(clock)
    zone = NEW_YORK if hours is not None else clock
    index = pd.DatetimeIndex(utc_ns.astype("datetime64[ns]"), tz="UTC").tz_convert(zone)
    wall = epoch_ns(index.tz_localize(None))
    return wall + np.int64((hours or 0) * 60 * MINUTE_NS)


def _day_matrix(day: np.ndarray, minute: np.ndarray, ranges: np.ndarray) -> tuple:
    """(day numbers, ranges) of the bars of whole days (``day`` sorted): each measured
    day's bar ranges by local minute (days × 1440, float32, NaN where no bar), divided by
    the day's median range."""
    days, first, counts = np.unique(day, return_index=True, return_counts=True)
    enough = counts >= MIN_DAY_BARS
    row = np.repeat(np.cumsum(enough) - 1, counts)
    mine = np.repeat(enough, counts)
    full = np.full((int(enough.sum()), DAY_MINUTES), np.nan, dtype=np.float32)
    full[row[mine], minute[mine].astype(np.int64)] = ranges[mine]
    # the rows' medians (np.nanmedian is a Python loop over rows): NaN sorts last
    ordered = np.sort(full, axis=1)
    n = np.count_nonzero(~np.isnan(full), axis=1)[:, None]  # not counts: DST's repeated hour
    median = (
        np.take_along_axis(ordered, (n - 1) // 2, axis=1)[:, 0]
        + np.take_along_axis(ordered, n // 2, axis=1)[:, 0]
    ) / 2
    keep = median > 0
    matrix: np.ndarray = full[keep]
    matrix /= median[keep, None]
    return days[enough][keep], matrix


def _measured_days(bars: Bars) -> tuple[np.ndarray, np.ndarray]:
    """(day numbers, jumps) of the measured days (module doc, steps 1 and 2; float32),
    :data:`CHUNK_DAYS` days of bars at a time, so that the temporaries stay small."""
    order = None if np.all(bars.day[1:] >= bars.day[:-1]) else np.argsort(bars.day, kind="stable")
    day = bars.day if order is None else bars.day[order]
    starts = np.flatnonzero(np.diff(day, prepend=day[:1] - 1))  # each day's first bar
    edges = np.append(starts[::CHUNK_DAYS], len(day))
    numbers, blocks = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        rows = slice(lo, hi) if order is None else order[lo:hi]
        ranges = (bars.high[rows] - bars.low[rows]).astype(np.float32)
        days, matrix = _day_matrix(bars.day[rows], bars.minute[rows], ranges)
        numbers.append(days)
        blocks.append(_jumps(matrix).astype(np.float32))
    if not blocks:
        return np.zeros(0, dtype=np.int64), np.zeros((0, DAY_MINUTES), dtype=np.float32)
    return np.concatenate(numbers), np.concatenate(blocks)


def _window_means(matrix: np.ndarray, width: int, least: int) -> np.ndarray:
    """Mean over the ``width`` minutes from each minute on (NaN with fewer than ``least``
    bars); column ``m`` covers ``m .. m + width - 1``."""
    present = ~np.isnan(matrix)
    values = np.cumsum(np.where(present, matrix, 0.0), axis=1, dtype=np.float64)
    counts = np.cumsum(present, axis=1)
    zero = np.zeros((len(matrix), 1))
    values, counts = np.hstack([zero, values]), np.hstack([zero, counts])
    out = np.full(matrix.shape, np.nan)
    stop = DAY_MINUTES - width + 1
    total = values[:, width : width + stop] - values[:, :stop]
    n = counts[:, width : width + stop] - counts[:, :stop]
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, :stop] = np.where(n >= least, total / n, np.nan)
    return out


def _jumps(matrix: np.ndarray) -> np.ndarray:
    """Each day's jump at each local minute (module doc, step 2)."""
    after = _window_means(matrix, AFTER, MIN_AFTER)
    before = np.full(matrix.shape, np.nan)
    before[:, BEFORE:] = _window_means(matrix, BEFORE, MIN_BEFORE)[:, : DAY_MINUTES - BEFORE]
    return after - before


def _pattern(jumps: np.ndarray, opens: tuple[int, ...], shifts: np.ndarray) -> np.ndarray:
    """The sum of the jumps at the opens moved by each of ``shifts`` (days × shifts; NaN
    where none of them has a jump)."""
    total = np.zeros((len(jumps), len(shifts)))
    seen = np.zeros(total.shape, dtype=bool)
    for o in opens:
        at = o + shifts
        inside = (at >= 0) & (at < DAY_MINUTES)
        values = np.full(total.shape, np.nan)
        values[:, inside] = jumps[:, at[inside]]
        known = ~np.isnan(values)
        total += np.where(known, values, 0.0)
        seen |= known
    return np.where(seen, total, np.nan)


def _day_shifts(jumps: np.ndarray, opens: tuple[int, ...], chunk: int = CHUNK_DAYS) -> np.ndarray:
    """Each day's shift (module doc, step 3; NaN: the day has no jump near any open
    moved by any shift), a block of days at a time (memory stays bounded)."""
    out = np.full(len(jumps), np.nan)
    for lo in range(0, len(jumps), chunk):
        scores = _pattern(jumps[lo : lo + chunk], opens, SHIFTS)
        known = ~np.all(np.isnan(scores), axis=1)
        best = np.nanargmax(np.where(known[:, None], scores, 0.0), axis=1)
        out[lo : lo + chunk] = np.where(known, SHIFTS[best], np.nan)
    return out


def _consensus(shifts: np.ndarray) -> tuple[int, int]:
    """(the measured shift, how many days agree with it): the median of the shifts within
    :data:`AGREE` minutes of the most common one (module doc, step 4)."""
    ordered = np.sort(shifts)
    around = np.searchsorted(ordered, ordered + AGREE, "right") - np.searchsorted(
        ordered, ordered - AGREE, "left"
    )
    center = ordered[int(np.argmax(around))]
    near = ordered[np.abs(ordered - center) <= AGREE]
    return int(round(float(np.median(near)))), len(near)


@dataclass(frozen=True)
class ClockReading:
    """What the bars say of their clock (module doc). ``shift`` None: not measured,
    ``reason`` says why."""

    symbol: str
    timezone: str
    clock: str  # the conversion the bars went through: a --server-tz, or UTC
    mt5: bool  # broker server times (an MT5 export); else the file's own UTC times
    opens: tuple[int, ...]
    days: int = 0  # measured days
    shift: int | None = None  # minutes: the opens are measured this much later
    agree: int = 0  # days within AGREE of the shift
    strength: float = 0.0
    reason: str = ""
    right: str | None = None  # the clock that puts the opens right (when one does)
    right_agree: int = 0  # days on which it puts them right (AGREE)
    clock_agree: int = 0  # ... and on which this clock does

    @property
    def wrong(self) -> bool:
        return self.shift is not None and abs(self.shift) >= WRONG

    def _opens(self, shift: int = 0) -> str:
        return ", ".join(hhmm(o + shift) for o in self.opens)

    def _what(self) -> str:
        plural = "s" if len(self.opens) > 1 else ""
        return f"{self.symbol}'s cash open{plural} ({self._opens()} {self.timezone})"

    def _read_as(self) -> str:
        if self.mt5:
            return f"read with --server-tz {describe_clock(self.clock)}"
        return "the file's times taken as UTC"

    def summary(self) -> str:
        """One line: the measured open(s), or why the clock is not checked."""
        if self.shift is None:
            return f"clock not checked: {self.reason}"
        late = "later" if self.shift > 0 else "earlier"
        belong = "they belong" if len(self.opens) > 1 else "it belongs"
        verdict = (
            f"{_duration(self.shift)} {late} than where {belong}"
            if self.wrong
            else "the clock is right"
        )
        return (
            f"clock: {self._what()} measured at {self._opens(self.shift)} "
            f"({self._read_as()}; median of the {self.agree} of {self.days} days that agree): "
            f"{verdict}"
        )

    def problem(self) -> str:
        """The wrong clock as one line: where the opens are, and the clock that puts them
        right."""
        late = "later" if self.shift and self.shift > 0 else "earlier"
        head = (
            f"the clock looks wrong: {self._what()} {'are' if len(self.opens) > 1 else 'is'} "
            f"at {self._opens(self.shift or 0)} in these bars ({self._read_as()}; median of "
            f"the {self.agree} of {self.days} days that agree): every bar is "
            f"{_duration(self.shift or 0)} {late} than it should be"
        )
        return f"{head}; {self._remedy()}"

    def _remedy(self) -> str:
        if self.right is None:
            fix = "no usual clock (broker:NY+H, Etc/GMT-K) puts it right"
        elif self.mt5:
            fix = f"--server-tz {describe_clock(self.right)} puts it right"
        else:  # never UTC itself: the clock read was UTC, and it is wrong
            fix = (
                f"the times look like {describe_clock(self.right)} time, not UTC: "
                "a Parquet/CSV file holds UTC times (or times with their offset; --server-tz "
                f"is for MT5 exports: --server-tz {self.right} reads such an export right)"
            )
        return f"{fix} (--ignore-clock-check runs anyway)"

    def better(self) -> str | None:
        """When the clock is not wrong but another puts the opens right on clearly more
        days (the days between the US and European daylight-saving switches, say): why."""
        if self.shift is None or self.wrong or self.right is None or self.right == self.clock:
            return None
        gained = self.right_agree - self.clock_agree
        if gained < max(5, 0.02 * self.days):
            return None
        advice = (
            f"--server-tz {self.right} is probably the server's clock"
            if self.mt5
            else f"are the file's times {self.right} rather than UTC?"
        )
        return (
            f"clock: {self.right} puts {self._what()} right on {self.right_agree} of "
            f"{self.days} days, {self.clock} on {self.clock_agree}: the others are an hour off "
            f"(daylight-saving dates?); {advice}"
        )


def _duration(minutes: int) -> str:
    m = abs(int(minutes))
    if m % 60 == 0:
        return f"{m // 60} h"
    if m > 60:
        return f"{m // 60} h {m % 60:02d} min"
    return f"{m} min"


def _day_deltas(days: np.ndarray, timezone: str, clock: str, candidate: str) -> np.ndarray:
    """Minutes by which each day's bars move when read with ``candidate`` instead of
    ``clock`` (taken at the day's local noon; NaN where that time does not exist)."""
    noon = days.astype(np.int64) * DAY_MINUTES * MINUTE_NS + 720 * MINUTE_NS
    local = pd.DatetimeIndex(noon.astype("datetime64[ns]")).tz_localize(
        timezone, ambiguous="NaT", nonexistent="NaT"
    )
    utc = epoch_ns(local.tz_convert("UTC"))
    wall = server_wall(utc, clock)
    if candidate == "UTC":
        moved, nonexistent = wall, np.zeros(len(wall), dtype=bool)
    else:
        moved, nonexistent = server_to_utc(wall, candidate)
    delta = (moved - utc) / MINUTE_NS
    return np.where(nonexistent | local.isna(), np.nan, delta)


def read_clock(
    bars: Bars,
    opens: tuple[int, ...],
    clock: str = "UTC",
    mt5: bool = False,
    candidates: tuple[str, ...] = CANDIDATES,
) -> ClockReading:
    """The :class:`ClockReading` of ``bars`` (read with ``clock``: a server_tz, or UTC)
    for the expected ``opens`` (local minutes)."""
    symbol = bars.symbol
    base = ClockReading(symbol.name, symbol.timezone, clock, mt5, opens)

    def unmeasured(reason: str, **kw: Any) -> ClockReading:
        return ClockReading(**{**base.__dict__, "reason": reason, **kw})

    if not opens:
        return unmeasured(
            f"{symbol.name} has no cash_opens in the config (the local times of its "
            "cash-market opens, e.g. ['09:00'])"
        )
    days, jumps = _measured_days(bars)
    if len(days) < MIN_DAYS:
        return unmeasured(
            f"{len(days)} day(s) with {MIN_DAY_BARS} bars or more; {MIN_DAYS} are needed "
            "to measure the cash open",
            days=len(days),
        )
    day_shift = _day_shifts(jumps, opens)
    usable = ~np.isnan(day_shift)
    days, jumps, day_shift = days[usable], jumps[usable], day_shift[usable]
    if len(days) < MIN_DAYS:
        return unmeasured(
            f"{len(days)} day(s) with bars around the cash open; {MIN_DAYS} are needed",
            days=len(days),
        )
    shift, agree = _consensus(day_shift)
    at = _pattern(jumps, opens, np.array([shift]))[:, 0]
    strength = float(np.nanmedian(at) / len(opens)) if np.any(~np.isnan(at)) else 0.0
    measured = dict(days=len(days), agree=agree, strength=strength)
    if agree < MIN_SHARE * len(days) or strength < MIN_STRENGTH:
        return unmeasured(
            f"no clear volatility jump at the cash open in the data ({agree} of {len(days)} "
            f"days agree on one time; median jump {strength:.2f} bar ranges, "
            f"{MIN_STRENGTH:g} needed)",
            **measured,
        )
    clock_agree = int(np.count_nonzero(np.abs(day_shift) <= AGREE))
    best, best_agree = None, -1
    for candidate in candidates:
        moved = day_shift + _day_deltas(days, symbol.timezone, clock, candidate)
        agreeing = int(np.count_nonzero(np.abs(moved) <= AGREE))
        if agreeing > best_agree:
            ok = moved[~np.isnan(moved)]
            if len(ok) and abs(_consensus(ok)[0]) < WRONG:
                best, best_agree = candidate, agreeing
    if best is not None and best_agree < MIN_SHARE * len(days):
        best = None
    return ClockReading(
        **{
            **base.__dict__,
            **measured,
            "shift": shift,
            "right": best,
            "right_agree": max(best_agree, 0),
            "clock_agree": clock_agree,
        }
    )


def check_clock(
    bars: Bars,
    cfg: dict[str, Any] | None,
    server_tz: str | None,
    mt5: bool,
    mode: str = "refuse",
    log: Log = None,
) -> ClockReading:
    """Measure the clock of the loaded ``bars`` (module doc) and say it once on ``log``:
    a wrong clock is a :class:`DataError` of one line (``mode`` ``refuse``) or a warning
    (``warn``: ``--ignore-clock-check``). ``mt5``: the bars were read from broker server
    time with ``server_tz``; else their times were UTC."""
    if mode not in ("refuse", "warn"):
        raise ConfigError(f"clock check: mode {mode!r} is not refuse or warn")
    clock = server_tz if mt5 and server_tz else "UTC"
    reading = read_clock(bars, expected_opens(bars.symbol.name, cfg), clock, mt5)
    source = bars.source or "bars"
    if reading.wrong:
        if mode == "refuse":
            raise DataError(f"{source}: {reading.problem()}")
        say(log, f"{source}: {reading.problem()}: ignored (--ignore-clock-check)", logging.WARNING)
        return reading
    level = logging.INFO if reading.shift is not None else logging.WARNING
    say(log, f"{source}: {reading.summary()}", level)
    if better := reading.better():
        say(log, f"{source}: {better}", logging.WARNING)
    return reading
