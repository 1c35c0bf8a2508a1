"""The runner's parent never holds a run's combinations: its traced memory (tracemalloc,
which numpy reports to) stays flat when the run has eight times as many combinations.
Before the compact checkpoint the parent expanded every combination up front and kept
each one's params and metrics in its records: about 2.5 KB a combination, 35 MB more here."""

from __future__ import annotations

import json
import tracemalloc

from tests.runner.helpers import run_args

PER_GROUP = {"sl_mult": [0.3 + 0.1 * i for i in range(20)], "tp_mult": [0.1 * i for i in range(25)]}


def _peak_bytes(dataset, tmp_path, n_groups: int) -> int:
    from backtest.runner.main import main

    ends = ["09:30", "10:00", "10:30", "11:00"]
    groups = [
        {"group_id": f"g{n:03d}", "params": {"ib_end": ends[n % 4]}, "grid": PER_GROUP}
        for n in range(n_groups)
    ]
    path = tmp_path / f"groups_{n_groups}.json"
    path.write_text(json.dumps({"symbol": "GER40", "groups": groups}))
    out = tmp_path / f"out_{n_groups}"
    tracemalloc.start()
    try:
        code = main(
            [str(a) for a in run_args(dataset.bars, path, out, "--skip-charts", "--no-report")]
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0
    return peak


def test_parent_memory_does_not_grow_with_the_number_of_combinations(dataset, tmp_path):
    # Arrange: a first run pays the one-time costs (imports, compiled kernels)
    _peak_bytes(dataset, tmp_path, 1)

    # Act: 2,000 and 16,000 combinations (groups of 500)
    small = _peak_bytes(dataset, tmp_path, 4)
    large = _peak_bytes(dataset, tmp_path, 32)

    # Assert: 14,000 more combinations cost the parent less than 600 bytes each
    assert large - small < 14_000 * 600, (small, large)
