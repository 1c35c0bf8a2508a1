"""Run one combination through both engines and insist that they agree.

The audit tests (``test_audit_*``) assert a hand-computed answer; running it
through the emulator and the fast sweep kernel catches a misreading in either.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.engines.run import ENGINES, raw_trades
from backtest.strategy.metrics import combo_metrics
from backtest.strategy.params import resolve_params
from backtest.strategy.trades import trade_records


def run_both(
    bars: Bars, news_ns: list[int] | None = None, risk: float = 1000.0, **overrides: Any
) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    """Symbol defaults + ``overrides`` through ``fast`` and ``emulator``:
    the (identical) trade records, ``skipped`` and metrics."""
    params = resolve_params(bars.symbol.name, overrides)
    settings = RunSettings(risk=risk, news_ns=np.asarray(sorted(news_ns or []), dtype=np.int64))
    results = {engine: raw_trades(bars, [params], settings, engine)[0] for engine in ENGINES}
    (fast, fast_skipped), (emulated, emulated_skipped) = results["fast"], results["emulator"]
    assert trade_records(fast, bars) == trade_records(emulated, bars)
    assert fast_skipped == emulated_skipped
    return (
        trade_records(fast, bars),
        fast_skipped,
        combo_metrics(fast, fast_skipped, bars, settings),
    )


def brief(record: dict[str, Any]) -> tuple:
    """``(direction, entry_price, exit_price, exit_reason)`` of a trade record."""
    return (record["direction"], record["entry_price"], record["exit_price"], record["exit_reason"])
