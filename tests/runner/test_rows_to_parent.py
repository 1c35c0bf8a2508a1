"""A worker's finished group comes back to the runner's process as rows when the workers
leave a core free (``rows_to_parent``): the runner writes its part there, before its
checkpoint line, as it does a cluster's group. The run's files are the same bytes as when
every worker writes its own part."""

from __future__ import annotations

from typing import Any

from backtest.runner import execute, pool
from backtest.runner.execute import run_backtest
from backtest.runner.pool import ROWS_BACK, rows_to_parent
from tests.runner.helpers import combos_bytes, full_results, run_options, without_run_time


def test_rows_come_back_only_with_a_free_core_and_a_bounded_group(monkeypatch):
    # Arrange
    monkeypatch.setattr(pool, "usable_cores", lambda: 4)

    # Act / Assert
    assert rows_to_parent(3, 10)
    assert not rows_to_parent(4, 10)  # no core left for the runner's process
    assert rows_to_parent(1, ROWS_BACK)
    assert not rows_to_parent(1, ROWS_BACK + 1)  # a group too large to hold whole


def test_a_run_is_the_same_whoever_writes_the_parts(dataset, tmp_path, monkeypatch):
    # Arrange
    written: dict[bool, list[str]] = {}
    real_finish = execute.finish_remote

    def run(back: bool) -> Any:
        calls: list[str] = []

        def finish(out_dir, record, tables):
            calls.append(record["group_id"])
            return real_finish(out_dir, record, tables)

        monkeypatch.setattr(execute, "rows_to_parent", lambda workers, rows: back)
        monkeypatch.setattr(execute, "finish_remote", finish)
        out = tmp_path / f"back_{back}"
        report = run_backtest(run_options(dataset.bars, dataset.groups, out))
        written[back] = calls
        return report, out

    # Act
    (by_workers, out_workers), (by_parent, out_parent) = run(False), run(True)

    # Assert
    assert by_workers.exit_code == 0 and by_parent.exit_code == 0
    assert written[False] == []  # each worker wrote its own part
    assert sorted(written[True]) == ["group_GER40_001", "group_GER40_002"]  # the runner did
    assert combos_bytes(out_parent) == combos_bytes(out_workers)
    assert without_run_time(full_results(out_parent)) == without_run_time(full_results(out_workers))
