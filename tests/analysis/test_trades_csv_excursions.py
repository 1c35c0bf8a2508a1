"""`invoke trades`' CSV shows each trade's maximum adverse and favourable excursion
(``mae``, ``mfe``, price units) after the spec's trade fields."""

from __future__ import annotations

import csv
import io

from backtest.analysis.rerun import Pick, Rerun, trades_csv
from backtest.core.settings import RunSettings
from backtest.engines.run import run_combos
from backtest.strategy.params import resolve_params
from tests.engines.spec.bar_factory import IB_BAR, make_bars


def test_the_csv_has_mae_and_mfe():
    # Arrange: the short of tests/engines/spec/test_excursions.py (bid_ask, spread 0.50):
    # entry 90.00, SL 95.00 on the ask; the ask's highest is the SL, its lowest 86.50
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 95.0, 97.0, 88.0, 89.0),
            ("10:01", 89.0, 93.0, 86.0, 92.0),
            ("10:02", 92.0, 96.0, 79.0, 80.0),
        ],
        spread=0.5,
        spread_model="bid_ask",
    )
    params = resolve_params("GER40", {"sl_mult": 0.25, "tp_mult": 0.5})
    [result] = run_combos(bars, [params], RunSettings())
    again = Rerun(Pick("g", 0, params, result.metrics), result, bars, {})

    # Act
    text = trades_csv(again, bars, "broker:NY+7")

    # Assert
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert list(row)[-3:] == ["exit_reason", "mae", "mfe"]
    assert (row["exit_reason"], row["mae"], row["mfe"]) == ("sl", "5.0", "3.5")
