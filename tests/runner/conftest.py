"""Fixtures of the runner tests: one small dataset and one uninterrupted run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.runner.helpers import END, START, run_args, run_cli, write_bars, write_groups


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two weeks of GER40 bars (Parquet) and 2 groups × 8 combinations."""
    folder = tmp_path_factory.mktemp("runner_data")
    bars = write_bars(folder / "bars.parquet", "2024-01-01", END)
    return SimpleNamespace(
        folder=folder, bars=bars, groups=write_groups(folder / "groups.json"), start=START, end=END
    )


@pytest.fixture(scope="session")
def baseline(dataset: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The uninterrupted reference run (2 workers, charts on)."""
    out = tmp_path_factory.mktemp("baseline") / "out"
    result = run_cli(*run_args(dataset.bars, dataset.groups, out))
    assert result.returncode == 0, result.stderr
    return SimpleNamespace(out=out, result=result)
