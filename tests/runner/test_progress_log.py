"""One progress line per finished group, on stdout and in OUT/run.log."""

from __future__ import annotations

import re

from tests.runner.helpers import GROUP_IDS, full_results

PROGRESS = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - INFO - \[(\d+)/(\d+)\] (\S+): "
    r"R=(-?\d+\.\d\d), Trades=(\d+), ETA: \d+\.\dmin$"
)


def _progress(text):
    return [m.groups() for m in map(PROGRESS.match, text.splitlines()) if m]


def test_progress_lines_give_the_best_combination(baseline):
    best = {
        g["group_id"]: g["combos"][g["best"]]["metrics"]
        for g in full_results(baseline.out)["groups"]
    }
    lines = _progress(baseline.result.stdout)
    assert [(n, total) for n, total, *_ in lines] == [("1", "2"), ("2", "2")]
    assert sorted(gid for _, _, gid, _, _ in lines) == sorted(GROUP_IDS)
    for _, _, gid, r, trades in lines:
        assert r == f"{best[gid]['total_r']:.2f}"
        assert int(trades) == best[gid]["trades"]


def test_run_log_holds_the_same_progress_lines(baseline):
    log_text = (baseline.out / "run.log").read_text()
    assert _progress(log_text) == _progress(baseline.result.stdout)
