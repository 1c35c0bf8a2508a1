"""A re-run's metrics are compared with the recorded ones exactly, key by key; `invoke
trades` exits 1 when one differs."""

from __future__ import annotations

import numpy as np

from backtest.analysis.rerun import differences
from backtest.runner.outputs import write_results
from tests.analysis.report_helpers import invoke, small_run
from tests.runner.helpers import SYMBOL, full_results


def test_only_metrics_that_are_not_exactly_equal_are_reported():
    recorded = {"total_r": 1.0, "trades": 3, "profit_factor": None, "prop_ok": True}
    again = {
        "total_r": 1.0000000000000002,  # one ulp off: a difference
        "trades": np.int64(3),  # numpy scalars compare as their JSON values
        "profit_factor": float("nan"),  # non-finite is null in the results
        "prop_ok": True,
    }

    assert differences(recorded, again) == {"total_r": (1.0, 1.0000000000000002)}


def test_a_recorded_metric_that_the_rerun_does_not_give_exits_1(tmp_path):
    out = small_run(tmp_path, "--charts", "none", "--no-report")
    full = full_results(out)
    combo = full["groups"][0]["combos"][3]["metrics"]
    true_r = combo["total_r"]
    combo["total_r"] = true_r + 0.5  # results that this code and data do not give
    write_results(out, SYMBOL, full["metadata"], full["groups"], [])

    result = invoke("trades", "--from", out, "--group", "group_GER40_001", "--combo", 3)

    assert result.returncode == 1
    assert "the re-run's metrics differ from the recorded ones" in result.stderr
    assert f"total_r: recorded {true_r + 0.5!r}, re-run {true_r!r}" in result.stderr
