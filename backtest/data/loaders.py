"""Market data in: Parquet, CSV or MetaTrader 5 exports, validated, as :class:`Bars`.

Spec section 1: a bar is valid when ``low <= min(open, close)``,
``high >= max(open, close)`` and all four prices are finite and positive.
Invalid rows, duplicate timestamps and unsorted input are errors naming the
file and the first bad row, or (``drop_invalid=True``) are dropped and counted.

The file's ``spread`` column (MT5: ``<SPREAD>``) is kept; with ``spread_source:
data`` a missing, negative or non-finite spread makes its row invalid (spec
section 8.1). Files that are not M1 bars (times off the whole minute, a median
spacing other than 60 s) and files of more than ``max_rows`` rows are refused
whatever ``drop_invalid`` says.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from backtest.core.config import (
    DEFAULTS,
    MAX_DATA_ROWS,
    MAX_PRICE_POINTS,
    SYMBOL_SAMPLE_KEYS,
    ConfigError,
    SymbolSpec,
    check_timezone,
    period,
    symbol_spec,
)
from backtest.data.bars import FIRST_TIME, LAST_TIME, Bars, bars_from_frame, epoch_ns
from backtest.data.coverage import spread_unit_doubt
from backtest.data.sample import _sample_dir, ensure_sample

PRICES = ("open", "high", "low", "close")
SPREAD = "spread"
# The columns read (others are skipped); ``spread`` is optional.
KEPT = ("time",) + PRICES + (SPREAD,)
MT5_COLUMNS = ("date", "time") + PRICES
MINUTE_NS = 60_000_000_000
DAY_NS = 24 * 60 * MINUTE_NS
# Most rows one data file may hold (``run.max_data_rows``; it bounds what a mistaken or
# hostile file costs in memory).
MAX_ROWS = MAX_DATA_ROWS
# The median spacing of a file's bars is judged on at least this many pairs of
# consecutive bars within a day (a hand-made file of a few bars is not judged).
MIN_SPACING_PAIRS = 20
# The usual MetaTrader 5 broker clock: New York time + H hours (H = 7: GMT+2 in winter,
# GMT+3 in summer, switching on the US daylight-saving dates, "New York close").
NEW_YORK = "America/New_York"
_BROKER_CLOCK = re.compile(r"^broker:NY(?:([+-])(\d{1,2}))?$")
# An offset typed instead of a zone name: UTC+2, GMT-3, UTC+02:00, +2 (not Etc/GMT+2,
# which is a zone, with the POSIX sign).
_TYPED_OFFSET = re.compile(r"^\s*(?:UTC|GMT|Z)?\s*([+-])\s*(\d{1,2})(?::?(\d\d))?\s*$", re.I)
# A fixed-offset IANA zone: Etc/GMT+2 is UTC-2 (POSIX sign).
_ETC_GMT = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")
_LOG = logging.getLogger(__name__)
Log = logging.Logger | Callable[[str], Any] | None


class DataError(ValueError):
    """A market-data file that cannot be used (one line: file, row, what)."""


def _say(log: Log, message: str, level: int = logging.INFO) -> None:
    """Tell the user: a Logger (at ``level``), a callable, or this module's logger."""
    if callable(log) and not isinstance(log, logging.Logger):
        log(message)
    else:
        (log or _LOG).log(level, message)


