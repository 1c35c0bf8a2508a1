"""One place for symbols, periods and run defaults.

Everything here can be overridden without editing code: a YAML file given by
``--config``, by the ``IBSWEEP_CONFIG`` environment variable, or ``ibsweep.yaml``
at the repository root, is deep-merged over :data:`DEFAULTS`.

Beside it in core: the strategy's parameters (``param_registry``: the symbols' shared
parameter defaults, the known parameter names and the EA inputs are read from it), a
symbol's model and execution settings (``symbols``) and the checks of one value
(``checks``); the names readers import from here are re-exported.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Re-exported (``as``): the configuration's readers import these from here.
from backtest.core.checks import ConfigError as ConfigError
from backtest.core.checks import check_hhmm, known_keys, mapping
from backtest.core.checks import check_number as check_number
from backtest.core.checks import check_timezone as check_timezone
from backtest.core.checks import did_you_mean as did_you_mean
from backtest.core.checks import shown as shown
from backtest.core.param_registry import MAX_PRICE_POINTS as MAX_PRICE_POINTS
from backtest.core.param_registry import PARAM_NAMES, PARAMS, SYMBOL_PARAMS, spec_defaults
from backtest.core.symbols import LEGACY_EXECUTION as LEGACY_EXECUTION
from backtest.core.symbols import SPEC_EXECUTION
from backtest.core.symbols import SPREAD_MODELS as SPREAD_MODELS
from backtest.core.symbols import SPREAD_SOURCES as SPREAD_SOURCES
from backtest.core.symbols import SymbolSpec as SymbolSpec
from backtest.core.symbols import check_execution as check_execution
from backtest.core.symbols import execution_text as execution_text
from backtest.core.symbols import recorded_execution as recorded_execution

REPO_ROOT = Path(__file__).resolve().parents[2]

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
            **SPEC_EXECUTION,
            # Local trading hours, used by the sample-data generator.
            "session": [["01:15", "22:00"]],
            "base_price": 16000.0,
            # Each symbol's session times, then the spec's shared defaults (section 2).
            "params": {
                "ib_start": "09:00",
                "ib_end": "10:00",
                "trade_end": "17:30",
                "close_time": "22:00",
                **spec_defaults(),
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
            **SPEC_EXECUTION,
            "session": [["01:00", "23:00"]],
            "base_price": 1900.0,
            "params": {
                "ib_start": "08:00",
                "ib_end": "09:00",
                "trade_end": "16:30",
                "close_time": "22:00",
                **spec_defaults(),
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
            **{p.name: p.set_input for p in PARAMS},
            "risk": "InpRisk",
        },
    },
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


def _entry(cfg: dict[str, Any], section: str, name: str, what: str) -> dict[str, Any]:
    """``cfg[section][name]``; an unknown name is a ConfigError listing the known ones."""
    try:
        return cfg[section][name]
    except KeyError:
        known = ", ".join(cfg[section])
        raise ConfigError(f"unknown {what} '{name}' (known: {known})") from None


def symbol_spec(name: str, cfg: dict[str, Any] | None = None) -> SymbolSpec:
    """The :class:`SymbolSpec` of ``name``; an unknown symbol is a ConfigError."""
    raw = _entry(cfg or DEFAULTS, "symbols", name, "symbol")
    return SymbolSpec.from_dict(name, {**SPEC_EXECUTION, **raw})


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
    merged = {**SPEC_EXECUTION, **cfg["symbols"][name], **given}
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
    raw = _entry(cfg or DEFAULTS, "periods", name, "period")
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
SYMBOL_EXECUTION_KEYS = tuple(SPEC_EXECUTION)
# The broker server clock of the symbol's MT5 exports (an IANA zone or broker:NY+H),
# used when no --server-tz is given; checked where it is used (backtest.data.loaders).
SYMBOL_CLOCK_KEYS = ("server_tz",)
# Used only by the sample-data generator (a symbol without them has no sample data).
SYMBOL_SAMPLE_KEYS = ("session", "base_price", "cash_opens")
PERIOD_KEYS = ("start_date", "end_date", "data_file")
RUN_KEYS = tuple(DEFAULTS["run"])
_SYMBOL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def _check_symbol(name: str, raw: Any, where: str, built_in: bool) -> None:
    raw = mapping(raw, where, "symbol settings")
    known_keys(
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
        missing += [f"params.{p}" for p in SYMBOL_PARAMS if p not in params]
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
    for key, value in SPEC_EXECUTION.items():
        raw.setdefault(key, value)
    check_execution(raw, where)
    params = mapping(params, f"{where}.params", "parameter: default value")
    known_keys(params, PARAM_NAMES, f"{where}.params")
    if not built_in:
        raw["params"] = {**spec_defaults(), **params}
    if "base_price" in raw:
        check_number(raw["base_price"], f"{where}.base_price")
    session = raw.get("session", [])
    if not isinstance(session, list) or not all(
        isinstance(s, list) and len(s) == 2 for s in session
    ):
        raise ConfigError(f"{where}.session: {session!r} must be a list of [HH:MM, HH:MM]")
    for i, span in enumerate(session):
        for value in span:
            check_hhmm(value, f"{where}.session[{i}]")
    opens = raw.get("cash_opens", [])
    if not isinstance(opens, list):
        raise ConfigError(f"{where}.cash_opens: {opens!r} must be a list of HH:MM")
    for i, value in enumerate(opens):
        check_hhmm(value, f"{where}.cash_opens[{i}]")


def _check_date(value: Any, where: str) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date YYYY-MM-DD") from None


def _check_period(raw: Any, where: str) -> None:
    raw = mapping(raw, where, "period settings")
    known_keys(raw, PERIOD_KEYS, where)
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
    raw = mapping(raw, where, "run settings")
    known_keys(raw, RUN_KEYS, where)
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
    symbols = mapping(cfg["symbols"], f"{source}: symbols", "symbol name: settings")
    for name, raw in symbols.items():
        if not (isinstance(name, str) and _SYMBOL_NAME.match(name)):
            raise ConfigError(
                f"{source}: symbols: {shown(name)} is not a symbol name "
                "(letters, digits, '.', '_' and '-', starting with a letter or digit: "
                "it becomes part of file names)"
            )
        built_in = name in DEFAULTS["symbols"]
        _check_symbol(str(name), raw, f"{source}: symbols.{name}", built_in)
    periods = mapping(cfg["periods"], f"{source}: periods", "period name: settings")
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
    raw = mapping(raw, where, "prop-firm limits")
    known_keys(raw, tuple(DEFAULTS["prop_firm"]), where)
    if not isinstance(raw["name"], str) or not raw["name"]:
        raise ConfigError(f"{where}.name: {raw['name']!r} must be a name")
    for key in ("risk_per_trade_max_pct", "daily_loss_pct", "max_loss_pct"):
        check_number(raw[key], f"{where}.{key}", high=100.0)
    check_number(raw["stop_min_cost_multiple"], f"{where}.stop_min_cost_multiple", low_open=False)
    check_number(raw["news_window_min"], f"{where}.news_window_min", low_open=False, whole=True)


def _check_promote(raw: Any, where: str) -> None:
    raw = mapping(raw, where, "promotion settings")
    known_keys(raw, tuple(DEFAULTS["promote"]), where)
    for key in ("min_trades_in_sample", "min_trades_control"):
        check_number(raw[key], f"{where}.{key}", low_open=False, whole=True)
    check_number(raw["news_horizon_days"], f"{where}.news_horizon_days", whole=True, high=366)
    if not isinstance(raw["env_file"], str) or not raw["env_file"]:
        raise ConfigError(f"{where}.env_file: {raw['env_file']!r} must be a file name")
    for key in ("env_account", "env_news_file"):
        _check_identifier(raw[key], f"{where}.{key}")
    inputs = mapping(raw["set_inputs"], f"{where}.set_inputs", "ibsweep name: EA input name")
    known_keys(inputs, tuple(DEFAULTS["promote"]["set_inputs"]), f"{where}.set_inputs")
    seen: dict[str, str] = {}
    for key, name in inputs.items():
        _check_identifier(name, f"{where}.set_inputs.{key}")
        if name in seen:
            raise ConfigError(
                f"{where}.set_inputs.{key}: {name!r} is already the input of {seen[name]}"
            )
        seen[name] = key
