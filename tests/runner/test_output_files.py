"""A 2 groups × 8 combinations run with 2 workers writes every io-contract file."""

from __future__ import annotations

import csv
import datetime as dt
import json

from backtest.core.checksum import file_checksum
from backtest.core.version import code_version
from backtest.strategy.params import PARAM_NAMES
from tests.runner.helpers import END, GROUP_IDS, START, SYMBOL, full_results

LEAD_COLUMNS = ["group_id", "total_r", "sharpe", "trades", "winrate", "profit_factor", "max_dd_r"]
METADATA_KEYS = {
    "symbol",
    "period",
    "start_date",
    "end_date",
    "data_file",
    "data_checksum",
    "code_version",
    "host",
    "workers",
    "start_time",
    "end_time",
}


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_summary_has_one_row_per_group_with_the_best_combination(baseline):
    full = full_results(baseline.out)
    rows = _rows(baseline.out / f"results_summary_{SYMBOL}.csv")
    columns = list(rows[0])
    assert columns[:7] == LEAD_COLUMNS
    assert set(PARAM_NAMES) <= set(columns)
    assert sorted(r["group_id"] for r in rows) == sorted(GROUP_IDS)
    totals = [float(r["total_r"]) for r in rows]
    assert totals == sorted(totals, reverse=True)
    for row in rows:
        group = next(g for g in full["groups"] if g["group_id"] == row["group_id"])
        best_r = max(c["metrics"]["total_r"] for c in group["combos"])
        assert float(row["total_r"]) == round(best_r, 4)  # the CSV rounds R to 4 decimals
        assert group["combos"][group["best"]]["metrics"]["total_r"] == best_r
        assert row["weekdays"] == "[0, 1, 2, 3, 4]"


def test_combos_csv_has_every_combination_sorted_by_total_r(baseline):
    summary_columns = list(_rows(baseline.out / f"results_summary_{SYMBOL}.csv")[0])
    rows = _rows(baseline.out / f"results_combos_{SYMBOL}.csv")
    assert len(rows) == 16
    assert set(summary_columns) <= set(rows[0])
    totals = [float(r["total_r"]) for r in rows]
    assert totals == sorted(totals, reverse=True)
    assert {r["group_id"] for r in rows} == set(GROUP_IDS)


def test_full_json_has_metadata_and_group_records(baseline, dataset):
    full = full_results(baseline.out)
    meta = full["metadata"]
    assert METADATA_KEYS <= set(meta)
    assert (meta["symbol"], meta["period"], meta["start_date"], meta["end_date"]) == (
        SYMBOL,
        "in_sample",
        START,
        END,
    )
    assert meta["data_checksum"] == file_checksum(dataset.bars)
    assert meta["code_version"] == code_version()
    for key in ("start_time", "end_time"):
        assert dt.datetime.fromisoformat(meta[key]).utcoffset() is not None
    assert [g["group_id"] for g in full["groups"]] == list(GROUP_IDS)
    for group in full["groups"]:
        assert group["status"] == "ok" and group["elapsed_s"] >= 0
        assert len(group["combos"]) == 8
        for combo in group["combos"]:
            assert set(combo["params"]) == set(PARAM_NAMES)
            assert "trades" not in combo  # only with --save-trades
            assert {"total_r", "trades", "sharpe", "max_dd_r"} <= set(combo["metrics"])


def test_failed_groups_file_is_empty_and_charts_are_drawn(baseline):
    failed = json.loads((baseline.out / f"failed_groups_{SYMBOL}.json").read_text())
    charts = sorted(p.name for p in (baseline.out / "charts").glob("*.png"))
    assert failed == {"symbol": SYMBOL, "groups": []}
    assert all(any(name.startswith(gid) for name in charts) for gid in GROUP_IDS)