def file_checksum(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of the file bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Raw:
    """What a reader hands to validation: the raw columns, UTC ns times, how to
    show a row's time, and rows whose time is bad (with the reason)."""

    frame: pd.DataFrame
    time_ns: np.ndarray
    time_text: Callable[[int], str]
    bad_time: np.ndarray | None = None
    bad_time_reason: str = ""

    def __post_init__(self) -> None:
        if self.bad_time is None:
            self.bad_time = np.zeros(len(self.frame), dtype=bool)


def _sniff(path: Path) -> tuple[str, str]:
    """(kind, encoding): kind is parquet, mt5 or csv, from the magic bytes / header."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet", ""
    if not head.strip():
        raise DataError(f"{path}: empty file")
    encoding = "utf-8"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif head.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    first_line = head.decode(encoding, errors="replace").splitlines()[0].lstrip("\ufeff")
    return ("mt5" if "<DATE>" in first_line.upper() else "csv"), encoding


def _column_name(name: object) -> str:
    return str(name).strip().strip("<>").strip().lower()


def _wanted(names: tuple[str, ...]) -> Callable[[object], bool]:
    """A ``usecols`` filter: parse only the columns we use."""
    return lambda column: _column_name(column) in names


def _columns(
    frame: pd.DataFrame,
    path: Path,
    required: tuple[str, ...],
    header: Callable[[], list] | None = None,
) -> pd.DataFrame:
    """Lower-cased, ``<>``-stripped column names; missing columns are an error.

    ``header`` gives all the file's column names for the message, when
    ``frame`` holds only the columns that were parsed.
    """
    named: dict[str, str] = {}
    for column in frame.columns:
        name = _column_name(column)
        if name in (*required, SPREAD) and name in named:
            raise DataError(
                f"{path}: columns {named[name]!r} and {str(column)!r} are both column '{name}' "
                "(names are read case-insensitively); keep one"
            )
        named[name] = str(column)
    frame = frame.rename(columns=_column_name)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = header() if header else list(frame.columns)
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(map(str, found))})"
        )
    if len(frame) == 0:
        raise DataError(f"{path}: no data rows")
    return frame


def _check_time_range(index: pd.DatetimeIndex, path: Path, shown: Callable[[int], str]) -> None:
    """Bar times must lie in FIRST_TIME .. LAST_TIME (nanoseconds since 1970 fit int64)."""
    outside = np.flatnonzero((index < FIRST_TIME) | (index >= LAST_TIME))
    if len(outside):
        row = int(outside[0])
        raise DataError(
            f"{path}: row {row + 1}: time {shown(row)} is outside {FIRST_TIME:%Y-%m-%d} .. "
            f"{LAST_TIME:%Y-%m-%d}"
        )


def _parse_text_times(text: pd.Series, path: Path) -> np.ndarray:
    """ISO 8601-like strings to UTC ns; naive = UTC, offsets honoured."""
    try:
        times = pd.to_datetime(text, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        times = pd.to_datetime(text, utc=True, errors="coerce")
    index = pd.DatetimeIndex(times)
    bad = np.flatnonzero(index.isna())
    if len(bad):
        row = bad[0]
        raise DataError(
            f"{path}: row {row + 1}: time {text.iloc[row]!r} is not a date-time between "
            f"{FIRST_TIME:%Y-%m-%d} and {LAST_TIME:%Y-%m-%d}"
        )
    _check_time_range(index, path, lambda i: repr(text.iloc[i]))
    return epoch_ns(index)


def _check_rows(rows: int, path: Path, max_rows: int) -> None:
    """At most ``max_rows`` rows (read with ``nrows=max_rows + 1``, so one more says "too many")."""
    if rows > max_rows:
        raise DataError(
            f"{path}: row {max_rows + 1}: more than {max_rows:,} rows, the most one data file "
            "may hold (run.max_data_rows in the config); split the file or raise the limit"
        )


def _read_csv(path: Path, encoding: str, max_rows: int) -> _Raw:
    try:
        sep = ";" if _looks_semicolon(path, encoding) else ","
        frame = pd.read_csv(
            path,
            encoding=encoding,
            sep=sep,
            dtype={"time": str},
            usecols=_wanted(KEPT),
            nrows=max_rows + 1,
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file: {exc}".splitlines()[0]) from None
    frame = _columns(frame, path, ("time",) + PRICES, lambda: _header(path, encoding, sep))
    _check_rows(len(frame), path, max_rows)
    text = frame["time"].astype(str)
    return _Raw(frame, _parse_text_times(text, path), lambda i: str(text.iloc[i]))


def _header(path: Path, encoding: str, sep: str) -> list:
    return list(pd.read_csv(path, encoding=encoding, sep=sep, nrows=0).columns)


def _looks_semicolon(path: Path, encoding: str) -> bool:
    with open(path, encoding=encoding, errors="replace") as handle:
        header = handle.readline()
    return ";" in header and "," not in header


def _read_parquet(path: Path, max_rows: int) -> _Raw:
    try:
        metadata = pq.read_metadata(path)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(f"{path}: not a readable Parquet file: {exc}".splitlines()[0]) from None
    _check_rows(metadata.num_rows, path, max_rows)
    try:
        names = metadata.schema.to_arrow_schema().names
        wanted = [n for n in names if _column_name(n) in KEPT]
        required = {_column_name(n) for n in wanted} >= {"time", *PRICES}
        frame = pd.read_parquet(path, columns=wanted if required else None)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(f"{path}: not a readable Parquet file: {exc}".splitlines()[0]) from None
    if "time" not in frame.columns and frame.index.name == "time":
        frame = frame.reset_index()
    frame = _columns(frame.reset_index(drop=True), path, ("time",) + PRICES)
    column = frame["time"]
    if pd.api.types.is_datetime64_any_dtype(column):
        index = pd.DatetimeIndex(column)
        index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
        if index.hasnans:
            row = int(np.flatnonzero(index.isna())[0])
            raise DataError(f"{path}: row {row + 1}: time is missing")
        _check_time_range(index, path, lambda i: str(index[i]))
        time_ns = epoch_ns(index)
    elif pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
        time_ns = _parse_text_times(column.astype(str), path)
    else:
        raise DataError(f"{path}: column time has type {column.dtype}; expected date-times")
    return _Raw(frame, time_ns, lambda i: pd.Timestamp(time_ns[i], tz="UTC").isoformat())


def _parse_codes(
    values: pd.Series, parse: Callable[[pd.Index], pd.Index]
) -> tuple[np.ndarray, np.ndarray]:
    """Parse the distinct values once (dates and clock times repeat a lot): (ns, bad)."""
    codes, uniques = pd.factorize(values)
    parsed = parse(pd.Index(uniques.astype(str)).str.strip())
    ns = np.asarray(parsed.asi8 if hasattr(parsed, "asi8") else parsed, dtype=np.int64)[codes]
    bad = np.asarray(parsed.isna())[codes] | (codes < 0)
    return ns, bad


def _mt5_clock(text: pd.Index) -> pd.TimedeltaIndex:
    padded = [t + ":00" if len(t) == 5 else t for t in text]
    return pd.to_timedelta(padded, errors="coerce")


def broker_offset_hours(server_tz: str) -> int | None:
    """H of a ``broker:NY+H`` / ``broker:NY-H`` clock (``broker:NY`` is 0), else None."""
    match = _BROKER_CLOCK.match(server_tz)
    if not match:
        return None
    hours = int(match.group(2) or 0)
    return -hours if match.group(1) == "-" else hours


def typed_utc_hours(value: str) -> int | None:
    """The whole hours east of UTC that a text such as ``UTC+2``, ``GMT+02:00`` or ``+2``
    means (not an IANA name), or None."""
    match = _TYPED_OFFSET.match(value)
    if not match or (match.group(3) or "00") != "00":
        return None
    hours = int(match.group(2))
    return -hours if match.group(1) == "-" else hours


def _broker_clocks_for(hours: int) -> str:
    """The broker presets whose winter or summer offset is UTC+``hours``, the usual first."""
    winter = [(h, hours, hours + 1) for h in (hours + 5,) if abs(h) <= 23]
    summer = [(h, hours - 1, hours) for h in (hours + 4,) if abs(h) <= 23]
    # The usual MT5 clock (broker:NY+7) first, whichever of its offsets was typed.
    presets = sorted(winter + summer, key=lambda p: p[0] != 7)
    return " or ".join(
        f"broker:NY{f'{h:+d}' if h else ''} (UTC{w:+d} in winter, UTC{s:+d} in summer)"
        for h, w, s in presets
    )


def check_server_tz(value: Any, where: str = "--server-tz") -> str:
    """``value`` when it is an IANA time zone or a broker clock ``broker:NY+H`` (H whole
    hours, -23..23); else a DataError of one line naming ``where``. An offset such as
    ``UTC+2`` is answered with the broker presets of that offset and the fixed zone of
    exactly that offset (``Etc/GMT-2``: POSIX inverts the sign), never another offset."""
    if isinstance(value, str) and value.startswith("broker:"):
        hours = broker_offset_hours(value)
        if hours is None or abs(hours) > 23:
            raise DataError(
                f"{where}: {value!r} is not a broker clock; write broker:NY+H "
                "(New York time + H hours, H from -23 to 23, e.g. broker:NY+7)"
            )
        return value
    try:
        return check_timezone(value, where)
    except ConfigError as exc:
        hours = typed_utc_hours(value) if isinstance(value, str) else None
        if hours is not None and -12 <= hours <= 14:
            fixed = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
            raise DataError(
                f"{where}: {value!r} is not a time zone name; an MT5 server on daylight "
                f"saving (the US dates, as most are) is {_broker_clocks_for(hours)}; one "
                f"on UTC{hours:+d} all year is {fixed}"
                + (f" (POSIX sign: {fixed} is UTC{hours:+d})" if hours else "")
            ) from None
        raise DataError(
            f"{exc}; or a broker clock such as broker:NY+7 (New York time + 7 h: "
            "GMT+2/GMT+3 on the US daylight-saving dates)"
        ) from None


def server_to_utc(local_ns: np.ndarray, server_tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Broker server wall-clock times (ns, naive) to UTC ns; returns (utc_ns, nonexistent).

    ``server_tz`` is an IANA zone or ``broker:NY+H``: the server clock is New York
    wall-clock time shifted by H hours, so it is read as New York time after
    taking the H hours off (its DST steps fall on the US dates, at 02:00 New York
    time, i.e. at 02:00 + H on the server clock).

    Daylight saving, in file order:

    - **Ambiguous** times (the repeated hour when clocks go back) are read as
      the first pass (summer time) until the clock visibly restarts: within a
      run of consecutive ambiguous rows, a row whose local time is not later
      than an earlier row of that run is the second pass (standard time). So a
      sorted file that holds both passes maps each to its own UTC minute, and
      one that holds only one pass is read as summer time.
    - **Nonexistent** times (the skipped hour when clocks go forward) cannot
      come from a correct server clock: they are flagged (``nonexistent``) and
      treated as invalid rows (an error, or dropped with ``drop_invalid``),
      since any guess could collide with a real bar. Such rows usually mean the
      wrong ``server_tz``.
    """
    hours = broker_offset_hours(server_tz)
    if hours is not None:
        return server_to_utc(local_ns - np.int64(hours * 3_600_000_000_000), NEW_YORK)
    local = pd.DatetimeIndex(local_ns.astype("datetime64[ns]"))
    n = len(local)
    as_summer = local.tz_localize(server_tz, ambiguous=np.ones(n, bool), nonexistent="NaT")
    as_winter = local.tz_localize(server_tz, ambiguous=np.zeros(n, bool), nonexistent="NaT")
    utc = epoch_ns(as_summer).copy()  # changed in place below
    nonexistent = np.asarray(as_summer.isna())
    winter = epoch_ns(as_winter)
    ambiguous = np.flatnonzero((utc != winter) & ~nonexistent)
    run_max = None
    previous = -2
    for i in ambiguous:
        if i != previous + 1:
            run_max = None
        if run_max is not None and local_ns[i] <= run_max:
            utc[i] = winter[i]
        run_max = local_ns[i] if run_max is None else max(run_max, local_ns[i])
        previous = i
    return utc, nonexistent


def _read_mt5(path: Path, encoding: str, server_tz: str | None, max_rows: int) -> _Raw:
    if not server_tz:
        raise DataError(
            f"{path}: MetaTrader 5 export in broker server time: give the server's "
            "time zone (server_tz / --server-tz, e.g. Europe/Athens or Etc/GMT-2)"
        )
    try:
        frame = pd.read_csv(
            path,
            sep="\t",
            encoding=encoding,
            usecols=_wanted(MT5_COLUMNS + (SPREAD,)),
            dtype={"<DATE>": str, "<TIME>": str},
            nrows=max_rows + 1,
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{path}: not a readable MetaTrader 5 export: {exc}".splitlines()[0]
        ) from None
    frame = _columns(frame, path, MT5_COLUMNS, lambda: _header(path, encoding, "\t"))
    _check_rows(len(frame), path, max_rows)
    days, bad_day = _parse_codes(
        frame["date"], lambda u: pd.to_datetime(u, format="%Y.%m.%d", errors="coerce")
    )
    clock, bad_clock = _parse_codes(frame["time"], _mt5_clock)
    bad = np.flatnonzero(bad_day | bad_clock)
    if len(bad):
        row = bad[0]
        raise DataError(
            f"{path}: row {row + 1}: date/time {frame['date'].iloc[row]!r} "
            f"{frame['time'].iloc[row]!r} is not YYYY.MM.DD HH:MM[:SS]"
        )
    utc, nonexistent = server_to_utc(days + clock, server_tz)

    def text(i: int) -> str:
        return f"{frame['date'].iloc[i]} {frame['time'].iloc[i]} {server_tz}"

    return _Raw(
        frame,
        utc,
        text,
        nonexistent,
        f"local time does not exist in {server_tz} (clocks went forward): wrong server_tz?",
    )


def _read(path: Path, server_tz: str | None, log: Log, max_rows: int) -> _Raw:
    kind, encoding = _sniff(path)
    if server_tz and kind != "mt5":
        _say(
            log,
            f"{path}: server_tz {server_tz} not used: {kind} files hold UTC times "
            "(only MetaTrader 5 exports are in broker server time)",
            logging.WARNING,
        )
    if kind == "parquet":
        return _read_parquet(path, max_rows)
    if kind == "mt5":
        if server_tz and (etc := _ETC_GMT.match(server_tz)):
            east = f"UTC{'-' if etc.group(1) == '+' else '+'}{int(etc.group(2))}"
            _say(log, f"{path}: server_tz {server_tz} is {east} (POSIX inverts the sign)")
        return _read_mt5(path, encoding, server_tz, max_rows)
    return _read_csv(path, encoding, max_rows)


def _price_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64) for c in PRICES}


