"""The result files prepared group by group while a run goes on (backtest.runner.prepared)
are the bytes write_results makes from scratch: groups finishing in any order, failed,
finished before the run (resume), never finished (interrupted), an inline guess that
turns out wrong; and the prepared shares are what the end takes."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import backtest.runner.outputs as outputs
from backtest.runner.outputs import result_paths, write_results
from backtest.runner.pool import failed_record
from backtest.runner.prepared import Prepared
from backtest.runner.rundir import group_rows, manifest_path, write_part
from backtest.runner.store import batch_table, row_record
from backtest.strategy.metrics import METRIC_KEYS
from backtest.strategy.params import resolve_params
from tests.runner.helpers import SYMBOL, full_results, run_args, run_cli

IDS = [f"g{n}" for n in range(7)]


def _rows(gid: str, n: int, rng: random.Random) -> pa.Table:
    """``n`` combinations with few distinct total_r (ties within and across groups)."""
    params = [
        resolve_params(
            SYMBOL,
            {
                "sl_mult": rng.choice([0.5, 1, 1.25]),
                "direction": rng.choice(["both", "long"]),
                "weekdays": rng.choice([[0, 1, 2, 3, 4], [1, 3]]),
            },
        )
        for _ in range(n)
    ]
    metrics = {name: np.array([rng.uniform(-50, 50) for _ in range(n)]) for name in METRIC_KEYS}
    metrics["total_r"] = np.array([rng.choice([-1.5, 0.0, 2.25, 7.0]) for _ in range(n)])
    metrics["profit_factor"][::4] = np.nan
    for name in ("trades", "max_losing_streak", "skipped"):
        metrics[name] = np.array([rng.randint(0, 99) for _ in range(n)])
    metrics["prop_ok"] = np.array([rng.random() < 0.5 for _ in range(n)])
    return batch_table(gid, 0, params, metrics)


def _run_dir(out: Path, seed: int) -> list[dict]:
    """Part files of ok groups of 1-40 combinations and a failed group; their records in
    groups-file order (as a worker leaves them)."""
    rng = random.Random(seed)
    records = []
    for gid in IDS:
        if gid == "g3":
            records.append(failed_record(gid, "RuntimeError: boom", 0.1))
            continue
        table = _rows(gid, rng.randint(1, 40), rng)
        best = int(np.argmax(table.column("total_r").to_numpy()))
        records.append(
            {
                "group_id": gid,
                "status": "ok",
                "elapsed_s": 0.5,
                "combos_count": table.num_rows,
                "best": best,
                "best_combo": row_record(table, best),
                "part": write_part(out, gid, [table]),
            }
        )
    return records


def _files(out: Path) -> dict[str, bytes]:
    paths = [*result_paths(out, SYMBOL).values(), manifest_path(out, SYMBOL)]
    return {p.name: p.read_bytes() for p in paths}


class _Counted:
    """The rows the end reads (a group whose shares are all prepared is not read)."""

    def __init__(self, out: Path) -> None:
        self.out, self.read = out, []

    def __call__(self, record):
        self.read.append(record["group_id"])
        return group_rows(self.out, record)


# (seed, finished before the run, never finished, inline guess, inline limit)
SCENARIOS = [
    (1, [], [], True, 100_000),  # a fresh run, groups finishing in any order
    (2, ["g0", "g4"], [], True, 100_000),  # a resume
    (3, ["g1"], ["g2", "g5"], True, 100_000),  # a resumed run interrupted
    (4, [], ["g6"], True, 10),  # guessed inline, not inline at the end
    (5, [], [], False, 100_000),  # guessed not inline, inline at the end
]


@pytest.mark.parametrize(("seed", "before", "unfinished", "guess", "limit"), SCENARIOS)
def test_prepared_files_are_the_bytes_written_from_scratch(
    tmp_path, monkeypatch, seed, before, unfinished, guess, limit
):
    # Arrange: two copies of a run's parts; the groups of this run finish in a random
    # order, the last one flagged as the run's last
    monkeypatch.setattr(outputs, "INLINE_LIMIT", limit)
    out, scratch = tmp_path / "prepared", tmp_path / "scratch"
    records = _run_dir(out, seed)
    shutil.copytree(out, scratch)
    done = {r["group_id"]: r for r in records if r["group_id"] in before}
    finishing = [r for r in records if r["group_id"] not in before + unfinished]
    random.Random(seed).shuffle(finishing)
    final = [
        failed_record(r["group_id"], "interrupted", 0.0) if r["group_id"] in unfinished else r
        for r in records
    ]
    metadata = {"symbol": SYMBOL, "note": "é"}
    rows = _Counted(out)

    # Act
    write_results(scratch, SYMBOL, metadata, final, [])
    with Prepared(out, IDS, done, guess) as prepared:
        for n, record in enumerate(finishing):
            prepared.add(record, last=n == len(finishing) - 1 and not unfinished)
        write_results(out, SYMBOL, metadata, final, [], rows, prepared)

    # Assert: every file the same bytes; the end read only the groups it had to (an ok
    # group after one that never finished: its row group; the last group: its text)
    assert _files(out) == _files(scratch)
    assert full_results(out)["metadata"]["combos_inline"] is (limit == 100_000)
    if not unfinished and guess and limit == 100_000:
        assert rows.read == [finishing[-1]["group_id"]]
    if not unfinished and not guess:
        assert sorted(rows.read) == sorted(r["group_id"] for r in records if r["status"] == "ok")
    if unfinished:
        first = IDS.index(unfinished[0])
        later_ok = [r["group_id"] for r in final[first:] if r["status"] == "ok"]
        assert set(later_ok) <= set(rows.read)


def test_a_prepared_share_of_another_record_is_not_taken(tmp_path):
    # Arrange: every group prepared; then the first one's record and rows change (a
    # group run again gets a new part and record)
    out, scratch = tmp_path / "prepared", tmp_path / "scratch"
    records = _run_dir(out, seed=9)
    with Prepared(out, IDS, {}, True) as prepared:
        for record in records:
            prepared.add(record)
        table = _rows("g0", 5, random.Random(10))
        changed = {**records[0], "combos_count": 5, "best": 0, "best_combo": row_record(table, 0)}
        changed["part"] = write_part(out, "g0", [table])
        final = [changed, *records[1:]]
        shutil.copytree(out, scratch)
        rows = _Counted(out)

        # Act
        write_results(scratch, SYMBOL, {"symbol": SYMBOL}, final, [])
        write_results(out, SYMBOL, {"symbol": SYMBOL}, final, [], rows, prepared)

    # Assert: the changed group is written as it now is
    assert rows.read.count("g0") == 2  # its row group and its text (its run: from the table)
    assert _files(out) == _files(scratch)


def test_a_run_with_groups_finishing_out_of_order_writes_the_bytes_of_a_fresh_writer(
    dataset, tmp_path
):
    # Arrange: the first group takes a second longer, so the second finishes first
    out = tmp_path / "out"
    fault = "group_GER40_001:sleep=1"

    # Act
    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"), fault=fault)
    full = full_results(out)
    write_results(
        tmp_path / "again",
        SYMBOL,
        full["metadata"],
        full["groups"],
        [],
        outputs.RunRows(out, SYMBOL),
    )

    # Assert
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in (out / "checkpoint.jsonl").read_text().splitlines()[1:]]
    assert [x["group_id"] for x in lines] == ["group_GER40_002", "group_GER40_001"]
    assert _files(out) == _files(tmp_path / "again")
    assert [p.name for p in out.rglob(".*")] == [".lock"]  # no temporary file left
