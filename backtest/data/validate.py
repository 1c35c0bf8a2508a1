"""Raw columns to clean ones: M1 bars only, spec section 1's valid bar, the price bound,
the spread column as ``spread_source`` needs it (spec section 8.1), duplicates and order;
an error naming the file and the first bad row, or (``drop_invalid``) dropped and counted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.core.config import MAX_PRICE_POINTS, SymbolSpec
from backtest.data.files import DataError, Log, say
from backtest.data.readers import PRICES, SPREAD, RawBars

MINUTE_NS = 60_000_000_000
DAY_NS = 24 * 60 * MINUTE_NS
# The median spacing of a file's bars is judged on at least this many pairs of
# consecutive bars within a day (a hand-made file of a few bars is not judged).
MIN_SPACING_PAIRS = 20


def _price_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64) for c in PRICES}


def check_m1(raw: RawBars, path: Path) -> None:
    """Refuse a file that is not M1 bars, whatever ``drop_invalid`` says (dropping rows
    would hide it): every time on a whole minute (:00 seconds), and consecutive bars of
    a day (its UTC date, which keeps the overnight gaps out) a median 60 s apart,
    judged on :data:`MIN_SPACING_PAIRS` pairs or more. Rows whose time is bad are the
    validation's (``RawBars.bad_time``)."""
    assert raw.bad_time is not None, "RawBars.__post_init__ fills it"
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
class Spread:
    """The file's spread column (float, in its own units: MT5 broker points) and the
    rows whose spread makes the bar invalid (none when the run does not use it)."""

    values: np.ndarray
    bad: np.ndarray
    fault: Callable[[int], str]  # what is wrong with row i's spread


def spread_column(
    raw: RawBars, path: Path, symbol: SymbolSpec, max_price: float, log: Log
) -> Spread | None:
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
        say(
            log,
            f"{path}: {np.count_nonzero(bad)} row(s) without a usable spread (first: row {i + 1} "
            f"({raw.time_text(i)}), {fault(i)}); ignored: with spread_source fixed the "
            "file's spread is not used",
            logging.WARNING,
        )
        values[bad] = np.nan
        bad = np.zeros(len(values), dtype=bool)
    return Spread(values, bad, fault)


def _invalid(p: dict[str, np.ndarray], max_price: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        ok = np.ones(len(p["open"]), dtype=bool)
        for c in PRICES:
            ok &= np.isfinite(p[c]) & (p[c] > 0) & (p[c] <= max_price)
        ok &= p["low"] <= np.minimum(p["open"], p["close"])
        ok &= p["high"] >= np.maximum(p["open"], p["close"])
    return ~ok


def _what_is_wrong(
    raw: RawBars,
    p: dict[str, np.ndarray],
    i: int,
    duplicate: np.ndarray,
    max_price: float,
    spread: Spread | None,
) -> str:
    """One phrase for the first bad row ``i``."""
    assert raw.bad_time is not None, "RawBars.__post_init__ fills it"
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


def validated(
    raw: RawBars, path: Path, drop_invalid: bool, log: Log, max_price: float, spread: Spread | None
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
        say(
            log,
            f"{path}: dropped {n_invalid} invalid bar(s){for_spread} and {n_duplicate} duplicate "
            f"timestamp(s); sorted {out_of_order} out-of-order bar(s)",
            logging.WARNING,
        )
    if len(keep) == 0:
        raise DataError(f"{path}: no valid bars left after dropping invalid rows")
    return t[keep], {c: v[keep] for c, v in p.items()}
