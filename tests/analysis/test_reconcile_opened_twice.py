"""A trade the bot opened twice, reconciled (both formats). The backtest (2024-01-10, a W
day): one long at 16020.00 (bar 09:00 UTC). The bot: positions 5021 (09:00:05 UTC, at
16020.00) and 5022 (09:00:07, at 16020.10), both closed at the TP 16040.00. By hand:

- the closer one (5021, 5 s from the bar's open) is matched, with no difference at all;
- 5022 is extra, because 5021 entered 2 s before it in the same direction; its R over
  its own stop (16020.10 - 16000.00 = 2010 points) is 1990 / 2010 = 0.99 (4 digits);
- match rate 1 of 1 + 0 + 1 = 0.5.
"""

import pytest

from backtest.analysis.reconcile import Request, reconcile
from tests.analysis.reconcile_helpers import SERVER_TZ, deployment, fixture, shared_bars


@pytest.mark.parametrize("name", ["opened_twice.csv", "opened_twice.html"])
def test_opened_twice_reconciled(tmp_path_factory, name):
    result = reconcile(
        Request(fixture(name), shared_bars(tmp_path_factory), deployment(), server_tz=SERVER_TZ)
    )

    matched, extra = result.rows
    assert (matched["status"], matched["live_position"]) == ("matched", "5021")
    assert (matched["entry_diff_points"], matched["exit_diff_points"]) == (0.0, 0.0)
    assert (matched["exit_side"], matched["exit_slippage_points"]) == ("exit_tp", 0.0)
    assert matched["r_diff"] == 0.0
    assert matched["reasons"] == []
    assert (extra["status"], extra["live_position"]) == ("extra", "5022")
    assert extra["live_r"] == 0.99
    (reason,) = extra["reasons"]
    assert reason["code"] == "opened_twice"
    assert reason["text"].startswith("opened twice: position 5021 entered 2")
    summary = result.summary
    assert summary["counts"] == {"backtest": 1, "live": 2, "matched": 1, "missed": 0, "extra": 1}
    assert summary["match_rate"] == 0.5
    assert summary["reasons"] == {"opened_twice": 1}
    assert summary["unexplained"] == 0
    # a whole-hour shift of the clock matches nothing more: no offset is named
    assert summary["server_time_offset"]["tried"] is True
    assert "text" not in summary["server_time_offset"]
