"""The report at the end of a run reads the run as the runner holds it (its results and
bars in memory, the rows from the committed table) instead of parsing results_full and
reloading the data file (issue 26): the page's data is the same as when read from OUT,
the trades' re-run included."""

from __future__ import annotations

import json

from backtest.analysis.report import report_data
from backtest.analysis.table import RunInHand
from backtest.runner.execute import run_backtest
from tests.runner.helpers import SYMBOL, run_options


def test_the_report_from_the_run_in_hand_is_the_report_from_its_files(dataset, tmp_path):
    out = tmp_path / "out"
    run = run_backtest(run_options(dataset.bars, dataset.groups, out))
    assert run.results is not None and run.bars is not None

    held = report_data(out, SYMBOL, held=RunInHand(run.results, run.bars))
    read = report_data(out, SYMBOL)

    assert held["detail_source"] == read["detail_source"] == "rerun"
    assert held["details"]  # the best combinations' trades, re-run on the run's bars
    assert json.dumps(held, sort_keys=True) == json.dumps(read, sort_keys=True)
