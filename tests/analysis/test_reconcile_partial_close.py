"""Partial close, reconciled (both formats). The backtest (2024-01-08, a W day): long at
16020.00, TP 16040.00 at 10:01 local, R +1, 0.20 lots. The bot: 0.20 at 16020.30, 0.10
closed by hand at 16028.00, 0.10 at the TP 16040.00. By hand:

- entry 30 points worse (16020.30 - 16020.00); no slippage configured, so the entry's
  slippage is those 30 points;
- exit price (16028.00 + 16040.00) / 2 = 16034.00, 600 points worse than 16040.00; the
  closing deal itself filled at its TP level: TP slippage 0;
- live R = (16034.00 - 16020.30) / 0.01 / 2000 = 1370 / 2000 = 0.685, R diff -0.315;
- lots 0.20 both: lots diff 0.
"""

import pytest

from backtest.analysis.reconcile import Request, reconcile
from tests.analysis.reconcile_helpers import SERVER_TZ, deployment, fixture, shared_bars


@pytest.mark.parametrize("name", ["partial_close.csv", "partial_close.html"])
def test_partial_close_reconciled(tmp_path_factory, name):
    bars = shared_bars(tmp_path_factory)

    result = reconcile(Request(fixture(name), bars, deployment(), server_tz=SERVER_TZ))

    (row,) = result.rows
    assert row["status"] == "matched"
    assert (row["bt_entry_price"], row["bt_exit_price"], row["bt_exit_reason"]) == (
        16020.0,
        16040.0,
        "tp",
    )
    assert (row["live_entry_price"], row["live_exit_price"]) == (16020.30, 16034.00)
    assert (row["live_exit_deals"], row["live_exit_reason"]) == (2, "tp")
    assert row["entry_diff_points"] == 30.0
    assert row["entry_slippage_points"] == 30.0
    assert row["exit_diff_points"] == 600.0
    assert (row["exit_side"], row["exit_slippage_points"]) == ("exit_tp", 0.0)
    assert row["live_r"] == 0.685
    assert row["r_diff"] == -0.315
    assert row["lots_diff"] == 0.0
    assert [r["code"] for r in row["reasons"]] == ["partial_close"]
    assert result.summary["match_rate"] == 1.0
    assert result.summary["counts"] == {
        "backtest": 1,
        "live": 1,
        "matched": 1,
        "missed": 0,
        "extra": 0,
    }
