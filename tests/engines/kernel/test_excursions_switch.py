"""A metrics-only sweep skips the trades' excursions and changes nothing else.

``score_batch(..., excursions=False)`` (what the runner does without ``--save-daily`` or
``--save-trades``, and the optimizer's trials) records ``mae``/``mfe`` as -1 and the compact
trades carry no ``adverse``; every other trade field, ``skipped`` and every metric are the
ones of the sweep that records them. Both execution models, the fixed series of
``test_cost_model_unchanged``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from numpy.lib.recfunctions import repack_fields

from backtest.engines.run import score_batch
from backtest.strategy.trades import TRADE_DTYPE, trade_records
from tests.engines.kernel.test_cost_model_unchanged import _settings, fixed_grid, fixed_series

OTHER_FIELDS = [name for name in TRADE_DTYPE.names if name not in ("mae", "mfe")]


@pytest.mark.parametrize("model", ["cost", "bid_ask"])
def test_without_excursions_only_mae_and_mfe_are_missing(model):
    # Arrange: slippage so that the stop fills differ from their levels
    bars = fixed_series("GER40", 0.5, 2)
    bars = replace(bars, symbol=replace(bars.symbol, spread_model=model, slippage=1.0))
    combos, settings = fixed_grid("GER40"), _settings(bars)

    # Act
    full = score_batch(bars, combos, settings, excursions=True)
    lean = score_batch(bars, combos, settings, excursions=False)

    # Assert
    assert sum(len(t) for t in full.trades) > 100
    for with_, without in zip(full.trades, lean.trades):
        assert repack_fields(without[OTHER_FIELDS]).tobytes() == (
            repack_fields(with_[OTHER_FIELDS]).tobytes()
        )
        assert (without["mae"] == -1).all() and (without["mfe"] == -1).all()
        assert (with_["mae"] >= 0).all() and (with_["mfe"] >= 0).all()
    for name in full.metrics:
        np.testing.assert_array_equal(lean.metrics[name], full.metrics[name], err_msg=name)
    assert full.compact.adverse is not None and lean.compact.adverse is None
    np.testing.assert_array_equal(lean.compact.pnl, full.compact.pnl)


def test_trade_records_say_none_where_not_recorded():
    # Arrange
    bars = fixed_series("GER40", 0.0, 1)
    lean = score_batch(bars, fixed_grid("GER40")[:4], _settings(bars), excursions=False)
    trades = next(t for t in lean.trades if len(t))

    # Act
    records = trade_records(trades, bars)

    # Assert
    assert {rec["mae"] for rec in records} == {None}
    assert {rec["mfe"] for rec in records} == {None}
