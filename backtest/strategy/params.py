"""Parameters of one combination: defaults, validation, and the compiled form.

A combination travels as a plain dict (it pickles, it prints, it goes into JSON).
:func:`resolve_params` fills the symbol's defaults and validates; both engines
then read :func:`compile_params`, which turns local times into minutes of the
day and price units into points, so that the two cannot read a parameter
differently.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtest.core.config import SymbolSpec, default_params

PARAM_NAMES = (
    "ib_start",
    "ib_end",
    "trade_end",
    "close_time",
    "direction",
    "entry_buffer",
    "sl_mult",
    "tp_mult",
    "min_ib",
    "max_ib",
    "max_trades_per_day",
    "weekdays",
    "news_filter",
    "news_before",
    "news_after",
)
TIME_PARAMS = ("ib_start", "ib_end", "trade_end", "close_time")
FLOAT_PARAMS = (
    "entry_buffer",
    "sl_mult",
    "tp_mult",
    "min_ib",
    "max_ib",
    "news_before",
    "news_after",
)
DIRECTIONS = ("both", "long", "short")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ParamError(ValueError):
    """A parameter that cannot run; the message names where and which field."""


def parse_hhmm(value: Any, where: str = "", name: str = "") -> int:
    """``"HH:MM"`` as minutes after local midnight."""
    match = _HHMM.match(value) if isinstance(value, str) else None
    if not match:
        raise ParamError(f"{where}: parameter '{name}': {value!r} is not a time HH:MM")
    return int(match.group(1)) * 60 + int(match.group(2))


def _fail(where: str, name: str, problem: str) -> ParamError:
    return ParamError(f"{where}: parameter '{name}': {problem}")


def check_names(params: dict[str, Any], where: str) -> None:
    """Reject unknown names: a typo must not silently run the default."""
    for name in params:
        if name not in PARAM_NAMES:
            close = difflib.get_close_matches(str(name), PARAM_NAMES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise _fail(where, name, f"unknown parameter{hint}; known: {', '.join(PARAM_NAMES)}")


def validate_params(params: dict[str, Any], where: str = "params") -> None:
    """Check one fully resolved combination against spec section 2's invariants."""
    check_names(params, where)
    missing = [p for p in PARAM_NAMES if p not in params]
    if missing:
        raise _fail(where, missing[0], "missing")
    minutes = {name: parse_hhmm(params[name], where, name) for name in TIME_PARAMS}
    for name in FLOAT_PARAMS:
        value = params[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise _fail(where, name, f"{value!r} is not a finite number")
        if value < 0:
            raise _fail(where, name, f"{value!r} must be >= 0")
    if params["sl_mult"] <= 0:
        raise _fail(where, "sl_mult", f"{params['sl_mult']!r} must be > 0")
    if params["direction"] not in DIRECTIONS:
        raise _fail(
            where, "direction", f"{params['direction']!r} is not one of {', '.join(DIRECTIONS)}"
        )
    mtpd = params["max_trades_per_day"]
    if isinstance(mtpd, bool) or not isinstance(mtpd, int) or mtpd < 1:
        raise _fail(where, "max_trades_per_day", f"{mtpd!r} must be a whole number >= 1")
    days = params["weekdays"]
    if (
        not isinstance(days, list)
        or not days
        or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days)
    ):
        raise _fail(where, "weekdays", f"{days!r} must be a non-empty list of 0..6 (0 = Monday)")
    if not isinstance(params["news_filter"], bool):
        raise _fail(where, "news_filter", f"{params['news_filter']!r} must be true or false")
    order = [
        ("ib_start", "ib_end", "<"),
        ("ib_end", "trade_end", "<="),
        ("trade_end", "close_time", "<="),
    ]
    for lo, hi, op in order:
        bad = minutes[lo] >= minutes[hi] if op == "<" else minutes[lo] > minutes[hi]
        if bad:
            raise _fail(
                where,
                hi,
                f"{params[hi]} breaks {lo} {op} {hi} ({lo} is {params[lo]}); "
                "needed: ib_start < ib_end <= trade_end <= close_time",
            )


def resolve_params(
    symbol: str, overrides: dict[str, Any], where: str = "params", cfg: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The symbol's defaults overlaid with ``overrides``, validated; a new dict."""
    check_names(overrides, where)
    params = default_params(symbol, cfg)
    params.update(overrides)
    if isinstance(params.get("weekdays"), tuple):
        params["weekdays"] = list(params["weekdays"])
    validate_params(params, where)
    return params


def distance_points(mult: float | np.ndarray, ib: int | np.ndarray) -> np.ndarray:
    """``dist(m) = floor(m × IB + 0.5)`` in float64 (spec section 3.2), as int64."""
    return np.floor(np.float64(mult) * np.asarray(ib, dtype=np.float64) + 0.5).astype(np.int64)


@dataclass(frozen=True)
class CompiledParams:
    """A combination in the units the engines compare: minutes and points."""

    ib_start: int
    ib_end: int
    trade_end: int
    close_time: int
    allow_long: bool
    allow_short: bool
    entry_buffer: float
    sl_mult: float
    tp_mult: float
    min_ib: int  # points
    max_ib: int  # points, 0 = no upper bound
    max_trades_per_day: int
    weekday_mask: tuple[bool, ...]  # index 0 = Monday
    news_filter: bool
    news_before_ns: int
    news_after_ns: int


def compile_params(params: dict[str, Any], symbol: SymbolSpec) -> CompiledParams:
    """Minutes of the local day and integer points for a resolved combination."""
    minute_ns = 60 * 1_000_000_000
    return CompiledParams(
        ib_start=parse_hhmm(params["ib_start"]),
        ib_end=parse_hhmm(params["ib_end"]),
        trade_end=parse_hhmm(params["trade_end"]),
        close_time=parse_hhmm(params["close_time"]),
        allow_long=params["direction"] in ("both", "long"),
        allow_short=params["direction"] in ("both", "short"),
        entry_buffer=float(params["entry_buffer"]),
        sl_mult=float(params["sl_mult"]),
        tp_mult=float(params["tp_mult"]),
        min_ib=symbol.to_points(params["min_ib"]),
        max_ib=symbol.to_points(params["max_ib"]),
        max_trades_per_day=int(params["max_trades_per_day"]),
        weekday_mask=tuple(d in params["weekdays"] for d in range(7)),
        news_filter=bool(params["news_filter"]),
        news_before_ns=int(round(float(params["news_before"]) * minute_ns)),
        news_after_ns=int(round(float(params["news_after"]) * minute_ns)),
    )
