"""results_combos_{SYMBOL}.parquet: the combinations of results_full, typed, full precision."""

from __future__ import annotations

import json

import pyarrow.parquet as pq


def test_parquet_table_equals_results_full_combination_for_combination(baseline):
    full = json.loads((baseline.out / "results_full_GER40.json").read_text())
    expected = [
        {"group_id": g["group_id"], "combo": i, **c["params"], **c["metrics"]}
        for g in full["groups"]
        if g["status"] == "ok"
        for i, c in enumerate(g["combos"])
    ]

    path = baseline.out / "results_combos_GER40.parquet"
    table = pq.read_table(path)

    assert table.to_pylist() == expected
    assert pq.ParquetFile(path).num_row_groups == len(full["groups"])
    types = {f.name: str(f.type) for f in table.schema}
    assert types["total_r"] == types["profit_factor"] == "double"
    assert types["trades"] == "int64" and types["prop_ok"] == "bool"
    assert types["weekdays"].startswith("list<")


def test_parquet_is_committed_by_the_manifest(baseline):
    manifest = json.loads((baseline.out / "results_manifest_GER40.json").read_text())

    assert manifest["files"]["parquet"]["name"] == "results_combos_GER40.parquet"
