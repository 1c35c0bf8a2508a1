"""One place for symbols, periods and run defaults.

Everything here can be overridden without editing code: a YAML file given by
``--config``, by the ``IBSWEEP_CONFIG`` environment variable, or ``ibsweep.yaml``
at the repository root, is deep-merged over :data:`DEFAULTS`.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

_WEEKDAYS = [0, 1, 2, 3, 4]
# The spec's parameter defaults that both symbols share (ib-strategy.md section 2); the
# session times differ per symbol.
_SPEC_PARAMS: dict[str, Any] = {
    "direction": "both",
    "entry_buffer": 0.0,
    "sl_mult": 1.0,
    "tp_mult": 1.0,
    "min_ib": 0.0,
    "max_ib": 0.0,
    "max_trades_per_day": 1,
    "weekdays": _WEEKDAYS,
    "news_filter": False,
    "news_before": 15,
    "news_after": 15,
}

# Execution settings of spec section 8, the same defaults for every symbol
# (``spread_unit`` None: the symbol's ``point``).
SPREAD_MODELS = ("bid_ask", "cost")
SPREAD_SOURCES = ("fixed", "data")
_SPEC_EXECUTION: dict[str, Any] = {
    "spread_model": "bid_ask",
    "spread_source": "fixed",
    "spread_unit": None,
    "slippage": 0.0,
}
# What a run recorded before spec section 8 did: the spread charged once, on the bid.
LEGACY_EXECUTION: dict[str, Any] = {**_SPEC_EXECUTION, "spread_model": "cost"}

MAX_DATA_ROWS = 10_000_000

DEFAULTS: dict[str, Any] = {
    "symbols": {
        "GER40": {
            "timezone": "Europe/Berlin",
            "currencies": ["EUR"],
            "point": 0.01,
            "value_per_point": 1.0,
            "volume_min": 0.01,
            "volume_step": 0.01,
            "spread": 1.0,
            "commission": 0.0,
            **_SPEC_EXECUTION,
            # Local trading hours, used by the sample-data generator.
            "session": [["01:15", "22:00"]],
            "base_price": 16000.0,
            "params": {
                "ib_start": "09:00",
                "ib_end": "10:00",
                "trade_end": "17:30",
                "close_time": "22:00",
                **_SPEC_PARAMS,
            },
        },
        "XAUUSD": {
            "timezone": "Europe/London",
            "currencies": ["USD"],
            "point": 0.01,
            "value_per_point": 100.0,
            "volume_min": 0.01,
            "volume_step": 0.01,
            "spread": 0.20,
            "commission": 0.0,
            **_SPEC_EXECUTION,
            "session": [["01:00", "23:00"]],
            "base_price": 1900.0,
            "params": {
                "ib_start": "08:00",
                "ib_end": "09:00",
                "trade_end": "16:30",
                "close_time": "22:00",
                **_SPEC_PARAMS,
            },
        },
    },
    "periods": {
        "in_sample": {
            "start_date": "2023-01-01",
            "end_date": "2025-10-31",
            "data_file": "data/{symbol}_M1_in_sample.parquet",
        },
        "control": {
            "start_date": "2025-11-04",
            "end_date": "2026-01-20",
            "data_file": "data/{symbol}_M1_control.parquet",
        },
    },
    "run": {
        "risk": 1000.0,
        "account_size": 100000.0,
        "daily_loss_limit_pct": 5.0,
        "max_loss_limit_pct": 10.0,
        "sample_seed": 42,
        "sample_dir": "data/sample",
        # Default root of the runner's output folders (relative: to the repository).
        "output_root": "backtest/output",
        # Most combinations (before constraints) one run may hold (issue 9: bounds).
        "max_combinations": 10_000_000,
        # Most rows one data file may hold: over 25 years of weekday 24-hour M1 bars.
        "max_data_rows": MAX_DATA_ROWS,
    },
    # The prop firm's limits that `invoke promote` checks (The5ers; sources, dates and
    # which numbers are assumptions: docs/PRODUCTION.md).
    "prop_firm": {
        "name": "The5ers",
        "risk_per_trade_max_pct": 1.0,
        "daily_loss_pct": 5.0,
        "max_loss_pct": 10.0,
        # The smallest stop the parameters allow must be at least this many times the
        # round-trip costs (spread + commission): a stopped trade loses <= 1.1 x risk.
        "stop_min_cost_multiple": 10.0,
        # Minutes before and after a high-impact event in which no order may be executed.
        "news_window_min": 2,
    },
    # `invoke promote` / `invoke preflight` (docs/PRODUCTION.md).
    "promote": {
        "min_trades_in_sample": 100,
        "min_trades_control": 30,
        "news_horizon_days": 14,
        "env_file": ".env",
        "env_account": "ACCOUNT_TYPE",  # DEMO or REAL
        "env_news_file": "NEWS_FILE",  # the news CSV the bot reads (relative: to the bot)
        # ibsweep name -> the Expert Advisor's input name in the .set file.
        "set_inputs": {
            "ib_start": "InpIbStart",
            "ib_end": "InpIbEnd",
            "trade_end": "InpTradeEnd",
            "close_time": "InpCloseTime",
            "direction": "InpDirection",
            "entry_buffer": "InpEntryBuffer",
            "sl_mult": "InpSlMult",
            "tp_mult": "InpTpMult",
            "min_ib": "InpMinIb",
            "max_ib": "InpMaxIb",
            "max_trades_per_day": "InpMaxTradesPerDay",
            "weekdays": "InpWeekdays",
            "news_filter": "InpNewsFilter",
            "news_before": "InpNewsBefore",
            "news_after": "InpNewsAfter",
            "risk": "InpRisk",
        },
    },
}

# Largest price, in points, that a bar or a price parameter may reach: every product
# of a multiplier (at most MAX_MULT) and a distance stays below 2**53 (exact in
# float64) and far inside int64 (docs/READINGS.md, reading 16).
MAX_PRICE_POINTS = 10**12


class ConfigError(ValueError):
    """A configuration file or value that cannot be used."""


@dataclass(frozen=True)
class SymbolSpec:
    """Everything about one symbol that a backtest needs (spec section 5)."""

    name: str
    timezone: str
    currencies: tuple[str, ...]
    point: float
    value_per_point: float
    volume_min: float
    volume_step: float
    spread: float
    commission: float
    # Execution (spec section 8): how the spread reaches the prices, and slippage.
    spread_model: str = "bid_ask"  # "bid_ask" | "cost"
    spread_source: str = "fixed"  # "fixed" | "data"
    spread_unit: float | None = None  # price of one unit of the data's spread; None = point
    slippage: float = 0.0  # price units, worsens the two stop fills

    def to_points(self, price_units: float) -> int:
        """A distance in price units as whole points: ``floor(x / point + 0.5)``."""
        import math

        return int(math.floor(price_units / self.point + 0.5))

    @property
    def digits(self) -> int:
        """The decimals of ``point`` (spec section 1): prices in outputs are rounded to it."""
        import decimal

        exponent = decimal.Decimal(repr(self.point)).normalize().as_tuple().exponent
        if not isinstance(exponent, int):  # 'n'/'N'/'F': NaN or infinity
            raise ConfigError(f"symbol '{self.name}': point {self.point} is not a finite number")
        return max(0, -exponent)

    @property
    def spread_points(self) -> int:
        return self.to_points(self.spread)

    @property
    def commission_points(self) -> int:
        return self.to_points(self.commission)

    @property
    def slippage_points(self) -> int:
        """``p`` of spec section 8.5."""
        return self.to_points(self.slippage)

    @property
    def bid_ask(self) -> bool:
        """Whether buys trigger and fill on the ask path (spec section 8.3)."""
        return self.spread_model == "bid_ask"

    @property
    def charged_points(self) -> int:
        """Points taken off every trade's ``dir × (exit - fill)``: commission, plus the
        fixed spread in the ``cost`` model (in ``bid_ask`` the spread is in the prices)."""
        return self.commission_points + (0 if self.bid_ask else self.spread_points)

    @property
    def unit_of_spread(self) -> float:
        """The price of one unit of the data's ``spread`` column (default: ``point``)."""
        return self.point if self.spread_unit is None else self.spread_unit

    def as_dict(self) -> dict[str, Any]:
        """The costs and symbol settings a run used, as recorded in its metadata
        (``symbol_settings``; the name is recorded beside it)."""
        return {
            "spread": self.spread,
            "commission": self.commission,
            "point": self.point,
            "value_per_point": self.value_per_point,
            "volume_min": self.volume_min,
            "volume_step": self.volume_step,
            "timezone": self.timezone,
            "currencies": list(self.currencies),
            **self.execution(),
        }

    @classmethod
    def from_dict(cls, name: str, raw: dict[str, Any]) -> SymbolSpec:
        """A symbol from its settings (a config's symbol section or a run's recorded
        ``symbol_settings``). Execution settings that are absent read as what every run
        did before spec section 8: the ``cost`` model, fixed spread, no slippage
        (:data:`LEGACY_EXECUTION`)."""
        execution = {**LEGACY_EXECUTION, **{k: raw[k] for k in LEGACY_EXECUTION if k in raw}}
        return cls(
            name=name,
            timezone=raw["timezone"],
            currencies=tuple(str(c).upper() for c in raw["currencies"]),
            point=float(raw["point"]),
            value_per_point=float(raw["value_per_point"]),
            volume_min=float(raw["volume_min"]),
            volume_step=float(raw["volume_step"]),
            spread=float(raw["spread"]),
            commission=float(raw["commission"]),
            spread_model=str(execution["spread_model"]),
            spread_source=str(execution["spread_source"]),
            spread_unit=float(
                raw["point"] if execution["spread_unit"] is None else execution["spread_unit"]
            ),
            slippage=float(execution["slippage"]),
        )

    def with_execution(self, overrides: dict[str, Any], where: str = "run option") -> SymbolSpec:
        """This symbol with execution settings overridden (``None`` values: kept), checked
        together as a config's are (spec section 8)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        check_execution({**self.execution(), **given}, where)
        return SymbolSpec.from_dict(self.name, {**self.as_dict(), **given})

    def execution(self) -> dict[str, Any]:
        """The execution settings as recorded in every output (spec section 8)."""
        return {
            "spread_model": self.spread_model,
            "spread_source": self.spread_source,
            "spread_unit": self.unit_of_spread,
            "slippage": self.slippage,
        }


@dataclass(frozen=True)
class Period:
    """A named date range (inclusive, in trading days) and its data file."""

    name: str
    start_date: str
    end_date: str
    data_file: str  # may contain ``{symbol}``

    def data_path(self, symbol: str) -> Path:
        path = Path(self.data_file.format(symbol=symbol))
        return path if path.is_absolute() else REPO_ROOT / path


def _deep_merge(base: dict, override: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value, f"{where}.{key}")
        else:
            out[key] = copy.deepcopy(value)
    return out


def config_path(path: str | os.PathLike | None = None) -> Path | None:
    """The override file in force: explicit path, $IBSWEEP_CONFIG, or ./ibsweep.yaml."""
    if path:
        return Path(path)
    env = os.environ.get("IBSWEEP_CONFIG")
    if env:
        return Path(env)
    default = REPO_ROOT / "ibsweep.yaml"
    return default if default.exists() else None


def read_yaml_mapping(file: Path, error: type[Exception]) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (empty file: ``{}``); else ``error``
    naming the file."""
    try:
        raw = yaml.safe_load(file.read_text()) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{file}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise error(f"{file}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise error(f"{file}: nested too deeply to be a settings file") from None
    except (ValueError, TypeError) as exc:  # a value YAML cannot build (2026-13-01)
        raise error(f"{file}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict):
        raise error(f"{file}: top level must be a mapping")
    return raw


def load_config(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """DEFAULTS deep-merged with the override file (see :func:`config_path`)."""
    file = config_path(path)
    if file is None:
        return copy.deepcopy(DEFAULTS)
    if not file.is_file():
        problem = "is a directory, not a config file" if file.is_dir() else "config file not found"
        raise ConfigError(f"{file}: {problem}")
    override = read_yaml_mapping(file, ConfigError)
    for key in override:
        if key not in DEFAULTS:
            raise ConfigError(
                f"{file}: unknown section '{key}'{did_you_mean(str(key), DEFAULTS)} "
                f"(known: {', '.join(DEFAULTS)})"
            )
    return validate_config(_deep_merge(DEFAULTS, override, str(file)), str(file))


def symbol_names(cfg: dict[str, Any] | None = None) -> list[str]:
    return list((cfg or DEFAULTS)["symbols"])


def symbol_spec(name: str, cfg: dict[str, Any] | None = None) -> SymbolSpec:
    """The :class:`SymbolSpec` of ``name``; an unknown symbol is a ConfigError."""
    cfg = cfg or DEFAULTS
    try:
        raw = cfg["symbols"][name]
    except KeyError:
        raise ConfigError(f"unknown symbol '{name}' (known: {', '.join(cfg['symbols'])})") from None
    return SymbolSpec.from_dict(name, {**_SPEC_EXECUTION, **raw})


def recorded_execution(symbol_settings: Any) -> dict[str, Any]:
    """The execution settings (spec section 8) a run recorded in its ``symbol_settings``;
    a run recorded before them ran the ``cost`` model with the fixed spread and no
    slippage, which ``assumed: True`` says (readers show it)."""
    saved = symbol_settings if isinstance(symbol_settings, dict) else {}
    missing = [k for k in LEGACY_EXECUTION if k not in saved]
    out = {k: saved.get(k, LEGACY_EXECUTION[k]) for k in LEGACY_EXECUTION}
    if out["spread_unit"] is None and isinstance(saved.get("point"), (int, float)):
        out["spread_unit"] = saved["point"]
    return {**out, "assumed": bool(missing)}


def execution_text(execution: dict[str, Any]) -> str:
    """One line for headers and captions: ``bid_ask, spread fixed, slippage 0.5``."""
    source = execution["spread_source"]
    if source == "data":
        source = f"data x {execution['spread_unit']:g}"
    text = f"{execution['spread_model']}, spread {source}, slippage {execution['slippage']:g}"
    return text + (
        " (not recorded: a run from before execution models)" if execution.get("assumed") else ""
    )


def with_execution(
    cfg: dict[str, Any], name: str, overrides: dict[str, Any], where: str = "run option"
) -> dict[str, Any]:
    """``cfg`` with symbol ``name``'s execution settings (spec section 8) overridden for
    one run (``None`` values: keep the config's); checked together, so ``--spread-source
    data`` on a ``cost`` symbol is refused. ``where`` names the options in errors."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return cfg
    symbol_spec(name, cfg)  # an unknown symbol is a ConfigError
    merged = {**_SPEC_EXECUTION, **cfg["symbols"][name], **given}
    check_execution(merged, f"{where} ({', '.join('--' + k.replace('_', '-') for k in given)})")
    out = copy.copy(cfg)
    out["symbols"] = {**cfg["symbols"], name: merged}
    return out


def default_params(name: str, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The symbol's parameter defaults (spec section 2), a fresh copy."""
    cfg = cfg or DEFAULTS
    symbol_spec(name, cfg)  # raises on an unknown symbol
    params = dict(cfg["symbols"][name]["params"])
    params["weekdays"] = list(params["weekdays"])  # the only mutable value
    return params


def period(name: str, cfg: dict[str, Any] | None = None) -> Period:
    cfg = cfg or DEFAULTS
    try:
        raw = cfg["periods"][name]
    except KeyError:
        raise ConfigError(f"unknown period '{name}' (known: {', '.join(cfg['periods'])})") from None
    return Period(name, str(raw["start_date"]), str(raw["end_date"]), str(raw["data_file"]))


# --- strict validation of a merged configuration ------------------------------------

# Keys every symbol needs; a symbol that is not built in must give them all.
SYMBOL_REQUIRED = (
    "timezone",
    "currencies",
    "point",
    "value_per_point",
    "volume_min",
    "volume_step",
    "spread",
    "commission",
    "params",
)
# Optional: a symbol without them takes the spec's execution defaults (section 8).
SYMBOL_EXECUTION_KEYS = tuple(_SPEC_EXECUTION)
# The broker server clock of the symbol's MT5 exports (an IANA zone or broker:NY+H),
# used when no --server-tz is given; checked where it is used (backtest.data.loaders).
SYMBOL_CLOCK_KEYS = ("server_tz",)
# Used only by the sample-data generator (a symbol without them has no sample data).
SYMBOL_SAMPLE_KEYS = ("session", "base_price", "cash_opens")
# The parameters a new symbol must name; the others take the spec's defaults, which
# are the same for every built-in symbol (ib-strategy.md, section 2).
SYMBOL_TIME_PARAMS = ("ib_start", "ib_end", "trade_end", "close_time")
GENERIC_PARAMS: dict[str, Any] = {
    k: v for k, v in DEFAULTS["symbols"]["GER40"]["params"].items() if k not in SYMBOL_TIME_PARAMS
}
PERIOD_KEYS = ("start_date", "end_date", "data_file")
RUN_KEYS = tuple(DEFAULTS["run"])
_SYMBOL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def did_you_mean(name: str, known: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or ``""``."""
    close = difflib.get_close_matches(name, [str(k) for k in known], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)``, shortened when long (a 400-digit integer is not echoed whole)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, int):
        return f"{text[:12]}... (an integer of {len(text.lstrip('-'))} digits)"
    return f"{text[: limit - 3]}..."


def check_timezone(name: Any, where: str) -> str:
    """``name`` when it is an IANA time zone (``Europe/Berlin``), else ConfigError.

    The suggestion never changes the offset the user typed: ``UTC+2`` is answered with
    ``Etc/GMT-2`` (POSIX inverts the sign), not with ``UTC``; a name carrying an offset
    that no zone has, or a sign that is unclear, gets no zone but the rule; and a close
    name is suggested only among zones without an offset in their name."""
    if isinstance(name, str) and name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    rule = "POSIX inverts the sign: Etc/GMT-2 is UTC+2, Etc/GMT+2 is UTC-2"
    hint = ""
    if isinstance(name, str):
        typed = re.match(
            r"^\s*(Etc/)?(?:UTC|GMT|Z)?\s*([+-])\s*(\d{1,2})(?::?(\d\d))?\s*$", name, re.I
        )
        if typed:
            posix, sign, hours, minutes = typed.groups()
            east = (sign == "+") != bool(posix)  # Etc/GMT+2 means UTC-2
            offset = f"UTC{'+' if east else '-'}{int(hours)}" + (
                f":{minutes}" if minutes and minutes != "00" else ""
            )
            whole = (minutes or "00") == "00"
            if whole and -12 <= (int(hours) if east else -int(hours)) <= 14:
                fixed = "UTC" if int(hours) == 0 else f"Etc/GMT{'-' if east else '+'}{int(hours)}"
                hint = f" (a fixed {offset} is '{fixed}'; {rule})"
            else:
                place = "" if whole else "; name the place instead, e.g. Asia/Kolkata"
                hint = (
                    f" (no IANA zone is a fixed {offset}: fixed zones are whole hours, "
                    f"Etc/GMT-14 .. Etc/GMT+12, and {rule}{place})"
                )
        elif re.search(r"(UTC|GMT)\s*[+-]?\s*\d", name, re.I):
            hint = f" (fixed offsets are written Etc/GMT-2 for UTC+2: {rule})"
        else:
            plain = [z for z in available_timezones() if not re.search(r"\d", z)]
            hint = did_you_mean(name, sorted(plain))
    raise ConfigError(f"{where}: {shown(name)} is not an IANA time zone{hint} (e.g. Europe/Berlin)")


def check_number(
    value: Any,
    where: str,
    low: float = 0.0,
    *,
    low_open: bool = True,
    high: float | None = None,
    high_open: bool = False,
    whole: bool = False,
) -> float:
    """A finite number (not a boolean, not a string) in the given range, as float.

    The range is checked before any float conversion, so an integer of 400 digits is
    "out of range", not an overflow.
    """
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise ConfigError(f"{where}: {shown(value)} is not {kind}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {shown(value)} is not a finite number")
    if value < low or (low_open and value == low):
        raise ConfigError(f"{where}: {shown(value)} must be {'>' if low_open else '>='} {low:g}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ConfigError(f"{where}: {shown(value)} must be {'<' if high_open else '<='} {high:g}")
    return float(value)


def _mapping(value: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a mapping of {what} (got {shown(value)})")
    return value


def _known_keys(section: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in section:
        if key not in known:
            raise ConfigError(
                f"{where}.{key}: unknown key{did_you_mean(str(key), known)}; "
                f"known: {', '.join(known)}"
            )


def _check_hhmm(value: Any, where: str) -> None:
    if not (isinstance(value, str) and _HHMM.match(value)):
        raise ConfigError(f"{where}: {value!r} is not a time HH:MM (quote it in YAML)")


def _check_symbol(name: str, raw: Any, where: str, built_in: bool) -> None:
    raw = _mapping(raw, where, "symbol settings")
    _known_keys(
        raw, SYMBOL_REQUIRED + SYMBOL_EXECUTION_KEYS + SYMBOL_CLOCK_KEYS + SYMBOL_SAMPLE_KEYS, where
    )
    if raw.get("server_tz") is not None and not isinstance(raw["server_tz"], str):
        raise ConfigError(
            f"{where}.server_tz: {shown(raw['server_tz'])} must be a time zone name "
            "(Europe/Athens, Etc/GMT-2 or broker:NY+7)"
        )
    missing = [k for k in SYMBOL_REQUIRED if k not in raw]
    params = raw.get("params")
    if isinstance(params, dict) and not built_in:
        missing += [f"params.{p}" for p in SYMBOL_TIME_PARAMS if p not in params]
    if missing:
        raise ConfigError(f"{where}: new symbol '{name}' is missing: {', '.join(missing)}")
    check_timezone(raw["timezone"], f"{where}.timezone")
    currencies = raw["currencies"]
    if (
        not isinstance(currencies, list)
        or not currencies
        or not all(isinstance(c, str) and _CURRENCY.match(c) for c in currencies)
    ):
        raise ConfigError(
            f"{where}.currencies: {currencies!r} must be a list of 3-letter codes, e.g. [EUR]"
        )
    for key in ("point", "value_per_point", "volume_min", "volume_step"):
        check_number(raw[key], f"{where}.{key}")
    for key in ("spread", "commission"):
        check_number(raw[key], f"{where}.{key}", low_open=False)
    for key, value in _SPEC_EXECUTION.items():
        raw.setdefault(key, value)
    check_execution(raw, where)
    params = _mapping(params, f"{where}.params", "parameter: default value")
    _known_keys(params, tuple(DEFAULTS["symbols"]["GER40"]["params"]), f"{where}.params")
    if not built_in:
        raw["params"] = {**GENERIC_PARAMS, **params}
    if "base_price" in raw:
        check_number(raw["base_price"], f"{where}.base_price")
    session = raw.get("session", [])
    if not isinstance(session, list) or not all(
        isinstance(s, list) and len(s) == 2 for s in session
    ):
        raise ConfigError(f"{where}.session: {session!r} must be a list of [HH:MM, HH:MM]")
    for i, span in enumerate(session):
        for value in span:
            _check_hhmm(value, f"{where}.session[{i}]")
    opens = raw.get("cash_opens", [])
    if not isinstance(opens, list):
        raise ConfigError(f"{where}.cash_opens: {opens!r} must be a list of HH:MM")
    for i, value in enumerate(opens):
        _check_hhmm(value, f"{where}.cash_opens[{i}]")


def check_execution(raw: dict[str, Any], where: str) -> None:
    """The execution settings of spec section 8 (a symbol's, or a run's overrides of
    them): known names, ``spread_unit > 0``, ``slippage >= 0``, and no ``cost`` model
    with the data's spread (``cost`` charges the fixed spread only)."""
    for key, known in (("spread_model", SPREAD_MODELS), ("spread_source", SPREAD_SOURCES)):
        if key in raw and raw[key] not in known:
            raise ConfigError(
                f"{where}.{key}: {shown(raw[key])} is not one of {', '.join(known)}"
                f"{did_you_mean(str(raw[key]), known)}"
            )
    if raw.get("spread_unit") is not None:
        check_number(raw["spread_unit"], f"{where}.spread_unit")
    if "slippage" in raw:
        check_number(raw["slippage"], f"{where}.slippage", low_open=False, high=1e9)
    if raw.get("spread_model") == "cost" and raw.get("spread_source") == "data":
        raise ConfigError(
            f"{where}.spread_source: 'data' needs spread_model bid_ask "
            "(the cost model charges the fixed spread only; ib-strategy.md section 8)"
        )


def _check_date(value: Any, where: str) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date YYYY-MM-DD") from None


def _check_period(raw: Any, where: str) -> None:
    raw = _mapping(raw, where, "period settings")
    _known_keys(raw, PERIOD_KEYS, where)
    missing = [k for k in PERIOD_KEYS if k not in raw]
    if missing:
        raise ConfigError(f"{where}: new period is missing: {', '.join(missing)}")
    start = _check_date(raw["start_date"], f"{where}.start_date")
    end = _check_date(raw["end_date"], f"{where}.end_date")
    if start > end:
        raise ConfigError(f"{where}: start_date {start} is after end_date {end}")
    data_file = raw["data_file"]
    try:
        if not isinstance(data_file, str) or not data_file:
            raise ValueError
        data_file.format(symbol="S")
    except (ValueError, KeyError, IndexError):
        raise ConfigError(
            f"{where}.data_file: {data_file!r} must be a path (may contain {{symbol}})"
        ) from None


def _check_run(raw: Any, where: str) -> None:
    raw = _mapping(raw, where, "run settings")
    _known_keys(raw, RUN_KEYS, where)
    for key in ("risk", "account_size"):
        check_number(raw[key], f"{where}.{key}", high=1e12)
    for key in ("daily_loss_limit_pct", "max_loss_limit_pct"):
        check_number(raw[key], f"{where}.{key}", high=100.0)
    check_number(raw["sample_seed"], f"{where}.sample_seed", low_open=False, whole=True)
    check_number(raw["max_combinations"], f"{where}.max_combinations", whole=True)
    check_number(raw["max_data_rows"], f"{where}.max_data_rows", whole=True)
    for key in ("sample_dir", "output_root"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise ConfigError(f"{where}.{key}: {raw[key]!r} must be a folder path")


def validate_config(cfg: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Check a merged configuration strictly; ``cfg`` (new symbols' parameters filled
    with the spec's defaults), or a ConfigError of one line naming ``source`` and the
    key: unknown keys (with "did you mean"), types, ranges, IANA zones, and every
    key that a new symbol or period is missing."""
    symbols = _mapping(cfg["symbols"], f"{source}: symbols", "symbol name: settings")
    for name, raw in symbols.items():
        if not (isinstance(name, str) and _SYMBOL_NAME.match(name)):
            raise ConfigError(
                f"{source}: symbols: {shown(name)} is not a symbol name "
                "(letters, digits, '.', '_' and '-', starting with a letter or digit: "
                "it becomes part of file names)"
            )
        built_in = name in DEFAULTS["symbols"]
        _check_symbol(str(name), raw, f"{source}: symbols.{name}", built_in)
    periods = _mapping(cfg["periods"], f"{source}: periods", "period name: settings")
    for name, raw in periods.items():
        _check_period(raw, f"{source}: periods.{name}")
    _check_run(cfg["run"], f"{source}: run")
    _check_prop_firm(cfg["prop_firm"], f"{source}: prop_firm")
    _check_promote(cfg["promote"], f"{source}: promote")
    return cfg


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_identifier(value: Any, where: str) -> None:
    if not (isinstance(value, str) and _IDENTIFIER.match(value)):
        raise ConfigError(f"{where}: {shown(value)} must be a name of letters, digits and _")


def _check_prop_firm(raw: Any, where: str) -> None:
    raw = _mapping(raw, where, "prop-firm limits")
    _known_keys(raw, tuple(DEFAULTS["prop_firm"]), where)
    if not isinstance(raw["name"], str) or not raw["name"]:
        raise ConfigError(f"{where}.name: {raw['name']!r} must be a name")
    for key in ("risk_per_trade_max_pct", "daily_loss_pct", "max_loss_pct"):
        check_number(raw[key], f"{where}.{key}", high=100.0)
    check_number(raw["stop_min_cost_multiple"], f"{where}.stop_min_cost_multiple", low_open=False)
    check_number(raw["news_window_min"], f"{where}.news_window_min", low_open=False, whole=True)


def _check_promote(raw: Any, where: str) -> None:
    raw = _mapping(raw, where, "promotion settings")
    _known_keys(raw, tuple(DEFAULTS["promote"]), where)
    for key in ("min_trades_in_sample", "min_trades_control"):
        check_number(raw[key], f"{where}.{key}", low_open=False, whole=True)
    check_number(raw["news_horizon_days"], f"{where}.news_horizon_days", whole=True, high=366)
    if not isinstance(raw["env_file"], str) or not raw["env_file"]:
        raise ConfigError(f"{where}.env_file: {raw['env_file']!r} must be a file name")
    for key in ("env_account", "env_news_file"):
        _check_identifier(raw[key], f"{where}.{key}")
    inputs = _mapping(raw["set_inputs"], f"{where}.set_inputs", "ibsweep name: EA input name")
    _known_keys(inputs, tuple(DEFAULTS["promote"]["set_inputs"]), f"{where}.set_inputs")
    seen: dict[str, str] = {}
    for key, name in inputs.items():
        _check_identifier(name, f"{where}.set_inputs.{key}")
        if name in seen:
            raise ConfigError(
                f"{where}.set_inputs.{key}: {name!r} is already the input of {seen[name]}"
            )
        seen[name] = key
