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
import operator
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtest.core.config import (
    ConfigError,
    SymbolSpec,
    default_params,
    shown,
    symbol_spec,
)

# The registry is the one list of the parameters (name, kind, column, default, bounds,
# table, EA input, help); this module owns what their values mean and re-exports it.
from backtest.core.param_registry import (
    BY_NAME,
    MAX_PRICE_POINTS,
    Param,
)
from backtest.core.param_registry import FLOAT_PARAMS as FLOAT_PARAMS
from backtest.core.param_registry import PARAM_NAMES as PARAM_NAMES
from backtest.core.param_registry import PARAMS as PARAMS
from backtest.core.param_registry import TABLE_PARAMS as TABLE_PARAMS
from backtest.core.param_registry import TIME_PARAMS as TIME_PARAMS

DIRECTIONS = BY_NAME["direction"].choices
_TIME_VALUES = operator.itemgetter(*TIME_PARAMS)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ParamError(ValueError):
    """A parameter that cannot run; the message names where and which field."""


class TimeOrderError(ParamError):
    """Times out of spec section 2's order; ``relation`` is the broken one
    (``"ib_start < ib_end"``), which a grid can keep with a constraint."""

    def __init__(self, message: str, relation: str):
        super().__init__(message)
        self.relation = relation


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


def check_value(name: str, value: Any, where: str) -> None:
    """One parameter's value on its own: type and range as its registry entry says (spec
    section 2 and the exactness bounds); the relations between parameters are
    :func:`validate_params`'."""
    param = BY_NAME.get(name)
    if param is None:  # an unknown name is check_names' to refuse
        return
    if param.kind == "time":
        parse_hhmm(value, where, name)
    elif param.kind == "float":
        _check_float(param, value, where)
    elif param.kind == "choice":
        if value not in param.choices:
            raise _fail(where, name, f"{shown(value)} is not one of {', '.join(param.choices)}")
    elif param.kind == "int":
        low, high = _bounds(param)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(where, name, f"{shown(value)} must be a whole number from {low} to {high}")
    elif param.kind == "weekdays":
        low, high = _bounds(param)
        if (
            not isinstance(value, list)
            or not value
            or any(
                isinstance(d, bool) or not isinstance(d, int) or not low <= d <= high for d in value
            )
        ):
            problem = f"must be a non-empty list of {low}..{high} (0 = Monday)"
            raise _fail(where, name, f"{shown(value)} {problem}")
        if len(set(value)) < len(value):
            raise _fail(where, name, f"{value!r} names a day twice")
    elif param.kind == "bool" and not isinstance(value, bool):
        raise _fail(where, name, f"{shown(value)} must be true or false")


def _check_float(param: Param, value: Any, where: str) -> None:
    """A finite number within the entry's bounds (``low_open``: the least value refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise _fail(where, param.name, f"{shown(value)} is not a finite number")
    low, high = _bounds(param)
    if value < low or (param.low_open and value == low):
        raise _fail(
            where, param.name, f"{shown(value)} must be {'>' if param.low_open else '>='} {low:g}"
        )
    if value > high:
        raise _fail(where, param.name, f"{shown(value)} must be <= {high:g}")


def _bounds(param: Param) -> tuple[Any, Any]:
    """``(low, high)`` of an entry that has them (numbers, weekdays)."""
    assert param.low is not None and param.high is not None, f"{param.name} has no bounds"
    return param.low, param.high


def check_listed(values: list[Any], label: str) -> None:
    """The values listed for one parameter (a grid axis): at least one, none twice
    (numerically equal values are the same value: ``[1, 1.0]``)."""
    if not values:
        raise ParamError(f"{label}: no values")
    repeated = first_duplicate(values)
    if repeated is not None:
        raise ParamError(
            f"{label}: value {shown(repeated[0])} is listed twice "
            "(numerically equal values are the same value)"
        )


def check_values(name: str, values: list[Any], label: str) -> None:
    """Each value given for parameter ``name`` at ``label`` (``...grid.NAME``) on its own
    (:func:`check_value`); YAML reads an unquoted 09:30 as the number 570, which is said
    instead of a puzzle."""
    if name in TIME_PARAMS:
        for value in values:
            if isinstance(value, int) and not isinstance(value, bool):
                raise ParamError(
                    f'{label}: {value} is not a time HH:MM (quote times in YAML: "09:30")'
                )
    for value in values:
        check_value(name, value, label.rsplit(".", 1)[0])


def validate_params(params: dict[str, Any], where: str = "params") -> None:
    """Check one fully resolved combination: every value (:func:`check_value`), then
    spec section 2's invariants between them."""
    check_names(params, where)
    missing = [p for p in PARAM_NAMES if p not in params]
    if missing:
        raise _fail(where, missing[0], "missing")
    for name in PARAM_NAMES:
        check_value(name, params[name], where)
    check_order(params, where)


