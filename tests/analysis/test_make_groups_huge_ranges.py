"""make-groups counts ranges from start/stop/step before making any value: two ranges of
10^7 steps (10^14 combinations), or two blocks that together pass run.max_combinations,
are refused at once (exit 2, one line), not after minutes and gigabytes of expansion."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEN_MILLION = "{start: 0.0001, stop: 1000.0, step: 0.0001}"  # 10^7 valid values
GRIDS = {
    "one block, 10^14 combinations": (
        f"symbol: GER40\ngrid:\n  sl_mult: {TEN_MILLION}\n  tp_mult: {TEN_MILLION}\n",
        "100,000,000,000,000 combinations (before constraints) is more than "
        "run.max_combinations 10,000,000",
    ),
    "two blocks of 10^7 each": (
        f"symbol: GER40\nblocks:\n  - grid: {{sl_mult: {TEN_MILLION}}}\n"
        f"  - grid: {{tp_mult: {TEN_MILLION}}}\n",
        "blocks[1]: the grids hold more than run.max_combinations 10,000,000 combinations",
    ),
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize("case", list(GRIDS))
def test_huge_grids_are_refused_within_seconds(tmp_path, case):
    # Arrange
    text, expected = GRIDS[case]
    grid = tmp_path / "huge.yaml"
    grid.write_text(text)
    command = [sys.executable, "-m", "invoke", "make-groups", "--grid", str(grid)]
    command += ["--groups", "4", "--output", str(tmp_path / "g.json")]
    # Act
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # Assert: the CLI's start-up (imports) is most of its CPU time (CPU, not wall clock:
    # the bound must not depend on what else the machine runs)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(grid) in line and expected in line
    assert cpu < 5, cpu
    assert not (tmp_path / "g.json").exists()
