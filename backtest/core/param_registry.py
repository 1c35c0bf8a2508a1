"""The strategy's parameters, one entry each: the registry every reader derives its list from.

Data, no behaviour, in the lowest layer so that every reader may import it: the
configuration's defaults and checks (``backtest.core.config``), the validation and the
compiled form (``backtest.strategy.params``, which re-exports the registry and owns what
the values mean), the columns of the results (``backtest.runner.store``), the parameters
the sweep's shared day tables depend on (``backtest.runner.groups``) and the search
(``backtest.search.space``). Adding a parameter is one entry here plus its semantics
(``strategy.params.compile_params`` and the engines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Upper bounds that keep every integer conversion exact (docs/READINGS.md, reading 16).
# Largest price, in points, that a bar or a price parameter may reach: every
# product of a multiplier (at most MAX_MULT) and a distance stays below 2**53 (exact in
# float64) and far inside int64; news minutes become nanoseconds below 2**53; a day has
# at most 1,500 M1 bars (25 h on a fall-back day), so more trades per day than that can
# never bind.
MAX_PRICE_POINTS = 10**12
MAX_MULT = 1000.0
MAX_NEWS_MINUTES = 7 * 24 * 60.0
MAX_TRADES_PER_DAY = 1500

# How a value is written and checked (backtest.strategy.params.check_value).
KINDS = ("time", "choice", "float", "int", "weekdays", "bool")
# The Arrow type of a parameter's results column, by name (backtest.runner.store).
COLUMNS = ("string", "float64", "int64", "bool", "list<int64>")


@dataclass(frozen=True)
class Param:
    """One parameter of a combination (spec section 2)."""

    name: str
    kind: str  # one of KINDS: "time" is "HH:MM" local time
    column: str  # one of COLUMNS: its column in the results tables
    default: Any  # the spec's default for every symbol; None: each symbol names its own
    help: str
    low: float | None = None  # "float", "int", "weekdays": the least value
    low_open: bool = False  # the least value itself is refused (sl_mult > 0)
    high: float | None = None  # the greatest value
    choices: tuple[str, ...] = ()  # "choice": the allowed values
    table: bool = False  # the sweep's shared day tables depend on it
    set_input: str = ""  # the Expert Advisor's input name (config promote.set_inputs)

    @property
    def numeric(self) -> bool:
        """Whether arithmetic takes it (a constraint's ``sl_mult * 2``; times as minutes)."""
        return self.kind in ("time", "float", "int")

    @property
    def whole(self) -> bool:
        """Whether its values are whole numbers (minutes, counts): a search range needs a step."""
        return self.kind == "time" or self.column == "int64"


_PRICE = float(MAX_PRICE_POINTS)  # min_ib, max_ib: price units (in points too: check_points)

PARAMS: tuple[Param, ...] = (
    Param("ib_start", "time", "string", None, "start of the initial balance [ib_start, ib_end)",
          table=True, set_input="InpIbStart"),
    Param("ib_end", "time", "string", None, "end of the initial balance (exclusive)",
          table=True, set_input="InpIbEnd"),
    Param("trade_end", "time", "string", None, "entries only on bars opening before it",
          table=True, set_input="InpTradeEnd"),
    Param("close_time", "time", "string", None, "an open position is closed at this time",
          table=True, set_input="InpCloseTime"),
    Param("direction", "choice", "string", "both", "which breakouts are traded",
          choices=("both", "long", "short"), set_input="InpDirection"),
    Param("entry_buffer", "float", "float64", 0.0, "levels sit entry_buffer x IB beyond the IB",
          low=0.0, high=MAX_MULT, set_input="InpEntryBuffer"),
    Param("sl_mult", "float", "float64", 1.0, "stop-loss distance sl_mult x IB from the fill",
          low=0.0, high=MAX_MULT, low_open=True, set_input="InpSlMult"),
    Param("tp_mult", "float", "float64", 1.0, "take-profit distance tp_mult x IB; 0: none",
          low=0.0, high=MAX_MULT, set_input="InpTpMult"),
    Param("min_ib", "float", "float64", 0.0, "the day is skipped when the IB is smaller",
          low=0.0, high=_PRICE, set_input="InpMinIb"),
    Param("max_ib", "float", "float64", 0.0, "the day is skipped when the IB is larger; 0: none",
          low=0.0, high=_PRICE, set_input="InpMaxIb"),
    Param("max_trades_per_day", "int", "int64", 1, "entries a day at the most",
          low=1, high=MAX_TRADES_PER_DAY, set_input="InpMaxTradesPerDay"),
    Param("weekdays", "weekdays", "list<int64>", (0, 1, 2, 3, 4), "trading days, 0 = Monday",
          low=0, high=6, set_input="InpWeekdays"),
    Param("news_filter", "bool", "bool", False, "block entries around high-impact news",
          table=True, set_input="InpNewsFilter"),
    Param("news_before", "float", "float64", 15.0, "minutes blocked before an event",
          low=0.0, high=MAX_NEWS_MINUTES, table=True, set_input="InpNewsBefore"),
    Param("news_after", "float", "float64", 15.0, "minutes blocked after an event",
          low=0.0, high=MAX_NEWS_MINUTES, table=True, set_input="InpNewsAfter"),
)  # fmt: skip

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
PARAM_NAMES: tuple[str, ...] = tuple(BY_NAME)
TIME_PARAMS: tuple[str, ...] = tuple(p.name for p in PARAMS if p.kind == "time")
FLOAT_PARAMS: tuple[str, ...] = tuple(p.name for p in PARAMS if p.kind == "float")
# The parameters the sweep's shared day tables depend on (backtest.engines.sweep.SweepData).
TABLE_PARAMS: tuple[str, ...] = tuple(p.name for p in PARAMS if p.table)
# The parameters each symbol names (its session times); the others default to the spec's.
SYMBOL_PARAMS: tuple[str, ...] = tuple(p.name for p in PARAMS if p.default is None)


def spec_defaults() -> dict[str, Any]:
    """The spec's defaults shared by every symbol (section 2), a fresh dict (lists fresh)."""
    return {
        p.name: list(p.default) if isinstance(p.default, tuple) else p.default
        for p in PARAMS
        if p.default is not None
    }
