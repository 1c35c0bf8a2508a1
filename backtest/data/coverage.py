"""What the data holds: does it cover the requested period, and what spread does it carry?

Coverage (issue 9: "data that does not cover the period"):

A run asks for ``start_date .. end_date``; the data may start later, end earlier
or have holes. Counted in weekdays (Monday to Friday, holidays included, since
no calendar of exchange holidays is assumed): the weekdays of the period before
the first trading day with bars, after the last one, and between two
consecutive trading days with bars. More than :data:`ALLOWED_WEEKDAYS` in any
one of them is a coverage problem: a warning on the log and in the metadata,
or with ``--strict-data`` an error.

Spread (spec section 8.1): the file's spread column, overall and by local hour
(:func:`spread_profile`, shown by ``invoke check-data``), and a ``spread_unit`` that is
probably wrong (:func:`spread_unit_doubt`): a median spread, in price units, more
than :data:`SPREAD_UNIT_DOUBT` times the fixed spread or less than its inverse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backtest.core.config import SymbolSpec
from backtest.data.bars import Bars, day_date, day_number

ALLOWED_WEEKDAYS = 5  # a long holiday (Christmas to New Year) stays below it
# A median spread this many times the fixed one (or 1/this of it) doubts spread_unit.
SPREAD_UNIT_DOUBT = 10.0


def _weekdays(first: int, stop: int) -> int:
    """Weekdays among the day numbers ``first .. stop - 1``."""
    if stop <= first:
        return 0
    return int(np.busday_count(np.datetime64(day_date(first)), np.datetime64(day_date(stop))))


@dataclass(frozen=True)
class Coverage:
    """How ``bars`` cover ``start .. end`` (inclusive dates); see the module doc."""

    start: str
    end: str
    first_day: str
    last_day: str
    uncovered_before: int  # weekdays of the period before the first day with bars
    uncovered_after: int  # ... after the last day with bars
    gaps: list[dict[str, Any]] = field(default_factory=list)  # holes > ALLOWED_WEEKDAYS

    @property
    def problems(self) -> list[str]:
        """One sentence per coverage problem (empty: the data covers the period)."""
        out = []
        if self.uncovered_before > ALLOWED_WEEKDAYS:
            out.append(
                f"the data starts on {self.first_day}: {self.uncovered_before} weekdays of the "
                f"period {self.start}..{self.end} have no bars before it"
            )
        if self.uncovered_after > ALLOWED_WEEKDAYS:
            out.append(
                f"the data ends on {self.last_day}: {self.uncovered_after} weekdays of the "
                f"period {self.start}..{self.end} have no bars after it"
            )
        out += [
            f"no bars on the {g['weekdays']} weekdays between {g['after']} and {g['before']}"
            for g in self.gaps
        ]
        return out

    def as_dict(self) -> dict[str, Any]:
        """The metadata form (``metadata.data.coverage``)."""
        return {
            "first_day": self.first_day,
            "last_day": self.last_day,
            "uncovered_before": self.uncovered_before,
            "uncovered_after": self.uncovered_after,
            "gaps": self.gaps,
            "allowed_weekdays": ALLOWED_WEEKDAYS,
            "ok": not self.problems,
        }


def coverage(bars: Bars, start: dt.date | str, end: dt.date | str) -> Coverage:
    """The coverage of ``start .. end`` by ``bars`` (already that period's slice, not empty)."""
    days = bars.trading_days()
    lo, hi = day_number(start), day_number(end)
    gaps = []
    for after, before in zip(days[:-1], days[1:]):
        missing = _weekdays(int(after) + 1, int(before))
        if missing > ALLOWED_WEEKDAYS:
            gaps.append(
                {
                    "after": day_date(after).isoformat(),
                    "before": day_date(before).isoformat(),
                    "weekdays": missing,
                }
            )
    return Coverage(
        start=day_date(lo).isoformat(),
        end=day_date(hi).isoformat(),
        first_day=day_date(days[0]).isoformat(),
        last_day=day_date(days[-1]).isoformat(),
        uncovered_before=_weekdays(lo, int(days[0])),
        uncovered_after=_weekdays(int(days[-1]) + 1, hi + 1),
        gaps=gaps,
    )


def _unit_doubt(symbol: SymbolSpec, median: float) -> str | None:
    """Why ``symbol.spread_unit`` looks wrong for a file whose median spread (in the
    file's units) is ``median``, or None."""
    if median == 0:
        return (
            "the file's median spread is 0 (a broker that exports none?): with "
            "spread_source data most bars would trade without a spread"
        )
    unit, fixed = symbol.unit_of_spread, symbol.spread
    ratio = median * unit / fixed if fixed > 0 else 1.0
    if 1 / SPREAD_UNIT_DOUBT <= ratio <= SPREAD_UNIT_DOUBT:
        return None
    return (
        f"spread_unit {unit:g} is probably wrong: the file's median spread {median:g} × "
        f"{unit:g} = {median * unit:g} is {ratio:.3g}× the fixed spread {fixed:g} (expected "
        f"1/{SPREAD_UNIT_DOUBT:g} to {SPREAD_UNIT_DOUBT:g}×); spread_unit is the price of one "
        "unit of the file's spread column (MT5: of one broker point)"
    )


def _spreads(bars: Bars) -> np.ndarray:
    """Which bars carry a spread (a boolean mask of ``bars.spread_data``)."""
    return np.isfinite(bars.spread_data)


def _median_p95(values: np.ndarray) -> tuple[float, float]:
    """The median and 95th percentile of spreads, each a value that occurs in them."""
    median, p95 = np.percentile(values, [50, 95], method="inverted_cdf")
    return float(median), float(p95)


def spread_unit_doubt(bars: Bars) -> str | None:
    """Why the symbol's ``spread_unit`` looks wrong for these bars' spread column
    (module doc), or None (also when the bars carry no spread)."""
    values = bars.spread_data[_spreads(bars)]
    return _unit_doubt(bars.symbol, _median_p95(values)[0]) if len(values) else None


@dataclass(frozen=True)
class SpreadProfile:
    """The distribution of a file's spread column in its own units (MT5: broker points),
    overall and by local hour of the symbol's time zone (``bars`` 0: no spread)."""

    symbol: SymbolSpec
    bars: int  # bars with a spread
    without: int  # bars without one
    median: float = 0.0
    p95: float = 0.0
    by_hour: tuple[tuple[int, int, float, float], ...] = ()  # (hour, bars, median, p95)

    @property
    def doubt(self) -> str | None:
        """Why ``spread_unit`` looks wrong (module doc), or None."""
        return _unit_doubt(self.symbol, self.median) if self.bars else None

    def lines(self) -> list[str]:
        """The profile as ``invoke check-data`` prints it (without :attr:`doubt`)."""
        sym = self.symbol
        if not self.bars:
            return [
                f"spread: none in the file (spread_source data needs one on every bar; "
                f"fixed uses the symbol's {sym.spread:g} on every bar)"
            ]
        unit = sym.unit_of_spread
        without = f" ({self.without:,} bars without one)" if self.without else ""
        lines = [
            f"spread: {self.bars:,} bars{without}, median {self.median:g}, 95th percentile "
            f"{self.p95:g} (× spread_unit {unit:g}: {self.median * unit:g} and "
            f"{self.p95 * unit:g} in price; the fixed spread is {sym.spread:g})",
            f"spread by local hour ({sym.timezone}):   bars   median   95th percentile",
        ]
        lines += [
            f"  {hour:02d}:00-{hour:02d}:59 {n:>12,} {median:>8g} {p95:>17g}"
            for hour, n, median, p95 in self.by_hour
        ]
        return lines


def spread_profile(bars: Bars) -> SpreadProfile:
    """The :class:`SpreadProfile` of ``bars`` (the whole loaded file)."""
    has = _spreads(bars)
    values = bars.spread_data[has]
    if not len(values):
        return SpreadProfile(bars.symbol, 0, len(bars))
    hours = bars.minute[has] // 60
    by_hour = []
    for hour in np.unique(hours):
        of_hour = values[hours == hour]
        by_hour.append((int(hour), len(of_hour), *_median_p95(of_hour)))
    return SpreadProfile(
        bars.symbol, len(values), len(bars) - len(values), *_median_p95(values), tuple(by_hour)
    )
