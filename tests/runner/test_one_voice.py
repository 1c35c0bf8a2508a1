"""One voice on the command line: `error:` lines naming the option, help on -h, and a
run that says when there was nothing left to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.runner.helpers import REPO, run_args, run_cli

BIN = Path(sys.executable).parent


def tool(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / name), *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_bare_backtest_says_what_it_needs_in_one_line():
    result = tool("invoke", "backtest")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --groups-file is required: the groups file (JSON) to run, e.g. "
        "invoke backtest --groups-file examples/groups_GER40.json"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("check-data", "--file", "/nonexistent.csv", "--symbol", "GER40"),
        ("merge", "--dir", "/nonexistent", "--output", "/tmp/ibsweep-none"),
        ("rank", "--from", "/nonexistent"),
    ],
)
def test_task_errors_start_with_error(args):
    result = tool("invoke", *args)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_fab_h_is_help_not_host():
    result = tool("fab", "deploy", "-h")

    assert result.returncode == 0
    assert "Usage: fab" in result.stdout and "--host" in result.stdout


def test_a_finished_run_says_nothing_was_left(baseline, dataset):
    result = run_cli(*run_args(dataset.bars, dataset.groups, baseline.out))

    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert "nothing left to run: all 2 groups finished before" in said
    assert "done: 2 of 2 groups ok, 0 failed, 0 interrupted" in said
