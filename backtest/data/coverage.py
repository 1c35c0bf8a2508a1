"""Does the data cover the requested period? (issue 9: "data that does not cover the period")

A run asks for ``start_date .. end_date``; the data may start later, end earlier
or have holes. Counted in weekdays (Monday to Friday, holidays included, since
no calendar of exchange holidays is assumed): the weekdays of the period before
the first trading day with bars, after the last one, and between two
consecutive trading days with bars. More than :data:`ALLOWED_WEEKDAYS` in any
one of them is a coverage problem: a warning on the log and in the metadata,
or with ``--strict-data`` an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backtest.data.bars import Bars, day_date, day_number

ALLOWED_WEEKDAYS = 5  # a long holiday (Christmas to New Year) stays below it


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
