"""The combination count is bounded before anything is expanded: above the limit the
run is refused with the count and the estimated time (exit 2, nothing written)."""

from __future__ import annotations

from tests.runner.bad_input import assert_refused
from tests.runner.helpers import run_args, run_cli


def test_option_limit_refuses_with_count_and_estimate(dataset, tmp_path):
    # Arrange: the dataset's groups hold 2 x 8 = 16 combinations
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--max-combinations", 15))
    # Assert
    line = assert_refused(result, out, "groups.json", "16 combinations", "limit of 15 per run")
    assert "estimated time" in line and "on 2 workers over 10 weekdays" in line


def test_config_limit_applies_without_the_option(dataset, tmp_path):
    # Arrange
    config = tmp_path / "limit.yaml"
    config.write_text("run:\n  max_combinations: 10\n")
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--config", config))
    # Assert
    assert_refused(result, out, "16 combinations", "limit of 10 per run")


def test_a_grid_of_ten_billion_is_refused_at_once(dataset, tmp_path):
    # Arrange: 10 axes of 10 values: 10**10 combinations, never expanded
    import json

    grid = {"sl_mult": [0.1 * (k + 1) for k in range(10)], "tp_mult": list(range(10))}
    grid |= {"entry_buffer": [k / 100 for k in range(10)], "news_before": list(range(10))}
    grid |= {"news_after": list(range(10)), "min_ib": list(range(10)), "max_ib": list(range(10))}
    grid |= {"max_trades_per_day": list(range(1, 11)), "direction": ["both", "long", "short"]}
    grid |= {"weekdays": [[d] for d in range(5)] + [[0, 1], [1, 2], [2, 3], [3, 4], [0, 4]]}
    groups = tmp_path / "huge.json"
    groups.write_text(json.dumps({"symbol": "GER40", "groups": [{"group_id": "g", "grid": grid}]}))
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, groups, out), timeout=30)
    # Assert
    assert_refused(result, out, "huge.json", "3,000,000,000 combinations")
