"""Trades as both engines produce them, and their public record (spec section 7).

An engine emits raw trades in integer points (:data:`TRADE_DTYPE`, one row per
trade); :func:`trade_records` is the single place that adds lots, ``r``,
``pnl_money`` and prices, so the emulator and the sweep kernel cannot differ
in how a trade is valued.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backtest.core.config import SymbolSpec
from backtest.data.bars import Bars
from backtest.strategy.risk_manager import pnl_money

REASONS = ("sl", "tp", "close")  # exit_reason codes 0, 1, 2

TRADE_DTYPE = np.dtype(
    [
        # index into the Bars the engine walked (int32: the record 67 bytes with the
        # excursions, as before them; what the kernel writes per trade, docs/BENCHMARK.md)
        ("entry_bar", np.int32),
        ("exit_bar", np.int32),
        ("direction", np.int8),  # +1 long, -1 short
        ("entry", np.int64),  # fill price, points, after slippage
        ("exit", np.int64),  # exit price, points, after slippage
        ("sl", np.int64),  # set from the fill before slippage
        ("tp", np.int64),  # meaningful only where has_tp
        ("has_tp", np.bool_),
        ("stop_points", np.int64),  # D
        ("lots", np.float64),
        ("reason", np.int8),  # index into REASONS
        # maximum adverse / favourable excursion (points, >= 0; -1: not recorded, a
        # metrics-only sweep) from ``entry`` along the exit side's path (a long's bid, a
        # short's ask), from the point of entry to the point of exit (docs/READINGS.md,
        # reading 32)
        ("mae", np.int32),
        ("mfe", np.int32),
    ]
)


def empty_trades(n: int = 0) -> np.ndarray:
    return np.zeros(n, dtype=TRADE_DTYPE)


def pnl_points(trades: np.ndarray, symbol: SymbolSpec) -> np.ndarray:
    """``dir × (exit - fill) - symbol.charged_points`` per trade (int64), with the prices
    after slippage: the ``cost`` model charges the fixed spread and the commission,
    ``bid_ask`` the commission only, the spread being in the prices (spec 5, 8.4-8.5)."""
    return (
        trades["direction"].astype(np.int64) * (trades["exit"] - trades["entry"])
        - symbol.charged_points
    )


def trade_adverse(trades: np.ndarray, symbol: SymbolSpec) -> np.ndarray:
    """Each trade's worst open P&L in money (float64, <= 0): its maximum adverse excursion
    less ``symbol.charged_points``, valued with its lots (as ``pnl_money`` values a trade's
    points), what the account's equity low adds to the day's closed P&L."""
    points = np.minimum(-trades["mae"] - symbol.charged_points, 0)
    return pnl_money(points, trades["lots"], symbol)


def trade_values(trades: np.ndarray, bars: Bars) -> dict[str, np.ndarray]:
    """Per-trade ``r``, ``pnl_money`` and trading ``day`` as arrays (for metrics)."""
    sym = bars.symbol
    pts = pnl_points(trades, sym)
    return {
        "pnl_points": pts,
        "r": pts / trades["stop_points"].astype(np.float64),
        "pnl_money": pnl_money(pts, trades["lots"], sym),
        "day": bars.day[trades["entry_bar"]].astype(np.int64),
    }


def iso_times(time_ns: np.ndarray) -> list[str]:
    """UTC ns as ISO 8601 with offset (``2025-03-04T09:12:00+00:00``), vectorized."""
    text = np.datetime_as_string(np.asarray(time_ns, dtype="datetime64[ns]"), unit="s")
    return [f"{t}+00:00" for t in text]


def trade_records(trades: np.ndarray, bars: Bars) -> list[dict[str, Any]]:
    """The public trade records of spec section 7 (JSON-ready), then ``mae`` and ``mfe``
    in price units (None where not recorded: a metrics-only sweep's trades)."""
    columns = {name: _listed(name, c) for name, c in trade_columns(trades, bars).items()}
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


# The record's fields that are None where the trade has none (no TP; an excursion not
# recorded): NaN in :func:`trade_columns`.
OPTIONAL_FIELDS = ("tp", "mae", "mfe")


def trade_columns(trades: np.ndarray, bars: Bars) -> dict[str, np.ndarray | list[str]]:
    """The fields of :func:`trade_records`, in its order, column by column (a reader of
    many trades): numbers as float64 arrays (NaN for :data:`OPTIONAL_FIELDS` a record
    holds as None), texts as lists."""
    values = trade_values(trades, bars)
    return {
        "entry_time": iso_times(bars.time_ns[trades["entry_bar"]]),
        "exit_time": iso_times(bars.time_ns[trades["exit_bar"]]),
        "direction": ["long" if d > 0 else "short" for d in trades["direction"].tolist()],
        "entry_price": bars.price(trades["entry"]),
        "exit_price": bars.price(trades["exit"]),
        "sl": bars.price(trades["sl"]),
        "tp": np.where(trades["has_tp"], bars.price(trades["tp"]), np.nan),
        "lots": trades["lots"].astype(np.float64),
        "r": values["r"],
        "pnl_money": values["pnl_money"],
        "exit_reason": [REASONS[code] for code in trades["reason"].tolist()],
        "mae": np.where(trades["mae"] >= 0, bars.price(trades["mae"]), np.nan),
        "mfe": np.where(trades["mfe"] >= 0, bars.price(trades["mfe"]), np.nan),
    }


def _listed(name: str, column: np.ndarray | list[str]) -> list[Any]:
    """A :func:`trade_columns` column as the records hold it (NaN of an optional field as
    None)."""
    if not isinstance(column, np.ndarray):
        return column
    values = column.tolist()
    if name in OPTIONAL_FIELDS:
        for i in np.flatnonzero(np.isnan(column)).tolist():
            values[i] = None
    return values
