"""The edge under cost stress (backtest.analysis.stress): re-runs at heavier costs on the
run's own data, checked against the trades of the run at its own costs."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from backtest.analysis.rerun import rerun
from backtest.analysis.stress import LEVELS, cost_stress, stressed, survives
from backtest.core.config import symbol_spec
from backtest.strategy.trades import pnl_points
from tests.runner.helpers import run_args, run_cli, write_bars, write_groups


@pytest.fixture(scope="module")
def cost_run(tmp_path_factory):
    """A finished run in the cost model, fixed spread 1.0, no slippage."""
    folder = tmp_path_factory.mktemp("stress")
    bars = write_bars(folder / "bars.parquet", "2024-01-01", "2024-01-19")
    groups = write_groups(folder / "groups.json")
    out = folder / "out"
    done = run_cli(
        *run_args(bars, groups, out, "--spread-model", "cost", "--skip-charts", "--no-report")
    )
    assert done.returncode == 0, done.stderr
    return out, bars


def test_stressed_costs_scale_spread_unit_commission_and_slippage():
    # Arrange
    spec = dataclasses.replace(symbol_spec("GER40"), commission=0.2, slippage=0.5)
    # Act
    x2 = stressed(spec, LEVELS[2])
    plus = stressed(spec, LEVELS[3])
    # Assert
    assert (x2.spread, x2.commission, x2.slippage, x2.unit_of_spread) == (2.0, 0.4, 1.0, 0.02)
    assert (plus.spread, plus.slippage) == (1.0, 0.51)
    assert plus.slippage_points == 51


def test_survival_needs_trades_and_both_r_figures_above_zero():
    assert survives({"trades": 3, "avg_r": 0.1, "total_r": 0.3})
    assert not survives({"trades": 0, "avg_r": 0.0, "total_r": 0.0})
    assert not survives({"trades": 3, "avg_r": -0.1, "total_r": -0.3})


def test_in_the_cost_model_each_level_costs_each_trade_its_extra_points(cost_run):
    # Arrange: the combinations' trades at the run's own costs
    out, _ = cost_run
    wanted = [("group_GER40_001", 0), ("group_GER40_002", 3)]
    (base,), _ = rerun(out, "GER40", wanted[:1])
    trades = base.result.trades
    d = trades["stop_points"].astype(np.float64)
    spread = symbol_spec("GER40").spread_points
    free = dataclasses.replace(symbol_spec("GER40"), spread_model="cost", spread=0.0)
    gross = pnl_points(trades, free).astype(np.float64)
    is_sl = trades["reason"] == 0
    # Act
    stress = cost_stress(out, "GER40", wanted)
    # Assert: x1 is the run; x1.5 and x2 charge 1.5 / 2 spreads; +1 point worsens the
    # entry and a stop-loss exit by one point each
    rows = {row["level"]: row["selected"] for row in stress["levels"]}
    assert rows["costs x1"]["total_r"] == pytest.approx(((gross - spread) / d).sum())
    assert rows["costs x1.5"]["total_r"] == pytest.approx(((gross - 1.5 * spread) / d).sum())
    assert rows["costs x2"]["total_r"] == pytest.approx(((gross - 2 * spread) / d).sum())
    worse = gross - spread - 1 - is_sl
    assert rows["slippage +1 point"]["total_r"] == pytest.approx((worse / d).sum())
    assert all(row["selected"]["trades"] == len(trades) for row in stress["levels"])
    assert stress["execution"]["spread_model"] == "cost"
    assert stress["text"] == f"survives 1.5x costs: {'yes' if stress['survives_1_5x'] else 'no'}"
    assert stress["survives_1_5x"] == survives(rows["costs x1.5"])


def test_a_run_whose_data_file_is_gone_has_no_stress_table(cost_run, tmp_path):
    # Arrange
    out, bars = cost_run
    moved = tmp_path / "elsewhere.parquet"
    shutil.move(bars, moved)
    # Act / Assert
    try:
        with pytest.raises(ValueError, match="data file is gone"):
            cost_stress(out, "GER40", [("group_GER40_001", 0)])
    finally:
        shutil.move(moved, bars)
