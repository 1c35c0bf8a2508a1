"""The checkpoint stays small whatever a group's size: a finished group's combinations are
in its part file (OUT/parts/{group_id}.parquet) until the results are committed, then in
the results table only (the part is deleted, the record points there); the checkpoint line
holds the best combination, the count and how to check the rows. The Parquet table and
results_full agree combination for combination; a torn last record, a missing or altered
part, a table that lost a group: that group is run again, nothing else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pyarrow.compute as pc
import pyarrow.parquet as pq

from backtest.runner.store import PARAM_TYPES, table_records
from tests.runner.helpers import (
    REPO,
    SYMBOL,
    checkpoint_lines,
    copy_run,
    full_results,
    run_args,
    run_cli,
    runner_command,
    runner_env,
    without_run_time,
)

TABLE = f"results_combos_{SYMBOL}.parquet"


def test_parquet_table_and_results_full_agree_combination_for_combination(baseline):
    # Arrange
    full = full_results(baseline.out)
    table = pq.read_table(baseline.out / TABLE)

    # Act
    rows = table_records(table)
    inline = [c for g in full["groups"] for c in g["combos"]]
    ids = list(zip(table.column("group_id").to_pylist(), table.column("combo").to_pylist()))

    # Assert
    assert full["metadata"]["combos_inline"] is True
    assert full["metadata"]["combos_total"] == len(inline) == 16
    assert rows == inline
    assert ids == [(g["group_id"], i) for g in full["groups"] for i in range(len(g["combos"]))]
    assert pq.ParquetFile(baseline.out / TABLE).num_row_groups == 2


def test_committed_records_are_compact_and_point_at_the_table(baseline):
    records = [line for line in checkpoint_lines(baseline.out) if "group_id" in line]

    assert sorted(r["group_id"] for r in records) == ["group_GER40_001", "group_GER40_002"]
    for record in records:
        assert "combos" not in record
        assert record["part"] == {"table": TABLE, "rows": 8} and record["combos_count"] == 8
        assert set(record["best_combo"]["params"]) == set(PARAM_TYPES)
        assert len(json.dumps(record)) < 1500  # a 10^6-combination group's line is this size
    assert not list((baseline.out / "parts").glob("*"))  # the rows are held once


def test_torn_last_record_is_dropped_and_its_group_run_again(baseline, dataset, tmp_path):
    # Arrange: the run was killed while appending its last line, before committing results
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


def test_a_group_missing_from_the_table_is_run_again(baseline, dataset, tmp_path):
    # Arrange: a table that lost group 002's rows, not committed
    out = copy_run(baseline.out, tmp_path / "out")
    table = pq.read_table(out / TABLE)
    pq.write_table(table.filter(pc.equal(table.column("group_id"), "group_GER40_001")), out / TABLE)
    (out / f"results_manifest_{SYMBOL}.json").unlink()

    # Act
    resumed = run_cli(*run_args(dataset.bars, dataset.groups, out))

    # Assert
    assert resumed.returncode == 0, resumed.stderr
    assert "group group_GER40_002: " in resumed.stdout and "does not hold it" in resumed.stdout
    assert "group_GER40_001: R=" not in resumed.stdout
    assert "group_GER40_002: R=" in resumed.stdout
    assert without_run_time(full_results(out)) == without_run_time(full_results(baseline.out))


def _killed_after_first_group(dataset, out):
    """A runner SIGKILLed once group 001 is checkpointed (002 sleeps): parts, no results."""
    proc = subprocess.Popen(
        runner_command(*run_args(dataset.bars, dataset.groups, out, "--skip-charts")),
        cwd=REPO,
        env=runner_env("group_GER40_002:sleep=60"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (
        (out / "checkpoint.jsonl").exists()
        and any(line.get("group_id") == "group_GER40_001" for line in checkpoint_lines(out))
    ):
        assert time.monotonic() < deadline and proc.poll() is None, "001 never finished"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_a_missing_or_altered_part_is_run_again_the_rest_is_not(baseline, dataset, tmp_path):
    # Arrange: two killed runs; one loses group 001's part, the other has one appended to
    intact, missing, altered = (tmp_path / name for name in ("intact", "missing", "altered"))
    _killed_after_first_group(dataset, intact)
    for target in (missing, altered):
        copy_run(intact, target)
    (missing / "parts" / "group_GER40_001.parquet").unlink()
    with open(altered / "parts" / "group_GER40_001.parquet", "ab") as handle:
        handle.write(b"x")

    # Act
    runs = {
        p.name: run_cli(*run_args(dataset.bars, dataset.groups, p))
        for p in (intact, missing, altered)
    }

    # Assert
    for name, run in runs.items():
        assert run.returncode == 0, run.stderr
        assert ("group_GER40_001: R=" in run.stdout) == (name != "intact")
        assert "group_GER40_002: R=" in run.stdout
    assert "parts/group_GER40_001.parquet is missing; it is run again" in runs["missing"].stdout
    assert "(sha256 differs); it is run again" in runs["altered"].stdout
    for folder in (intact, missing, altered):
        assert without_run_time(full_results(folder)) == without_run_time(
            full_results(baseline.out)
        )
