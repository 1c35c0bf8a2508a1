"""SIGTERM mid-run, then the same command again: the same files as an uninterrupted run,
and the groups finished before the signal are not computed again."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from tests.runner.helpers import (
    REPO,
    SYMBOL,
    checkpoint_lines,
    combos_bytes,
    full_results,
    run_args,
    run_cli,
    runner_command,
    runner_env,
    summary_bytes,
    without_run_time,
)


def _wait_for_checkpoint_record(out, group_id, proc, limit_s=60.0):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and proc.poll() is None:
        path = out / "checkpoint.jsonl"
        if path.exists() and any(
            line.get("group_id") == group_id for line in checkpoint_lines(out)
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"{group_id} never reached the checkpoint")


def test_sigterm_then_resume_equals_an_uninterrupted_run(baseline, dataset, tmp_path):
    out = tmp_path / "out"
    args = run_args(dataset.bars, dataset.groups, out, "--skip-charts")
    proc = subprocess.Popen(
        runner_command(*args),
        cwd=REPO,
        env=runner_env("group_GER40_002:sleep=60"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_checkpoint_record(out, "group_GER40_001", proc)

    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    interrupted = json.loads((out / f"failed_groups_{SYMBOL}.json").read_text())["groups"]
    first_record = next(
        line for line in checkpoint_lines(out) if line.get("group_id") == "group_GER40_001"
    )
    resumed = run_cli(*args)

    assert proc.returncode == 143
    assert "interrupted (SIGTERM)" in stdout
    assert "done: 1 of 2 groups ok, 0 failed, 1 interrupted" in stdout + stderr
    assert [(g["group_id"], g["error"]) for g in interrupted] == [
        ("group_GER40_002", "interrupted")
    ]
    assert resumed.returncode == 0, resumed.stderr
    assert "1 of 2 groups already finished" in resumed.stdout
    assert "group_GER40_001: R=" not in resumed.stdout  # not recomputed ...
    records = [line["group_id"] for line in checkpoint_lines(out) if "group_id" in line]
    assert records == ["group_GER40_001", "group_GER40_002"]  # ... nor checkpointed again
    final_record = next(
        g for g in full_results(out)["groups"] if g["group_id"] == "group_GER40_001"
    )
    assert (final_record["elapsed_s"], final_record["best"]) == (
        first_record["elapsed_s"],
        first_record["best"],
    )
    assert final_record["combos"][final_record["best"]] == first_record["best_combo"]
    assert summary_bytes(out) == summary_bytes(baseline.out)
    assert combos_bytes(out) == combos_bytes(baseline.out)
    assert without_run_time(full_results(out)) == without_run_time(full_results(baseline.out))
    assert json.loads((out / f"failed_groups_{SYMBOL}.json").read_text())["groups"] == []
