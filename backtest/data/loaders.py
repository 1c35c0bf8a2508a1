"""Market data in: Parquet, CSV or MetaTrader 5 exports, validated, as :class:`Bars`.

Spec section 1: a bar is valid when ``low <= min(open, close)``,
``high >= max(open, close)`` and all four prices are finite and positive.
Invalid rows, duplicate timestamps and unsorted input are errors naming the
file and the first bad row, or (``drop_invalid=True``) are dropped and counted.
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
    MAX_PRICE_POINTS,
    SYMBOL_SAMPLE_KEYS,
    ConfigError,
    SymbolSpec,
    check_timezone,
    period,
    symbol_spec,
)
from backtest.data.bars import FIRST_TIME, LAST_TIME, Bars, bars_from_frame, epoch_ns
from backtest.data.sample import _sample_dir, ensure_sample

PRICES = ("open", "high", "low", "close")
MT5_COLUMNS = ("date", "time") + PRICES
# The usual MetaTrader 5 broker clock: New York time + H hours (H = 7: GMT+2 in winter,
# GMT+3 in summer, switching on the US daylight-saving dates, "New York close").
NEW_YORK = "America/New_York"
_BROKER_CLOCK = re.compile(r"^broker:NY(?:([+-])(\d{1,2}))?$")
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
        if name in required and name in named:
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


def _read_csv(path: Path, encoding: str) -> _Raw:
    try:
        sep = ";" if _looks_semicolon(path, encoding) else ","
        frame = pd.read_csv(
            path,
            encoding=encoding,
            sep=sep,
            dtype={"time": str},
            usecols=_wanted(("time",) + PRICES),
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file: {exc}".splitlines()[0]) from None
    frame = _columns(frame, path, ("time",) + PRICES, lambda: _header(path, encoding, sep))
    text = frame["time"].astype(str)
    return _Raw(frame, _parse_text_times(text, path), lambda i: str(text.iloc[i]))


def _header(path: Path, encoding: str, sep: str) -> list:
    return list(pd.read_csv(path, encoding=encoding, sep=sep, nrows=0).columns)


def _looks_semicolon(path: Path, encoding: str) -> bool:
    with open(path, encoding=encoding, errors="replace") as handle:
        header = handle.readline()
    return ";" in header and "," not in header


def _read_parquet(path: Path) -> _Raw:
    try:
        names = pq.read_schema(path).names
        wanted = [n for n in names if _column_name(n) in ("time",) + PRICES]
        frame = pd.read_parquet(path, columns=wanted if len(wanted) == 5 else None)
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


def check_server_tz(value: Any, where: str = "--server-tz") -> str:
    """``value`` when it is an IANA time zone or a broker clock ``broker:NY+H`` (H whole
    hours, -23..23); else a DataError of one line naming ``where``."""
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


def _read_mt5(path: Path, encoding: str, server_tz: str | None) -> _Raw:
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
            usecols=_wanted(MT5_COLUMNS),
            dtype={"<DATE>": str, "<TIME>": str},
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{path}: not a readable MetaTrader 5 export: {exc}".splitlines()[0]
        ) from None
    frame = _columns(frame, path, MT5_COLUMNS, lambda: _header(path, encoding, "\t"))
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


def _read(path: Path, server_tz: str | None, log: Log = None) -> _Raw:
    kind, encoding = _sniff(path)
    if server_tz and kind != "mt5":
        _say(
            log,
            f"{path}: server_tz {server_tz} not used: {kind} files hold UTC times "
            "(only MetaTrader 5 exports are in broker server time)",
            logging.WARNING,
        )
    if kind == "parquet":
        return _read_parquet(path)
    if kind == "mt5":
        return _read_mt5(path, encoding, server_tz)
    return _read_csv(path, encoding)


def _price_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64) for c in PRICES}


def _invalid(p: dict[str, np.ndarray], max_price: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        ok = np.ones(len(p["open"]), dtype=bool)
        for c in PRICES:
            ok &= np.isfinite(p[c]) & (p[c] > 0) & (p[c] <= max_price)
        ok &= p["low"] <= np.minimum(p["open"], p["close"])
        ok &= p["high"] >= np.maximum(p["open"], p["close"])
    return ~ok


def _what_is_wrong(
    raw: _Raw, p: dict[str, np.ndarray], i: int, duplicate: np.ndarray, max_price: float
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
    t = raw.time_ns
    if duplicate[i]:
        first = int(np.flatnonzero(t == t[i])[0])
        return f"duplicate time (same as row {first + 1})"
    earlier = int(np.argmax(t[:i]))
    return f"time is before row {earlier + 1}'s ({raw.time_text(earlier)}): input not sorted"


def _validated(
    raw: _Raw, path: Path, drop_invalid: bool, log: Log, max_price: float
) -> tuple[np.ndarray, dict]:
    """The clean (time_ns, prices) after the spec's checks and the price bound
    (``max_price``: MAX_PRICE_POINTS points); raises or drops."""
    p = _price_arrays(raw.frame)
    t = raw.time_ns
    invalid = _invalid(p, max_price) | raw.bad_time
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
                f"{_what_is_wrong(raw, p, i, duplicate, max_price)}"
            )
        return t, p
    keep = np.flatnonzero(~invalid)
    duplicate = pd.Series(t[keep]).duplicated(keep="first").to_numpy()
    keep = keep[~duplicate]
    out_of_order = int(np.count_nonzero(t[keep][1:] < np.maximum.accumulate(t[keep])[:-1]))
    keep = keep[np.argsort(t[keep], kind="stable")]
    n_invalid, n_duplicate = int(invalid.sum()), int(duplicate.sum())
    if n_invalid or n_duplicate or out_of_order:
        _say(
            log,
            f"{path}: dropped {n_invalid} invalid bar(s) and {n_duplicate} duplicate "
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
) -> Bars:
    """Read, validate and convert one data file to :class:`Bars` (integer points).

    Parquet and CSV: ``time`` (UTC when naive, offsets honoured) and
    ``open/high/low/close`` (+ optional ``tick_volume``, ``spread``). A
    MetaTrader 5 export (detected by its ``<DATE>`` header) is in broker server
    time and needs ``server_tz`` (see :func:`server_to_utc` for daylight saving).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    if server_tz is not None:
        check_server_tz(server_tz, f"{path}: server_tz")
    raw = _read(path, server_tz, log)
    time_ns, prices = _validated(raw, path, drop_invalid, log, MAX_PRICE_POINTS * symbol.point)
    frame = pd.DataFrame(
        {"time": pd.DatetimeIndex(time_ns.astype("datetime64[ns]"), tz="UTC"), **prices}
    )
    return bars_from_frame(frame, symbol, source=str(path), checksum=file_checksum(path))


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


def load_period_bars(
    symbol: str,
    period_name: str,
    data_file: str | None = None,
    cfg: dict[str, Any] | None = None,
    server_tz: str | None = None,
    drop_invalid: bool = False,
    log: Log = None,
) -> Bars:
    """:func:`resolve_data_file` + :func:`load_bars`: the whole file (slice with ``between``)."""
    cfg = cfg or DEFAULTS
    path, sample = resolve_data_file(symbol, period_name, data_file, cfg, log)
    bars = load_bars(path, symbol_spec(symbol, cfg), server_tz, drop_invalid, log)
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
