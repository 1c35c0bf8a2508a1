"""The benchmark's runner rows: the sizes option and the phases read from a run's lines."""

from __future__ import annotations

import pytest

from bench.bench import runner_sizes
from bench.scale import arrival_phases


def test_phases_split_a_run_at_its_lines():
    # Arrange: the lines of a run and the second each arrived; the process ended at 30 s
    lines = [
        "2026-12-05 06:00:00 - INFO - GER40 in_sample ...",
        "2026-12-05 06:00:03 - INFO - sweep kernels ready in 0.3s; shared tables built",
        "2026-12-05 06:00:05 - INFO - [1/2] g1: R=1.00, Trades=3, ETA: 0.0min",
        "2026-12-05 06:00:09 - INFO - [2/2] g2: R=2.00, Trades=3, ETA: 0.0min",
        "2026-12-05 06:00:12 - INFO - done: 2 of 2 groups ok, 0 failed, 0 interrupted",
        "report: out/report_GER40.html (1.0 MB, 2.0 s)",
    ]
    result = {"lines": lines, "arrived": [1.0, 3.5, 5.0, 9.0, 12.25, 29.0], "seconds": 30.0}

    # Act
    got = arrival_phases(result)

    # Assert
    assert got == {"start-up": 3.5, "groups": 5.5, "writing": 3.25, "report": 17.75}


def test_runner_sizes_option():
    assert runner_sizes(None, False, 2) == [(100_000, 1), (1_000_000, 2)]
    assert runner_sizes(None, True, 2) == [(10_000, 1)]
    assert runner_sizes("10_000_000:2, 100000", False, 2) == [(10_000_000, 2), (100_000, 1)]
    assert runner_sizes("none", False, 2) == []
    with pytest.raises(ValueError):
        runner_sizes("lots:2", False, 2)
