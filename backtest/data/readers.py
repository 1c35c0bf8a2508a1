"""The three file kinds read into raw columns (:class:`RawBars`): Parquet and CSV (UTC times)
and MetaTrader 5 exports (broker server time, :mod:`backtest.data.server_tz`). Only the
columns used are parsed; a file of more than ``max_rows`` rows is refused."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from backtest.data.bars import FIRST_TIME, LAST_TIME, epoch_ns
from backtest.data.files import DataError, Log, say
from backtest.data.server_tz import server_to_utc

PRICES = ("open", "high", "low", "close")
SPREAD = "spread"
# The columns read (others are skipped); ``spread`` is optional.
KEPT = ("time",) + PRICES + (SPREAD,)
MT5_COLUMNS = ("date", "time") + PRICES
# A fixed-offset IANA zone: Etc/GMT+2 is UTC-2 (POSIX sign).
_ETC_GMT = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")


@dataclass
class RawBars:
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


def sniff(path: Path) -> tuple[str, str]:
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
    """Lower-cased, ``<>``-stripped column names (``frame``'s own, renamed in place: a
    reader's fresh frame); missing columns are an error.

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
    frame.columns = [_column_name(column) for column in frame.columns]  # in place: no copy
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


def _read_csv(path: Path, encoding: str, max_rows: int) -> RawBars:
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
    return RawBars(frame, _parse_text_times(text, path), lambda i: str(text.iloc[i]))


def _header(path: Path, encoding: str, sep: str) -> list:
    return list(pd.read_csv(path, encoding=encoding, sep=sep, nrows=0).columns)


def _looks_semicolon(path: Path, encoding: str) -> bool:
    with open(path, encoding=encoding, errors="replace") as handle:
        header = handle.readline()
    return ";" in header and "," not in header


def _read_parquet(path: Path, max_rows: int) -> RawBars:
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
    frame.index = pd.RangeIndex(len(frame))  # the rows' numbers, whatever the file kept
    frame = _columns(frame, path, ("time",) + PRICES)
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
    return RawBars(frame, time_ns, lambda i: pd.Timestamp(time_ns[i], tz="UTC").isoformat())


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


def _read_mt5(path: Path, encoding: str, server_tz: str | None, max_rows: int) -> RawBars:
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

    return RawBars(
        frame,
        utc,
        text,
        nonexistent,
        f"local time does not exist in {server_tz} (clocks went forward): wrong server_tz?",
    )


def read_raw(path: Path, server_tz: str | None, log: Log, max_rows: int) -> RawBars:
    kind, encoding = sniff(path)
    if server_tz and kind != "mt5":
        say(
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
            say(log, f"{path}: server_tz {server_tz} is {east} (POSIX inverts the sign)")
        return _read_mt5(path, encoding, server_tz, max_rows)
    return _read_csv(path, encoding, max_rows)


def is_mt5_export(path: str | Path) -> bool:
    """Whether ``path`` is a MetaTrader 5 export (broker server times), by its header."""
    return sniff(Path(path))[0] == "mt5"
