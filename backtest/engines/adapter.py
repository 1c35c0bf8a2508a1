"""The emulator engine behind ``backtest.engines.run`` (``engine="emulator"``).

One combination = a fresh :class:`MT5Emulator` over the period's bars and a
fresh :class:`IBStrategy`; the emulator's deal history becomes raw trades (prices
after slippage, ``stop_points`` the day's D, the excursions from the exit deal).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.emulator.mt5_emulator import (
    DEAL_ENTRY_IN,
    DEAL_REASON_SL,
    DEAL_REASON_TP,
    DEAL_TYPE_BUY,
    MT5Emulator,
    TradeDeal,
)
from backtest.strategy.params import compile_params
from backtest.strategy.trades import empty_trades
from strategies.ib_strategy import IBStrategy

_REASON_CODES = {DEAL_REASON_SL: 0, DEAL_REASON_TP: 1}  # anything else: 2 (close)


def run_combo(bars: Bars, params: dict[str, Any], settings: RunSettings) -> tuple[np.ndarray, int]:
    """Replay one resolved combination over ``bars``: ``(trades, skipped)``."""
    emulator = MT5Emulator(bars)
    compiled = compile_params(params, bars.symbol)
    strategy = IBStrategy(emulator, compiled, bars.symbol, settings.risk, settings.news_ns)
    emulator.run(strategy)
    trades = trades_from_deals(emulator.history_deals_get())
    # MT5's tp 0 means "none"; a short's TP can sit exactly at price 0 (fill == T),
    # and the record's tp is null only when tp_mult is 0 (spec section 7).
    trades["has_tp"] = compiled.tp_mult > 0
    return trades, strategy.skipped


def trades_from_deals(deals: tuple[TradeDeal, ...]) -> np.ndarray:
    """Pair each position's entry and exit deal into one row of
    :data:`backtest.strategy.trades.TRADE_DTYPE`."""
    entries = {d.position_id: d for d in deals if d.entry == DEAL_ENTRY_IN}
    exits = [d for d in deals if d.entry != DEAL_ENTRY_IN]
    trades = empty_trades(len(exits))
    for row, out in zip(trades, exits):
        inn = entries[out.position_id]
        long = inn.type == DEAL_TYPE_BUY
        row["entry_bar"], row["exit_bar"] = inn.bar, out.bar
        row["direction"] = 1 if long else -1
        row["entry"], row["exit"] = inn.price, out.price
        row["sl"], row["tp"], row["has_tp"] = out.sl, out.tp, out.tp != 0
        # D: the SL was set from the fill before slippage (spec 8.5)
        trigger = inn.price - inn.slippage if long else inn.price + inn.slippage
        row["stop_points"] = abs(trigger - out.sl)
        row["lots"] = inn.volume
        row["reason"] = _REASON_CODES.get(out.reason, 2)
        row["mae"], row["mfe"] = out.mae, out.mfe
    return trades
