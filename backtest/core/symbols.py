"""A symbol as a backtest sees it (spec section 5) and its execution settings (section 8).

:class:`SymbolSpec` is built from a configuration's symbol section or from what a run
recorded (``symbol_settings``); :func:`check_execution` checks the execution settings
wherever they come from (a config file, a run's options).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backtest.core.checks import ConfigError, check_number, did_you_mean, shown

# Execution settings of spec section 8, the same defaults for every symbol
# (``spread_unit`` None: the symbol's ``point``).
SPREAD_MODELS = ("bid_ask", "cost")
SPREAD_SOURCES = ("fixed", "data")
SPEC_EXECUTION: dict[str, Any] = {
    "spread_model": "bid_ask",
    "spread_source": "fixed",
    "spread_unit": None,
    "slippage": 0.0,
}
# What a run recorded before spec section 8 did: the spread charged once, on the bid.
LEGACY_EXECUTION: dict[str, Any] = {**SPEC_EXECUTION, "spread_model": "cost"}


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
