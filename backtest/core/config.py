"""One place for symbols, periods and run defaults.

Everything here can be overridden without editing code: a YAML file given by
``--config``, by the ``IBSWEEP_CONFIG`` environment variable, or ``ibsweep.yaml``
at the repository root, is deep-merged over :data:`DEFAULTS`.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

_WEEKDAYS = [0, 1, 2, 3, 4]

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
            # Local trading hours, used by the sample-data generator.
            "session": [["01:15", "22:00"]],
            "base_price": 16000.0,
            "params": {
                "ib_start": "09:00",
                "ib_end": "10:00",
                "trade_end": "17:30",
                "close_time": "22:00",
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
            "session": [["01:00", "23:00"]],
            "base_price": 1900.0,
            "params": {
                "ib_start": "08:00",
                "ib_end": "09:00",
                "trade_end": "16:30",
                "close_time": "22:00",
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
    },
}


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
            raise ConfigError(f"{file}: unknown section '{key}' (known: {', '.join(DEFAULTS)})")
    return _deep_merge(DEFAULTS, override, str(file))


def symbol_names(cfg: dict[str, Any] | None = None) -> list[str]:
    return list((cfg or DEFAULTS)["symbols"])


def symbol_spec(name: str, cfg: dict[str, Any] | None = None) -> SymbolSpec:
    """The :class:`SymbolSpec` of ``name``; an unknown symbol is a ConfigError."""
    cfg = cfg or DEFAULTS
    try:
        raw = cfg["symbols"][name]
    except KeyError:
        raise ConfigError(f"unknown symbol '{name}' (known: {', '.join(cfg['symbols'])})") from None
    return SymbolSpec(
        name=name,
        timezone=raw["timezone"],
        currencies=tuple(c.upper() for c in raw["currencies"]),
        point=float(raw["point"]),
        value_per_point=float(raw["value_per_point"]),
        volume_min=float(raw["volume_min"]),
        volume_step=float(raw["volume_step"]),
        spread=float(raw["spread"]),
        commission=float(raw["commission"]),
    )


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
