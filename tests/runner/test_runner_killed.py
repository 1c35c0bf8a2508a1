"""kill -9 of the runner itself: its workers go too (none is left behind waiting or
computing), and the same command again finishes the run as if nothing happened."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from tests.runner.helpers import (
    REPO,
    checkpoint_lines,
    combos_bytes,
    run_args,
    run_cli,
    runner_command,
    runner_env,
    summary_bytes,
)


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as handle:
        return [int(p) for p in handle.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait(condition, limit_s: float = 30.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_sigkilled_runner_leaves_no_workers_and_resumes(baseline, dataset, tmp_path):
    out = tmp_path / "out"
    args = run_args(dataset.bars, dataset.groups, out, "--skip-charts")
    proc = subprocess.Popen(
        runner_command(*args),
        cwd=REPO,
        env=runner_env("group_GER40_002:sleep=30"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert _wait(
        lambda: (
            (out / "checkpoint.jsonl").exists()
            and any(r.get("group_id") == "group_GER40_001" for r in checkpoint_lines(out))
        )
    )
    workers = _children(proc.pid)

    proc.kill()
    proc.wait()
    gone = _wait(lambda: not any(_alive(pid) for pid in workers), limit_s=10.0)
    for pid in workers:  # do not leak them into the rest of the session
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    resumed = run_cli(*args)

    assert workers
    assert gone, "workers outlived their SIGKILLed runner"
    assert resumed.returncode == 0, resumed.stderr
    assert "1 of 2 groups already finished" in resumed.stdout
    assert summary_bytes(out) == summary_bytes(baseline.out)
    assert combos_bytes(out) == combos_bytes(baseline.out)
