"""The checkpoint stays small whatever a group's size: each finished group's combinations
are in its part file (OUT/parts/{group_id}.parquet), the checkpoint line holds its best
combination and the part's sha256. The Parquet table and results_full agree combination
for combination; a torn last record, a missing or altered part are run again, nothing else."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from backtest.runner.store import PARAM_TYPES, table_records
from tests.runner.helpers import (
    SYMBOL,
    checkpoint_lines,
    copy_run,
    full_results,
    run_args,
    run_cli,
    without_run_time,
)


def test_parquet_table_and_results_full_agree_combination_for_combination(baseline):
    # Arrange
    full = full_results(baseline.out)
    table = pq.read_table(baseline.out / f"results_combos_{SYMBOL}.parquet")

    # Act
    rows = table_records(table)
    inline = [c for g in full["groups"] for c in g["combos"]]
    ids = list(zip(table.column("group_id").to_pylist(), table.column("combo").to_pylist()))

    # Assert
    assert full["metadata"]["combos_inline"] is True
    assert full["metadata"]["combos_total"] == len(inline) == 16
    assert rows == inline
    assert ids == [(g["group_id"], i) for g in full["groups"] for i in range(len(g["combos"]))]
    assert pq.ParquetFile(baseline.out / f"results_combos_{SYMBOL}.parquet").num_row_groups == 2


def test_checkpoint_records_are_compact_and_name_their_part(baseline):
    records = [line for line in checkpoint_lines(baseline.out) if "group_id" in line]

    for record in records:
        part = baseline.out / record["part"]["file"]
        assert "combos" not in record
        assert record["part"]["file"] == f"parts/{record['group_id']}.parquet"
        assert pq.read_table(part).num_rows == record["combos_count"] == 8
        assert set(record["best_combo"]["params"]) == set(PARAM_TYPES)
        assert len(json.dumps(record)) < 1500  # a 10^6-combination group's line is this size


def test_torn_last_record_is_dropped_and_its_group_run_again(baseline, dataset, tmp_path):
    # Arrange: the run was killed while appending the second group's line, before results
    out = copy_run(baseline.out, tmp_path / "out")
    text = (out / "checkpoint.jsonl").read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    torn, kept = json.loads(last)["group_id"], json.loads(text.splitlines()[1])["group_id"]
    (out / "checkpoint.jsonl").write_text(text[: len(text) - len(last) // 2 - 1])
    (out / f"results_manifest_{SYMBOL}.json").unlink()

    # Act
    resumed = run_cli(*run_args(dataset.bars, dataset.groups, out))

    # Assert
    assert resumed.returncode == 0, resumed.stderr
    assert "dropped a torn last line" in resumed.stdout + resumed.stderr
    assert "1 of 2 groups already finished" in resumed.stdout
    assert f"{kept}: R=" not in resumed.stdout
    assert f"{torn}: R=" in resumed.stdout
    assert without_run_time(full_results(out)) == without_run_time(full_results(baseline.out))


def test_a_missing_or_altered_part_is_run_again_the_rest_is_not(baseline, dataset, tmp_path):
    # Arrange
    out = copy_run(baseline.out, tmp_path / "out")
    (out / "parts" / "group_GER40_001.parquet").unlink()
    with open(out / "parts" / "group_GER40_002.parquet", "ab") as handle:
        handle.write(b"x")
    (out / f"results_manifest_{SYMBOL}.json").unlink()
    third = tmp_path / "same"
    copy_run(baseline.out, third)
    (third / "parts" / "group_GER40_002.parquet").unlink()

    # Act
    both = run_cli(*run_args(dataset.bars, dataset.groups, out))
    one = run_cli(*run_args(dataset.bars, dataset.groups, third))

    # Assert
    assert both.returncode == 0 and one.returncode == 0, both.stderr + one.stderr
    assert "group group_GER40_001: " in both.stdout and "is missing; it is run again" in both.stdout
    assert "sha256 differs); it is run again" in both.stdout
    assert "group_GER40_001: R=" in both.stdout and "group_GER40_002: R=" in both.stdout
    assert "group_GER40_001: R=" not in one.stdout and "group_GER40_002: R=" in one.stdout
    for folder in (out, third):
        assert without_run_time(full_results(folder)) == without_run_time(
            full_results(baseline.out)
        )
