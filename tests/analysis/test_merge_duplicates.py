"""Duplicate groups: identical ones are dropped, conflicting ones refused, ok beats failed."""

import json

import pytest

from backtest.analysis.merge import MergeError, merge_dirs
from tests.analysis.helpers import failed_record, ok_record, write_run


def test_identical_duplicate_is_dropped(tmp_path):
    first = write_run(tmp_path / "a", [ok_record(1), ok_record(2)])
    second = write_run(tmp_path / "b", [ok_record(2), ok_record(3)])

    report = merge_dirs([first, second], tmp_path / "out")

    assert report.merged == ["group_GER40_001", "group_GER40_002", "group_GER40_003"]
    assert report.duplicates == 1


def test_conflicting_duplicate_is_refused_naming_both_dirs(tmp_path):
    first = write_run(tmp_path / "a", [ok_record(2, (1.0, 2.0))])
    second = write_run(tmp_path / "b", [ok_record(2, (1.0, 2.5))])

    with pytest.raises(MergeError) as info:
        merge_dirs([first, second], tmp_path / "out")

    message = str(info.value)
    assert "group_GER40_002" in message and str(first) in message and str(second) in message
    assert not (tmp_path / "out").exists()


def test_ok_record_wins_over_failed_one(tmp_path):
    first = write_run(tmp_path / "a", [failed_record(1), ok_record(2)])
    second = write_run(tmp_path / "b", [ok_record(1)])

    report = merge_dirs([first, second], tmp_path / "out")

    full = json.loads((tmp_path / "out" / "results_full_GER40.json").read_text())
    assert {g["group_id"]: g["status"] for g in full["groups"]} == {
        "group_GER40_001": "ok",
        "group_GER40_002": "ok",
    }
    assert report.failed == []
    failed_file = json.loads((tmp_path / "out" / "failed_groups_GER40.json").read_text())
    assert failed_file["groups"] == []
