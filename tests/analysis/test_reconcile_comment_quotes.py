"""A deal comment with commas and quotes, reconciled (both formats): the row keeps it as
written, the CSV output quotes it, the HTML output escapes it. The backtest (2024-01-11,
an S day): short at 16000.00, TP 15980.00, R +1. The bot: short at 15999.90 (10 points
worse for a sell), out at the TP 15980.00. By hand: entry diff and slippage 10 points,
exit diff 0, TP slippage 0, live R = (15999.90 - 15980.00) / 0.01 / 2000 = 0.995,
R diff -0.005."""

import csv

import pytest

from backtest.analysis.reconcile import Request, reconcile
from backtest.analysis.reconcile_outputs import write_outputs
from tests.analysis.reconcile_helpers import SERVER_TZ, deployment, fixture, shared_bars

COMMENT = 'ib "short", v2 <risk=4>'


@pytest.mark.parametrize("name", ["comment_quotes.csv", "comment_quotes.html"])
def test_comment_with_commas_and_quotes_reconciled(tmp_path_factory, tmp_path, name):
    result = reconcile(
        Request(fixture(name), shared_bars(tmp_path_factory), deployment(), server_tz=SERVER_TZ)
    )

    (row,) = result.rows
    assert (row["status"], row["direction"], row["live_comment"]) == ("matched", "short", COMMENT)
    assert (row["entry_diff_points"], row["entry_slippage_points"]) == (10.0, 10.0)
    assert (row["exit_diff_points"], row["exit_slippage_points"]) == (0.0, 0.0)
    assert (row["live_r"], row["r_diff"]) == (0.995, -0.005)

    paths = write_outputs(result, tmp_path)
    with open(paths["csv"], newline="") as handle:
        (written,) = list(csv.DictReader(handle))
    assert written["live_comment"] == COMMENT
    page = paths["html"].read_text()
    assert "ib &quot;short&quot;, v2 &lt;risk=4&gt;" in page
    assert COMMENT not in page
