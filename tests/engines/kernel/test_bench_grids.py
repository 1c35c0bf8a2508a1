"""The benchmark's grids are the workloads docs/BENCHMARK.md describes."""

from __future__ import annotations

import json

from bench.bench import reference_grid, standard_grid


def _distinct(combos):
    return {json.dumps(c, sort_keys=True) for c in combos}


def test_standard_grid_is_1000_distinct_combinations_over_two_ib_windows():
    # Act
    combos = standard_grid()
    # Assert
    assert len(combos) == len(_distinct(combos)) == 1000
    assert {(c["ib_start"], c["ib_end"]) for c in combos} == {
        ("09:00", "10:00"),
        ("08:00", "09:00"),
    }


def test_reference_grid_is_16_distinct_combinations():
    # Act
    combos = reference_grid()
    # Assert
    assert len(combos) == len(_distinct(combos)) == 16
