"""Merging two halves of a run gives the same result files as the whole run."""

import json

from backtest.analysis.merge import merge_dirs
from tests.analysis.helpers import ok_record, write_run


def test_two_halves_merge_into_the_whole_run(tmp_path):
    records = [ok_record(n) for n in (1, 2, 3, 4)]
    whole = write_run(tmp_path / "whole", records)
    first = write_run(tmp_path / "a", records[:2])
    second = write_run(tmp_path / "b", records[2:], host="h2")

    report = merge_dirs([first, second], tmp_path / "merged")

    merged = tmp_path / "merged"
    for name in ("results_summary_GER40.csv", "results_combos_GER40.csv"):
        assert (merged / name).read_text() == (whole / name).read_text()
    full = json.loads((merged / "results_full_GER40.json").read_text())
    assert full["groups"] == json.loads((whole / "results_full_GER40.json").read_text())["groups"]
    assert full["metadata"]["hosts"] == ["h1", "h2"]
    assert report.merged == [f"group_GER40_00{n}" for n in (1, 2, 3, 4)]
    assert (report.failed, report.missing, report.duplicates) == ([], [], 0)


def test_summary_is_reranked_across_directories(tmp_path):
    first = write_run(tmp_path / "a", [ok_record(1, (1.0, 2.0))])
    second = write_run(tmp_path / "b", [ok_record(2, (7.0, 3.0))])

    merge_dirs([first, second], tmp_path / "merged")

    lines = (tmp_path / "merged" / "results_summary_GER40.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["group_GER40_002", "group_GER40_001"]
