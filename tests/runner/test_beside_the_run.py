"""``run_backtest``'s ``beside`` (the report's preparation) runs once, in a thread started
when the first group has finished: the workers are forked by then, so no thread of it
runs or imports while they fork; a failure in it does not touch the run."""

from __future__ import annotations

import threading

from backtest.runner.execute import run_backtest
from tests.runner.helpers import checkpoint_lines, run_options


def test_beside_starts_once_after_the_first_group_is_checkpointed(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    seen: list[tuple[int, bool]] = []
    called = threading.Event()

    def beside() -> None:
        finished = [x for x in checkpoint_lines(out) if "group_id" in x]
        seen.append((len(finished), threading.current_thread() is threading.main_thread()))
        called.set()

    # Act
    run = run_backtest(run_options(dataset.bars, dataset.groups, out), beside=beside)

    # Assert
    assert run.exit_code == 0
    assert called.wait(10)  # a daemon thread: it may end after the run returns
    assert len(seen) == 1
    finished, on_main = seen[0]
    assert finished >= 1 and not on_main


def test_a_failing_beside_leaves_the_run_as_it_was(dataset, tmp_path):
    # Arrange
    def beside() -> None:
        raise RuntimeError("made ahead, failed")

    # Act
    run = run_backtest(run_options(dataset.bars, dataset.groups, tmp_path / "out"), beside=beside)

    # Assert
    assert run.exit_code == 0 and run.failed == []