def _check_m1(raw: _Raw, path: Path) -> None:
    """Refuse a file that is not M1 bars, whatever ``drop_invalid`` says (dropping rows
    would hide it): every time on a whole minute (:00 seconds), and consecutive bars of
    a day (its UTC date, which keeps the overnight gaps out) a median 60 s apart,
    judged on :data:`MIN_SPACING_PAIRS` pairs or more. Rows whose time is bad are the
    validation's (``_Raw.bad_time``)."""
    assert raw.bad_time is not None, "_Raw.__post_init__ fills it"
    rows = np.flatnonzero(~raw.bad_time)
    t = raw.time_ns[rows]
    off_minute = np.flatnonzero(t % MINUTE_NS)
    if len(off_minute):
        i = int(rows[off_minute[0]])
        raise DataError(
            f"{path}: row {i + 1} ({raw.time_text(i)}): time is not on a whole minute; M1 bars "
            "open at :00 seconds (not M1 data? --drop-invalid does not drop it)"
        )
    if not np.all(t[1:] >= t[:-1]):
        order = np.argsort(t, kind="stable")
        rows, t = rows[order], t[order]
    steps = np.diff(t)
    same_day = t[1:] // DAY_NS == t[:-1] // DAY_NS
    if np.count_nonzero(same_day) < MIN_SPACING_PAIRS:
        return
    median = float(np.median(steps[same_day]))
    if median == MINUTE_NS:
        return
    j = int(np.flatnonzero(same_day & (steps != MINUTE_NS))[0])
    i = int(rows[j + 1])
    raise DataError(
        f"{path}: row {i + 1} ({raw.time_text(i)}): {steps[j] / 1e9:g} s after the bar before; "
        f"consecutive bars within a day are a median {median / 1e9:g} s apart, not 60 s: "
        "not M1 bars (--drop-invalid does not change that)"
    )


