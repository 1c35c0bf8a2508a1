"""Ctrl-C on a client of the cluster, then the same command again: it resumes like the
local pool (the groups finished before the signal are neither recomputed nor checkpointed
again) and ends with the files of an uninterrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from tests.runner.helpers import (
    REPO,
    SYMBOL,
    checkpoint_lines,
    full_results,
    run_args,
    run_cli,
    runner_command,
    runner_env,
    without_run_time,
)


def _wait_for_record(out, group_id, proc, limit_s=60.0):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "checkpoint.jsonl").exists() and any(
            line.get("group_id") == group_id for line in checkpoint_lines(out)
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"{group_id} never reached the checkpoint")


def test_interrupted_client_resumes_without_recomputing(tls_cluster, dataset, tmp_path):
    # Arrange: group 002 sleeps on its worker long enough to be interrupted
    out, local_out = tmp_path / "out", tmp_path / "local"
    options = ("--skip-charts", "--no-report", "--scheduler-file", tls_cluster.scheduler_file)
    args = run_args(dataset.bars, dataset.groups, out, *options)
    proc = subprocess.Popen(
        runner_command(*args),
        cwd=REPO,
        env=runner_env("group_GER40_002:sleep=8"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_record(out, "group_GER40_001", proc)

    # Act
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    interrupted = json.loads((out / f"failed_groups_{SYMBOL}.json").read_text())["groups"]
    first = next(
        line for line in checkpoint_lines(out) if line.get("group_id") == "group_GER40_001"
    )
    resumed = run_cli(*args)
    local = run_cli(
        *run_args(dataset.bars, dataset.groups, local_out, "--skip-charts", "--no-report")
    )

    # Assert
    assert proc.returncode == 130
    assert "interrupted (SIGINT)" in stdout
    assert [(g["group_id"], g["error"]) for g in interrupted] == [
        ("group_GER40_002", "interrupted")
    ]
    assert resumed.returncode == 0, resumed.stderr
    assert "1 of 2 groups already finished" in resumed.stdout
    assert "group_GER40_001: R=" not in resumed.stdout  # not recomputed ...
    records = [line["group_id"] for line in checkpoint_lines(out) if "group_id" in line]
    assert records == ["group_GER40_001", "group_GER40_002"]  # ... nor checkpointed again
    kept = next(g for g in full_results(out)["groups"] if g["group_id"] == "group_GER40_001")
    assert (kept["elapsed_s"], kept["best"]) == (first["elapsed_s"], first["best"])
    assert kept["combos"][kept["best"]] == first["best_combo"]
    assert local.returncode == 0, local.stderr
    assert without_run_time(full_results(out)) == without_run_time(full_results(local_out))