def check_order(params: dict[str, Any], where: str, minutes: dict[str, int] | None = None) -> None:
    """Spec section 2's relation between the times of a combination whose values
    passed :func:`check_value`: ``ib_start < ib_end <= trade_end <= close_time``
    (``minutes``: the times already parsed, by value)."""
    parsed = minutes or {}
    minutes = {
        name: parsed.get(params[name]) or parse_hhmm(params[name], where, name)
        for name in TIME_PARAMS
    }
    order = [
        ("ib_start", "ib_end", "<"),
        ("ib_end", "trade_end", "<="),
        ("trade_end", "close_time", "<="),
    ]
    for lo, hi, op in order:
        bad = minutes[lo] >= minutes[hi] if op == "<" else minutes[lo] > minutes[hi]
        if bad:
            problem = _fail(
                where,
                hi,
                f"{params[hi]} breaks {lo} {op} {hi} ({lo} is {params[lo]}); "
                "needed: ib_start < ib_end <= trade_end <= close_time",
            )
            raise TimeOrderError(str(problem), f"{lo} {op} {hi}")


def resolve_params(
    symbol: str, overrides: dict[str, Any], where: str = "params", cfg: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The symbol's defaults overlaid with ``overrides``, validated; a new dict."""
    return Resolver(symbol, cfg, where)(overrides, where)


class Resolver:
    """:func:`resolve_params` for many combinations of one symbol: the defaults and
    each distinct value are checked once, each combination then only for the
    relations between its times (a million combinations in seconds, not minutes)."""

    def __init__(self, symbol: str, cfg: dict[str, Any] | None = None, where: str = "params"):
        self.defaults = default_params(symbol, cfg)
        self.spec = symbol_spec(symbol, cfg)
        self._checked: set[tuple[str, str, str]] = set()
        self._minutes: dict[str, int] = {}
        self._ordered: set[tuple[Any, ...]] = set()  # time values whose order passed
        for name, value in self.defaults.items():
            self.check(name, value, where)

    def check(self, name: str, value: Any, where: str) -> None:
        """One value of one parameter (:func:`check_value`, and points for the IB bounds)."""
        key = (name, type(value).__name__, repr(value))
        if key in self._checked:
            return
        check_value(name, value, where)
        if name in TIME_PARAMS:
            self._minutes[value] = parse_hhmm(value)
        if name in ("min_ib", "max_ib"):
            check_points({name: value}, self.spec, where)
        self._checked.add(key)

    def __call__(
        self, overrides: dict[str, Any], where: str = "params", checked: bool = False
    ) -> dict[str, Any]:
        """The defaults overlaid with ``overrides``, validated; a new dict (lists copied).
        ``checked``: the names and values of ``overrides`` passed :meth:`check` already."""
        if not checked:
            check_names(overrides, where)
            for name, value in overrides.items():
                self.check(name, value, where)
        params = {**self.defaults, **overrides}
        params["weekdays"] = list(params["weekdays"])
        self.check_order(params, where)
        return params

    def check_order(self, params: dict[str, Any], where: str) -> None:
        """:func:`check_order` of a combination whose values passed :meth:`check`, once per
        distinct tuple of time values (the order depends on nothing else): a grid's
        combinations share a few."""
        times = _TIME_VALUES(params)
        if times not in self._ordered:
            check_order(params, where, self._minutes)
            self._ordered.add(times)


def check_points(params: dict[str, Any], symbol: SymbolSpec, where: str) -> None:
    """``min_ib`` / ``max_ib`` (those in ``params``) in points stay at most
    MAX_PRICE_POINTS (so the floor to points is exact)."""
    for name in ("min_ib", "max_ib"):
        if name in params and params[name] / symbol.point > MAX_PRICE_POINTS:
            raise _fail(
                where,
                name,
                f"{shown(params[name])} is more than {MAX_PRICE_POINTS:.0e} points "
                f"of {symbol.point:g}",
            )


def check_config_params(cfg: dict[str, Any], source: str) -> None:
    """Every symbol's parameter defaults in ``cfg`` obey spec section 2, or a
    ConfigError naming ``source`` and ``symbols.NAME.params``."""
    for name in cfg["symbols"]:
        try:
            resolve_params(name, {}, f"{source}: symbols.{name}.params", cfg)
        except ParamError as exc:
            raise ConfigError(str(exc)) from None


def value_key(value: Any) -> Any:
    """A key under which numerically equal values (``1`` and ``1.0``) coincide while
    ``True`` stays apart from ``1`` and strings from numbers."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)  # 1 == 1.0 and hash(1) == hash(1.0)
    if isinstance(value, str):
        return ("str", value)
    return ("other", repr(value))


def first_duplicate(values: list[Any]) -> tuple[Any] | None:
    """``(value,)`` for the first value equal to an earlier one (numerically: ``[1, 1.0]``),
    else None."""
    seen: set[Any] = set()
    for value in values:
        key = value_key(value)
        if key in seen:
            return (value,)
        seen.add(key)
    return None


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