@dataclass
class _Spread:
    """The file's spread column (float, in its own units: MT5 broker points) and the
    rows whose spread makes the bar invalid (none when the run does not use it)."""

    values: np.ndarray
    bad: np.ndarray
    fault: Callable[[int], str]  # what is wrong with row i's spread


def _spread(
    raw: _Raw, path: Path, symbol: SymbolSpec, max_price: float, log: Log
) -> _Spread | None:
    """The file's spread column (None: the file has none), checked as the run uses it.

    ``spread_source: data`` (spec section 8.1): a file without the column is an error,
    and a missing, negative or non-finite spread (or one above the largest price)
    makes its row invalid. ``fixed``: the column is unused, so a bad value is no
    error: it becomes NaN (no spread), said once in a warning.
    """
    used = symbol.spread_source == "data"
    if SPREAD not in raw.frame.columns:
        if used:
            raise DataError(
                f"{path}: spread_source data needs the file's spread column "
                "(spread; <SPREAD> in an MT5 export), and the file has none"
            )
        return None
    column = raw.frame[SPREAD]
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    unit = symbol.unit_of_spread
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(np.isfinite(values) & (values >= 0) & (values * unit <= max_price))

    def fault(i: int) -> str:
        value, shown = values[i], column.iloc[i]
        if pd.isna(shown):
            return "spread is missing"
        if np.isnan(value):
            return f"spread {shown!r} is not a number"
        if not np.isfinite(value) or value < 0:
            return f"spread {value:g} is not a finite number >= 0"
        return f"spread {value:g} × spread_unit {unit:g} is above the largest price {max_price:g}"

    if not used and bad.any():
        i = int(np.flatnonzero(bad)[0])
        _say(
            log,
            f"{path}: {np.count_nonzero(bad)} row(s) without a usable spread (first: row {i + 1} "
            f"({raw.time_text(i)}), {fault(i)}); ignored: with spread_source fixed the "
            "file's spread is not used",
            logging.WARNING,
        )
        values[bad] = np.nan
        bad = np.zeros(len(values), dtype=bool)
    return _Spread(values, bad, fault)


