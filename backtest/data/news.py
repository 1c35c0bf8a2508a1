"""High-impact news events and the entry block around them (spec section 2).

The news file is a CSV with ``time`` (ISO 8601, UTC when it has no offset),
``currency`` (a 3-letter code) and ``impact`` (high/medium/low); the last two
are case-insensitive. Extra columns are ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from backtest.data.bars import FIRST_TIME, LAST_TIME, epoch_ns

NEWS_COLUMNS = ("time", "currency", "impact")
IMPACTS = ("high", "medium", "low")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class NewsError(ValueError):
    """A news file that cannot be used; the message names the file and row."""


def _parse_time(text: str) -> dt.datetime:
    """One ISO 8601 time in UTC (no offset: it is UTC already)."""
    stamp = dt.datetime.fromisoformat(text)  # ValueError unless ISO 8601
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC)


def _rows(path: str | os.PathLike) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (lower case) and ``(line number, fields)`` of each non-blank row."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, skipinitialspace=True)
            header = [h.strip().lower() for h in next(reader, [])]
            rows = [
                (reader.line_num, fields) for fields in reader if any(f.strip() for f in fields)
            ]
    except FileNotFoundError:
        raise NewsError(f"{path}: news file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise NewsError(f"{path}: not a readable CSV: {exc}") from None
    missing = [c for c in NEWS_COLUMNS if c not in header]
    if missing:
        raise NewsError(
            f"{path}: column '{missing[0]}' missing (needed: {', '.join(NEWS_COLUMNS)})"
        )
    return header, rows


def load_news(path: str | os.PathLike) -> pd.DataFrame:
    """The events of a news file: ``time`` (tz-aware UTC), ``currency`` (upper
    case), ``impact`` (lower case), in file order. A bad row raises
    :class:`NewsError` naming the file and the first bad row (row 1 = the
    first data row) and its line in the file.
    """
    header, rows = _rows(path)
    cols = [header.index(c) for c in NEWS_COLUMNS]
    times, currencies, impacts = [], [], []
    for row, (line, fields) in enumerate(rows, start=1):
        where = f"{path}: row {row} (line {line})"
        if len(fields) != len(header):
            raise NewsError(f"{where}: {len(fields)} fields, the header has {len(header)}")
        time, currency, impact = (fields[i].strip() for i in cols)
        try:
            stamp = _parse_time(time)
        except (ValueError, OverflowError):
            raise NewsError(f"{where}: field 'time': {time!r} is not an ISO 8601 time") from None
        if not FIRST_TIME <= stamp < LAST_TIME:
            raise NewsError(
                f"{where}: field 'time': {time!r} is outside {FIRST_TIME:%Y-%m-%d} .. "
                f"{LAST_TIME:%Y-%m-%d}"
            )
        times.append(stamp)
        code = currency.upper()
        if not _CURRENCY.match(code):
            raise NewsError(f"{where}: field 'currency': {currency!r} is not a 3-letter code")
        level = impact.lower()
        if level not in IMPACTS:
            raise NewsError(
                f"{where}: field 'impact': {impact!r} is not one of {', '.join(IMPACTS)}"
            )
        currencies.append(code)
        impacts.append(level)
    return pd.DataFrame(
        {
            "time": pd.DatetimeIndex(times, tz="UTC").as_unit("ns"),
            "currency": pd.Series(currencies, dtype=object),
            "impact": pd.Series(impacts, dtype=object),
        }
    )


def event_times(news: pd.DataFrame, currencies: Iterable[str]) -> np.ndarray:
    """Sorted unique UTC ns (int64) of the high-impact events of ``currencies``."""
    wanted = {c.upper() for c in currencies}
    mask = (news["impact"] == "high") & news["currency"].isin(wanted)
    times = pd.DatetimeIndex(news.loc[mask, "time"])
    return np.unique(epoch_ns(times))


def news_blocked(
    time_ns: np.ndarray, events_ns: np.ndarray, before_ns: int, after_ns: int
) -> np.ndarray:
    """For each bar open time ``t``: is there an event with
    ``event - before <= t <= event + after``? ``events_ns`` must be sorted."""
    t = np.asarray(time_ns, dtype=np.int64)
    ev = np.asarray(events_ns, dtype=np.int64)
    if len(ev) == 0:
        return np.zeros(len(t), dtype=bool)
    # the first event with event >= t - after; blocked if it is <= t + before
    idx = np.searchsorted(ev, t - after_ns, side="left")
    nxt = ev[np.minimum(idx, len(ev) - 1)]
    return (idx < len(ev)) & (nxt <= t + before_ns)
