"""`invoke trades` re-runs one combination with the run's recorded data and settings:
the same metrics exactly, the same trades as --save-trades recorded, broker time beside
UTC, and an equity chart and a monthly R table."""

from __future__ import annotations

import csv
import datetime as dt

from backtest.analysis.rerun import combo_paths
from tests.analysis.report_helpers import invoke, small_run
from tests.runner.helpers import full_results

GROUP, COMBO = "group_GER40_002", 5


def test_trades_reproduce_the_recorded_combination(tmp_path):
    out = small_run(tmp_path, "--save-trades", "--charts", "none", "--no-report")
    recorded = full_results(out)["groups"][1]["combos"][COMBO]

    result = invoke("trades", "--from", out, "--group", GROUP, "--combo", COMBO)

    assert result.returncode == 0, result.stderr
    assert "metrics equal the recorded ones" in result.stdout
    paths = combo_paths(out, GROUP, COMBO)
    with open(paths["trades"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == recorded["metrics"]["trades"] == len(recorded["trades"])
    for row, trade in zip(rows, recorded["trades"]):
        assert row["entry_time_utc"] == trade["entry_time"]
        assert float(row["r"]) == trade["r"]  # repr round-trips: exactly the recorded R
        assert float(row["pnl_money"]) == trade["pnl_money"]
        utc = dt.datetime.fromisoformat(trade["entry_time"])
        # broker:NY+7 in January: New York is UTC-5, so the server clock is UTC+2
        assert row["entry_time_broker"] == (utc + dt.timedelta(hours=2)).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
    assert paths["equity"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monthly = paths["monthly"].read_text().splitlines()
    assert monthly[0] == "year,Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec,total"
    january = float(monthly[1].split(",")[1])
    assert january == round(sum(t["r"] for t in recorded["trades"]), 4)
    assert monthly[1].split(",")[2] == ""  # February is outside the period: empty, not 0
    assert str(paths["trades"]) in result.stdout