def _invalid(p: dict[str, np.ndarray], max_price: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        ok = np.ones(len(p["open"]), dtype=bool)
        for c in PRICES:
            ok &= np.isfinite(p[c]) & (p[c] > 0) & (p[c] <= max_price)
        ok &= p["low"] <= np.minimum(p["open"], p["close"])
        ok &= p["high"] >= np.maximum(p["open"], p["close"])
    return ~ok


def _what_is_wrong(
    raw: _Raw,
    p: dict[str, np.ndarray],
    i: int,
    duplicate: np.ndarray,
    max_price: float,
    spread: _Spread | None,
) -> str:
    """One phrase for the first bad row ``i``."""
    assert raw.bad_time is not None, "_Raw.__post_init__ fills it"
    if raw.bad_time[i]:
        return raw.bad_time_reason
    for c in PRICES:
        if not (np.isfinite(p[c][i]) and p[c][i] > 0):
            value = raw.frame[c].iloc[i]
            shown = repr(value) if isinstance(value, str) else str(value)
            return f"{c} {shown} is not a finite positive price"
        if p[c][i] > max_price:
            return (
                f"{c} {p[c][i]:g} is above the largest price {max_price:g} "
                f"({MAX_PRICE_POINTS:.0e} points of {max_price / MAX_PRICE_POINTS:g})"
            )
    low_edge, high_edge = min(p["open"][i], p["close"][i]), max(p["open"][i], p["close"][i])
    if not p["low"][i] <= low_edge:
        return f"low {p['low'][i]:g} is above min(open, close) {low_edge:g}"
    if not p["high"][i] >= high_edge:
        return f"high {p['high'][i]:g} is below max(open, close) {high_edge:g}"
    if spread is not None and spread.bad[i]:
        return f"{spread.fault(i)} (spread_source data needs a spread on every bar)"
    t = raw.time_ns
    if duplicate[i]:
        first = int(np.flatnonzero(t == t[i])[0])
        return f"duplicate time (same as row {first + 1})"
    earlier = int(np.argmax(t[:i]))
    return f"time is before row {earlier + 1}'s ({raw.time_text(earlier)}): input not sorted"


def _validated(
    raw: _Raw, path: Path, drop_invalid: bool, log: Log, max_price: float, spread: _Spread | None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The clean time_ns and columns (prices, and ``spread`` when the file has it) after
    the spec's checks and the price bound (``max_price``: MAX_PRICE_POINTS points);
    raises or drops."""
    p = _price_arrays(raw.frame)
    if spread is not None:
        p[SPREAD] = spread.values
    t = raw.time_ns
    invalid = _invalid(p, max_price) | raw.bad_time
    if spread is not None:
        invalid |= spread.bad
    if not invalid.any() and bool(np.all(t[1:] > t[:-1])):
        return t, p  # the usual case: clean, strictly increasing
    if not drop_invalid:
        duplicate = pd.Series(t).duplicated(keep="first").to_numpy()
        unsorted = np.zeros(len(t), dtype=bool)
        unsorted[1:] = t[1:] < np.maximum.accumulate(t)[:-1]
        bad = np.flatnonzero(invalid | duplicate | unsorted)
        if len(bad):
            i = int(bad[0])
            raise DataError(
                f"{path}: row {i + 1} ({raw.time_text(i)}): "
                f"{_what_is_wrong(raw, p, i, duplicate, max_price, spread)}"
            )
        return t, p
    keep = np.flatnonzero(~invalid)
    duplicate = pd.Series(t[keep]).duplicated(keep="first").to_numpy()
    keep = keep[~duplicate]
    out_of_order = int(np.count_nonzero(t[keep][1:] < np.maximum.accumulate(t[keep])[:-1]))
    keep = keep[np.argsort(t[keep], kind="stable")]
    n_invalid, n_duplicate = int(invalid.sum()), int(duplicate.sum())
    n_spread = 0 if spread is None else int(np.count_nonzero(invalid & spread.bad))
    if n_invalid or n_duplicate or out_of_order:
        for_spread = f" ({n_spread} for their spread)" if n_spread else ""
        _say(
            log,
            f"{path}: dropped {n_invalid} invalid bar(s){for_spread} and {n_duplicate} duplicate "
            f"timestamp(s); sorted {out_of_order} out-of-order bar(s)",
            logging.WARNING,
        )
    if len(keep) == 0:
        raise DataError(f"{path}: no valid bars left after dropping invalid rows")
    return t[keep], {c: v[keep] for c, v in p.items()}


def load_bars(
    path: str | Path,
    symbol: SymbolSpec,
    server_tz: str | None = None,
    drop_invalid: bool = False,
    log: Log = None,
    max_rows: int = MAX_ROWS,
) -> Bars:
    """Read, validate and convert one data file to :class:`Bars` (integer points).

    Parquet and CSV: ``time`` (UTC when naive, offsets honoured) and
    ``open/high/low/close`` (+ optional ``tick_volume``, ``spread``). A
    MetaTrader 5 export (detected by its ``<DATE>`` header) is in broker server
    time and needs ``server_tz`` (see :func:`server_to_utc` for daylight saving).
    The spread column is kept and checked as ``symbol.spread_source`` needs it
    (:func:`_spread`); a file of more than ``max_rows`` rows, or not M1 bars
    (:func:`_check_m1`), is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    if server_tz is not None:
        check_server_tz(server_tz, f"{path}: server_tz")
    raw = _read(path, server_tz, log, max_rows)
    _check_m1(raw, path)
    max_price = MAX_PRICE_POINTS * symbol.point
    spread = _spread(raw, path, symbol, max_price, log)
    time_ns, columns = _validated(raw, path, drop_invalid, log, max_price, spread)
    frame = pd.DataFrame(
        {"time": pd.DatetimeIndex(time_ns.astype("datetime64[ns]"), tz="UTC"), **columns}
    )
    bars = bars_from_frame(frame, symbol, source=str(path), checksum=file_checksum(path))
    if symbol.spread_source == "data" and (doubt := spread_unit_doubt(bars)):
        _say(log, f"{path}: {doubt}", logging.WARNING)
    return bars


def resolve_data_file(
    symbol: str,
    period_name: str,
    data_file: str | None,
    cfg: dict[str, Any] | None = None,
    log: Log = None,
) -> tuple[Path, bool]:
    """The data file to use and whether it is built-in sample data.

    An explicit ``data_file`` must exist. Without one: the period's configured
    file, or where that does not exist, the built-in sample data (generated on
    first use, cached under ``run.sample_dir``), said on the log.
    """
    cfg = cfg or DEFAULTS
    if data_file:
        path = Path(data_file)
        if not path.is_file():
            raise DataError(f"{path}: data file not found")
        return path, _sample_dir(cfg).resolve() in path.resolve().parents
    configured = period(period_name, cfg).data_path(symbol)
    if configured.is_file():
        return configured, False
    symbol_spec(symbol, cfg)
    lacking = [k for k in SYMBOL_SAMPLE_KEYS[:2] if k not in cfg["symbols"][symbol]]
    if lacking:
        raise DataError(
            f"{configured}: data file not found, and {symbol} has no built-in sample data "
            f"(symbols.{symbol} has no {' or '.join(lacking)}); give --data-file"
        )
    sample = ensure_sample(symbol, period_name, cfg)
    _say(
        log,
        f"no data file {configured} for {symbol} ({period_name}): "
        f"using built-in sample data {sample}",
    )
    return sample, True


def is_mt5_export(path: str | Path) -> bool:
    """Whether ``path`` is a MetaTrader 5 export (broker server times), by its header."""
    return _sniff(Path(path))[0] == "mt5"


def load_period_bars(
    symbol: str,
    period_name: str,
    data_file: str | None = None,
    cfg: dict[str, Any] | None = None,
    server_tz: str | None = None,
    drop_invalid: bool = False,
    log: Log = None,
    clock: str | None = None,
) -> Bars:
    """:func:`resolve_data_file` + :func:`load_bars`: the whole file (slice with ``between``),
    with the symbol's settings of ``cfg`` (its ``spread_source`` decides how the spread
    column is checked) and at most ``run.max_data_rows`` rows (default :data:`MAX_ROWS`).

    ``clock`` ``refuse`` or ``warn``: the whole file's clock is checked from its cash
    opens (:func:`backtest.data.clock.check_clock`): a wrong one is a DataError, or
    (``warn``, ``--ignore-clock-check``) a warning; None: not checked."""
    cfg = cfg or DEFAULTS
    path, sample = resolve_data_file(symbol, period_name, data_file, cfg, log)
    max_rows = int(cfg["run"]["max_data_rows"])
    bars = load_bars(path, symbol_spec(symbol, cfg), server_tz, drop_invalid, log, max_rows)
    if clock is not None:
        from backtest.data.clock import check_clock  # clock reads this module

        check_clock(bars, cfg, server_tz, is_mt5_export(path), clock, log)
    return replace(bars, sample=sample)


def utc_text(ns: int) -> str:
    """UTC nanoseconds as ISO 8601 with offset (``2025-03-04T09:12:00+00:00``)."""
    return pd.Timestamp(int(ns), tz="UTC").isoformat()


def data_provenance(bars: Bars) -> dict[str, Any]:
    """Where a run's bars came from (io-contract ``metadata.data``): ``source``
    (``file`` or ``sample``), ``path``, ``checksum`` (sha256 of the file), ``bars``
    and the ``first_bar`` / ``last_bar`` open times of ``bars`` (the period's slice)."""
    return {
        "source": "sample" if bars.sample else "file",
        "path": bars.source,
        "checksum": bars.checksum,
        "bars": len(bars),
        "first_bar": utc_text(bars.time_ns[0]) if len(bars) else None,
        "last_bar": utc_text(bars.time_ns[-1]) if len(bars) else None,
    }
