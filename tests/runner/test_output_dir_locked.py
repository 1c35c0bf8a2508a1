"""A second run on an output directory that a run is using is refused (exit code 2)
instead of computing every group twice and racing on the checkpoint."""

from __future__ import annotations

import fcntl
import os

from tests.runner.helpers import run_args, run_cli


def test_second_run_on_a_busy_output_dir_is_refused(dataset, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    held = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running runner holds
    try:
        result = run_cli(*run_args(dataset.bars, dataset.groups, out))
    finally:
        os.close(held)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "another run is using it" in lines[0], result.stderr
    assert sorted(p.name for p in out.iterdir()) == [".lock"]


def test_the_lock_is_released_when_a_run_ends(dataset, tmp_path):
    out = tmp_path / "out"
    first = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"))

    second = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"))

    assert (first.returncode, second.returncode) == (0, 0), second.stderr
