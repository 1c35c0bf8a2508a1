"""`invoke bench`'s table of issue 26's targets: a figure met, a figure missed, a figure this
run did not take (never met), the suite's counts, explore's slowest answer."""

from __future__ import annotations

from bench.explore import _record, summary
from bench.targets import pytest_counts, targets_table


def _run(combinations: int, workers: int, seconds: float, **phases: float) -> dict:
    return {
        "combinations": combinations,
        "workers": workers,
        "seconds": seconds,
        "kernel_rate": 10_000.0,
        "phases": {"start-up": 2.0, "groups": 0.0, "writing": 10.0, "report": 1.0, **phases},
        "then": {
            "report_mb": 9.5,
            "open_s": 1.2,
            "explore": {"answer_ms": 150.0, "answer_step": "sort: x", "count_ms": 900.0},
        },
    }


def _row(lines: list[str], starts: str) -> list[str]:
    [line] = [x for x in lines if x.startswith(f"| {starts}")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_every_target_met_says_yes_with_its_figure():
    # Arrange: 10^5 at 10,000/s/core (the kernel's 10,000: 100 %), 10^6, 10^7 in 600 s
    runs = [_run(100_000, 1, 10.0), _run(1_000_000, 2, 60.0), _run(10_000_000, 2, 600.0)]
    tested = {"seconds": 550.0, "passed": 1646, "failed": 0, "exit": 0, "commit": "abc1234"}

    # Act
    lines = targets_table(runs, tested)

    # Assert
    assert _row(lines, "runner")[1:] == ["100% (10.0 s; kernel 10,000/s)", "yes"]
    assert _row(lines, "10^7 combinations, 2 workers")[1:] == ["600.0 s (2 workers)", "yes"]
    assert _row(lines, "report at 10^7")[1:] == ["9.5 MB, 1.20 s", "yes"]
    assert _row(lines, "explore at 10^7")[2] == "yes"
    assert "150 ms (sort: x)" in _row(lines, "explore at 10^7")[1]
    suite = ["550 s, 1,646 passed, 0 failed (exit 0, abc1234)", "yes"]
    assert _row(lines, "test suite")[1:] == suite


def test_a_missed_target_says_no():
    # Arrange: 10^5 at 6,000/s against 10,000; 10^7 start-up 31 s; the suite 601 s
    runs = [_run(100_000, 1, 100_000 / 6_000), _run(10_000_000, 2, 600.0, **{"start-up": 31.0})]
    runs[1]["then"]["explore"]["answer_ms"] = 200.0
    runs[1]["then"]["report_mb"] = 15.1
    tested = {"seconds": 601.0, "passed": 1646, "failed": 0, "exit": 0, "commit": "abc1234"}

    # Act
    lines = targets_table(runs, tested)

    # Assert
    assert _row(lines, "runner")[2] == "**NO**"
    assert _row(lines, "10^7: start-up")[1:] == ["31.0 s (2 workers)", "**NO**"]
    assert _row(lines, "10^7: writing")[2] == "yes"
    assert _row(lines, "report at 10^7")[2] == "**NO**"
    assert _row(lines, "explore at 10^7")[2] == "**NO**"
    assert _row(lines, "test suite")[2] == "**NO**"


def test_a_failed_test_fails_the_suite_target_whatever_its_time():
    tested = {"seconds": 300.0, "passed": 1645, "failed": 1, "exit": 1, "commit": "abc1234"}

    lines = targets_table([], tested)

    assert _row(lines, "test suite")[2] == "**NO**"


def test_a_figure_not_taken_is_not_measured_and_names_the_option():
    # Arrange: only the 10^6 run, no suite
    runs = [_run(1_000_000, 2, 60.0)]

    # Act
    lines = targets_table(runs, None)

    # Assert
    assert _row(lines, "report at 10^6")[2] == "yes"
    for starts, option in (
        ("runner", "--runner 100000:1"),
        ("10^7 combinations, 2 workers", "--runner 10000000:2"),
        ("report at 10^7", "--runner 10000000:2"),
        ("explore at 10^7", "--runner 10000000:2"),
        ("test suite", "--suite"),
    ):
        row = _row(lines, starts)
        assert row[2] == "not measured"
        assert f"`invoke bench {option}`" in row[1]
    assert not any(line.endswith("| yes |") for line in lines if "10^7" in line)


def test_a_ten_million_run_on_other_than_2_workers_is_not_the_targets():
    lines = targets_table([_run(10_000_000, 8, 300.0)], None)

    assert _row(lines, "10^7 combinations, 2 workers")[2] == "not measured"
    assert _row(lines, "report at 10^7")[2] == "yes"  # the report's size holds on any


def test_pytest_counts_read_the_summary_line():
    assert pytest_counts("x\n1646 passed, 2 warnings in 503.80s (0:08:23)\n") == {
        "passed": 1646,
        "failed": 0,
    }
    assert pytest_counts("3 failed, 1640 passed, 2 errors in 500.00s\n") == {
        "passed": 1640,
        "failed": 5,
    }
    assert pytest_counts("5 failed in 3.0s\n") == {"passed": 0, "failed": 5}
    assert pytest_counts("== 2 errors in 1.50s ==\n") == {"passed": 0, "failed": 2}
    assert pytest_counts("setup: installing requirements\nERROR: no pip\n") == {
        "passed": 0,
        "failed": 0,
    }


def test_explore_slowest_answer_leaves_the_background_out():
    # Arrange: the slowest (wall ms, step) of each kind; the builds and counts slower
    slowest = {
        "sort, order not built: first page": (90.0, "sharpe desc"),
        "new filter, order built": (120.0, "range"),
        "order built (background)": (2200.0, "total_r desc"),
        "digit index built (background)": (2000.0, "total_pnl: wait"),
        "digits part: its count arrives": (900.0, "avg_r:12345"),
    }

    # Act
    got = summary(slowest)

    # Assert
    assert got == {
        "answer_ms": 120.0,
        "answer_step": "new filter, order built: range",
        "count_ms": 900.0,
    }


def test_explore_keeps_each_kinds_slowest_by_wall_time_apart_from_its_worst_cpu():
    # Arrange: step A waits longer (wall), step B uses more CPU
    worst: dict = {}
    slowest: dict = {}

    # Act
    _record(worst, slowest, "new filter, order built", "A", 250.0, 100.0, "1", False)
    _record(worst, slowest, "new filter, order built", "B", 150.0, 140.0, "1", False)

    # Assert
    assert worst["new filter, order built"] == (150.0, 140.0, "B")
    assert summary(slowest)["answer_ms"] == 250.0
