"""Runs on different data or code are refused, and merged only with force."""

import json

import pytest

from backtest.analysis.merge import MergeError, merge_dirs
from tests.analysis.helpers import ok_record, write_run


def test_mixed_data_checksums_are_refused(tmp_path):
    first = write_run(tmp_path / "a", [ok_record(1)])
    second = write_run(tmp_path / "b", [ok_record(2)], data_checksum="zzz999")

    with pytest.raises(MergeError, match="data_checksum.*abc123.*zzz999"):
        merge_dirs([first, second], tmp_path / "out")


def test_mixed_code_versions_are_refused(tmp_path):
    first = write_run(tmp_path / "a", [ok_record(1)])
    second = write_run(tmp_path / "b", [ok_record(2)], code_version="v2")

    with pytest.raises(MergeError, match="code_version"):
        merge_dirs([first, second], tmp_path / "out")


def test_force_merges_and_records_the_mismatch(tmp_path):
    first = write_run(tmp_path / "a", [ok_record(1)])
    second = write_run(tmp_path / "b", [ok_record(2)], data_checksum="zzz999")

    report = merge_dirs([first, second], tmp_path / "out", force=True)

    assert report.merged == ["group_GER40_001", "group_GER40_002"]
    meta = json.loads((tmp_path / "out" / "results_full_GER40.json").read_text())["metadata"]
    assert len(meta["merge_forced"]) == 1 and "data_checksum" in meta["merge_forced"][0]
