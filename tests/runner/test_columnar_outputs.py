"""The result files written column-wise from the parts: the combos CSV equals the row
writer's text, whatever the sort's chunk size; above the inline limit results_full leaves
the combinations to the Parquet table, and readers (read_results, merge) get the same
combinations back."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import backtest.runner.outputs as outputs
import backtest.runner.table_text as table_text
from backtest.runner.store import batch_table, combos_schema
from backtest.strategy.metrics import METRIC_KEYS
from backtest.strategy.params import resolve_params
from tests.runner.helpers import SYMBOL, full_results, run_args


def _random_rows(n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    params = [
        resolve_params(
            "GER40",
            {
                "sl_mult": rng.choice([0.5, 1, 1.25]),
                "tp_mult": rng.choice([0.0, 2.5]),
                "direction": rng.choice(["both", "long"]),
                "weekdays": rng.choice([[0, 1, 2, 3, 4], [1, 3]]),
            },
        )
        for _ in range(n)
    ]
    metrics = {name: np.array([rng.uniform(-50, 50) for _ in range(n)]) for name in METRIC_KEYS}
    metrics["total_r"] = np.array([rng.choice([-1.23456789, 0.0, 2.5, 1e-7]) for _ in range(n)])
    metrics["profit_factor"][::3] = math.nan  # null where the spec says null
    for name in ("trades", "max_losing_streak", "skipped"):
        metrics[name] = np.array([rng.randint(0, 500) for _ in range(n)])
    metrics["prop_ok"] = np.array([rng.random() < 0.5 for _ in range(n)])
    return batch_table("g1", 0, params, metrics)


def test_column_writer_equals_the_row_writer():
    # Arrange
    table = _random_rows(300, seed=3)
    columns = ["group_id", "combo", *outputs.table_columns()[0], *outputs.table_columns()[1]]
    rows = [{**r["params"], **r["metrics"]} for r in outputs.table_records(table)]
    for n, row in enumerate(rows):
        row.update(group_id="g1", combo=n)

    # Act
    by_columns = ",".join(columns) + "\n" + table_text.csv_bytes(table, columns).decode()
    by_rows = outputs.csv_text(columns, rows, rounding=True)

    # Assert
    assert by_columns == by_rows
    assert '"[1, 3]"' in by_columns and ",," in by_columns  # a quoted list, a null


def test_sorted_csv_is_the_whole_table_sorted_in_one_chunk_or_many(tmp_path, monkeypatch):
    # Arrange: row groups (sorted runs) of different sizes, many ties of total_r within
    # and across them, one empty
    path = tmp_path / "t.parquet"
    with pq.ParquetWriter(path, combos_schema()) as writer:
        for n, seed in enumerate((1, 2, 3, 4)):
            writer.write_table(_random_rows((97, 1, 0, 40)[n], seed))
    columns = ["group_id", "combo", "total_r", "sl_mult", "prop_ok"]
    table = pq.read_table(path)
    order = np.argsort(-table.column("total_r").to_numpy(), kind="stable")
    expected = ",".join(columns) + "\n" + table_text.csv_bytes(table.take(order), columns).decode()

    # Act
    outputs.write_sorted_csv(tmp_path / "one.csv", path, columns)
    monkeypatch.setattr(table_text, "SORT_CHUNK", 7)
    outputs.write_sorted_csv(tmp_path / "many.csv", path, columns)

    # Assert: the stable descending order of the whole table, ties in table order
    assert (tmp_path / "one.csv").read_text() == expected
    assert (tmp_path / "many.csv").read_text() == expected
    assert len(set(table.column("total_r").to_pylist())) < table.num_rows  # ties tested


def test_inline_combinations_by_columns_are_the_json_dumps_bytes(tmp_path):
    # Arrange: random rows (nulls, NaN, lists, strings), a group with kept trades (written
    # by json.dumps), a failed group, a group whose total_r holds an infinity
    tables = {f"g{n}": _random_rows(n * 23 + 1, seed=n) for n in range(4)}
    infinite = tables["g3"].column("total_r").to_numpy().copy()
    infinite[0] = math.inf
    tables["g3"] = tables["g3"].set_column(
        tables["g3"].schema.get_field_index("total_r"), "total_r", pa.array(infinite)
    )
    groups = [
        {"group_id": gid, "status": "ok", "elapsed_s": 0.5, "best": 0, "combos_count": 1}
        for gid in tables
    ]
    groups[1]["trades"] = {"0": [{"r": 1.5, "side": "long"}]}
    groups.insert(2, {"group_id": "bad", "status": "failed", "error": "x", "elapsed_s": 0.0})
    rows = lambda g: tables[g["group_id"]]  # noqa: E731
    metadata = {"symbol": "GER40", "note": "é"}

    # Act
    outputs._write_full(tmp_path / "col.json", metadata, groups[:4], rows, True)
    with pytest.raises(ValueError, match="Out of range float values"):
        outputs._write_full(tmp_path / "inf.json", metadata, groups, rows, True)

    # Assert
    whole = {
        "metadata": metadata,
        "groups": [outputs.full_record(g, rows, True) for g in groups[:4]],
    }
    assert (tmp_path / "col.json").read_text() == json.dumps(whole, allow_nan=False) + "\n"
    assert "null" in (tmp_path / "col.json").read_text()


@pytest.fixture
def not_inline(monkeypatch):
    """Runs of more than 5 combinations leave them out of results_full."""
    monkeypatch.setattr(outputs, "INLINE_LIMIT", 5)


def _in_process(bars, groups, out, *extra):
    """The runner's main() in this process (its workers fork from it: the monkeypatched
    limit holds there too)."""
    from backtest.runner.main import main

    return main([str(a) for a in run_args(bars, groups, out, "--no-report", *extra)])


def test_above_the_inline_limit_the_table_holds_the_combinations(
    baseline, dataset, tmp_path, not_inline
):
    # Arrange
    out = tmp_path / "out"

    # Act
    code = _in_process(dataset.bars, dataset.groups, out, "--skip-charts", "--save-trades", "top:2")
    full = full_results(out)
    read = outputs.read_results(out, SYMBOL)
    inline = outputs.read_results(baseline.out, SYMBOL)

    # Assert
    assert code == 0
    assert full["metadata"]["combos_inline"] is False and full["metadata"]["combos_total"] == 16
    assert all("combos" not in g and g["combos_count"] == 8 for g in full["groups"])
    assert [g["best_combo"] for g in full["groups"]] == [
        g["combos"][g["best"]] for g in full_results(baseline.out)["groups"]
    ]
    for got, want in zip(read["groups"], inline["groups"]):
        strip = [{k: v for k, v in c.items() if k != "trades"} for c in got["combos"]]
        assert strip == want["combos"]
        assert sum("trades" in c for c in got["combos"]) == 2
    assert (out / f"results_combos_{SYMBOL}.csv").read_bytes() == (
        baseline.out / f"results_combos_{SYMBOL}.csv"
    ).read_bytes()


def test_merge_of_halves_beyond_the_inline_limit_equals_the_whole(
    baseline, dataset, tmp_path, not_inline
):
    # Arrange: two halves of the sweep, each committed without inline combinations
    from backtest.analysis.merge import merge_dirs

    whole_file = json.loads(dataset.groups.read_text())
    halves = []
    for n, group in enumerate(whole_file["groups"]):
        groups = tmp_path / f"g{n}.json"
        groups.write_text(json.dumps({**whole_file, "groups": [group]}))
        out = tmp_path / f"half{n}"
        assert _in_process(dataset.bars, groups, out, "--skip-charts") == 0
        assert full_results(out)["metadata"]["combos_inline"] is False
        halves.append(out)

    # Act
    merge_dirs(halves, tmp_path / "merged", SYMBOL, groups_file=dataset.groups)

    # Assert
    merged = pq.read_table(tmp_path / "merged" / f"results_combos_{SYMBOL}.parquet")
    whole = pq.read_table(baseline.out / f"results_combos_{SYMBOL}.parquet")
    assert merged.equals(whole)
    assert full_results(tmp_path / "merged")["metadata"]["combos_inline"] is False
