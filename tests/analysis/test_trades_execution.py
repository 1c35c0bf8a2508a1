"""`invoke trades` with execution options re-runs one combination under other execution
settings than the run recorded (spec section 8), beside the recorded files."""

from __future__ import annotations

import csv

from backtest.analysis.rerun import combo_paths
from tests.analysis.report_helpers import invoke, small_run

GROUP, COMBO = "group_GER40_002", 5


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_trades_with_more_slippage_costs_each_stopped_trade_more(tmp_path):
    # Arrange: a cost-model run, its combination re-run as recorded
    out = small_run(tmp_path, "--spread-model", "cost", "--charts", "none", "--no-report")
    assert invoke("trades", "--from", out, "--group", GROUP, "--combo", COMBO).returncode == 0
    recorded = _rows(combo_paths(out, GROUP, COMBO)["trades"])
    # Act
    result = invoke(
        "trades", "--from", out, "--group", GROUP, "--combo", COMBO, "--slippage", "0.5"
    )
    # Assert: its own files; every entry 0.50 worse, stop-loss exits 0.50 worse too
    assert result.returncode == 0, result.stderr
    assert "cost-fixed-slip0.5" in result.stdout and "by design" in result.stdout
    slipped = _rows(combo_paths(out, GROUP, COMBO, "cost-fixed-slip0.5")["trades"])
    assert len(slipped) == len(recorded) > 0
    for a, b in zip(recorded, slipped):
        sign = 1 if a["direction"] == "long" else -1
        assert round(float(b["entry_price"]) - float(a["entry_price"]), 2) == sign * 0.5
        extra = sign * 0.5 if a["exit_reason"] == "sl" else 0.0
        assert round(float(a["exit_price"]) - float(b["exit_price"]), 2) == extra
        assert float(b["r"]) < float(a["r"])


def test_trades_refuses_the_cost_model_with_the_datas_spread(tmp_path):
    # Arrange
    out = small_run(tmp_path, "--charts", "none", "--no-report")
    # Act
    result = invoke(
        "trades",
        "--from",
        out,
        "--group",
        GROUP,
        "--combo",
        COMBO,
        "--spread-model",
        "cost",
        "--spread-source",
        "data",
    )
    # Assert
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "bid_ask" in result.stderr
