"""The results CSVs round floats for spreadsheets; results_full keeps full precision."""

from __future__ import annotations

import csv
import json

from backtest.runner.outputs import write_results

METRICS = {
    "total_r": -6.070953403424009,
    "sharpe": -1.0394936975440134,
    "trades": 705,
    "winrate": 0.47801418439716314,
    "profit_factor": 0.8742098961683481,
    "max_dd_r": 58.737935359861574,
    "avg_r": -0.00004,
    "total_pnl": -46855.93354999,
    "max_daily_loss_pct": 1.0939272000000055,
    "max_drawdown_pct": 54.88597468350621,
    "prop_ok": False,
}
PARAMS = {"sl_mult": 0.30000000000000004, "entry_buffer": 1.25, "weekdays": [0, 1]}


def _write(tmp_path):
    group = {
        "group_id": "g",
        "status": "ok",
        "elapsed_s": 0.1,
        "combos": [{"params": PARAMS, "metrics": METRICS}],
        "best": 0,
    }
    return write_results(tmp_path, "GER40", {"symbol": "GER40"}, [group], [])


def test_r_and_money_have_4_decimals_ratios_4_significant_digits(tmp_path):
    paths = _write(tmp_path)

    for kind in ("summary", "combos"):
        with open(paths[kind], newline="") as handle:
            (row,) = list(csv.DictReader(handle))
        assert row["total_r"] == "-6.071"
        assert row["max_dd_r"] == "58.7379"
        assert row["avg_r"] == "0.0"  # -0.00004 to 4 decimals, without a sign
        assert row["total_pnl"] == "-46855.9335"
        assert row["sharpe"] == "-1.039"
        assert row["winrate"] == "0.478"
        assert row["profit_factor"] == "0.8742"
        assert row["max_daily_loss_pct"] == "1.094"
        assert row["max_drawdown_pct"] == "54.89"
        assert row["trades"] == "705"
        assert row["sl_mult"] == "0.30000000000000004"  # parameters are never rounded


def test_results_full_keeps_full_precision(tmp_path):
    paths = _write(tmp_path)

    metrics = json.loads(paths["full"].read_text())["groups"][0]["combos"][0]["metrics"]

    assert metrics == METRICS
