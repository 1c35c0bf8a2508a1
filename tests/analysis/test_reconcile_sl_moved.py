"""SL moved by hand, reconciled (both formats). The backtest (2024-01-09, an L day): long
at 16020.00, SL 16000.00 hit at 10:01 local, R -1. The bot: long at 16020.00, its SL
moved by hand to 16010.00, stopped out at 16009.80. By hand:

- entry equal: 0 points;
- exit 16009.80 against the backtest's 16000.00: 980 points better, exit diff -980;
- the SL exit's own slippage, against the level it was at (16010.00): 20 points worse;
- live R = (16009.80 - 16020.00) / 0.01 / 2000 = -1020 / 2000 = -0.51, R diff +0.49;
- the row says the SL was moved (16000.0 -> 16010.0).
"""

import pytest

from backtest.analysis.reconcile import Request, reconcile
from tests.analysis.reconcile_helpers import SERVER_TZ, deployment, fixture, shared_bars


@pytest.mark.parametrize("name", ["sl_moved.csv", "sl_moved.html"])
def test_sl_moved_reconciled(tmp_path_factory, name):
    result = reconcile(
        Request(fixture(name), shared_bars(tmp_path_factory), deployment(), server_tz=SERVER_TZ)
    )

    (row,) = result.rows
    assert row["status"] == "matched"
    assert (row["bt_exit_price"], row["bt_exit_reason"], row["bt_sl"]) == (16000.0, "sl", 16000.0)
    assert (row["live_sl_initial"], row["live_sl"], row["live_sl_moved"]) == (
        16000.0,
        16010.0,
        True,
    )
    assert row["entry_diff_points"] == 0.0
    assert row["exit_diff_points"] == -980.0
    assert (row["exit_side"], row["exit_slippage_points"]) == ("exit_sl", 20.0)
    assert row["live_r"] == -0.51
    assert row["r_diff"] == 0.49
    (reason,) = row["reasons"]
    assert reason["code"] == "sl_moved"
    assert "16000.0" in reason["text"] and "16010.0" in reason["text"]
    sides = result.summary["slippage"]["sides"]
    assert (sides["exit_sl"]["n"], sides["exit_sl"]["median_points"]) == (1, 20.0)
