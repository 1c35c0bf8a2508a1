"""backtest.runner.checkpoint: what a resume accepts and refuses, read in-process."""

from __future__ import annotations

import json

import pytest

from backtest.runner.checkpoint import Checkpoint, ResumeError, read_checkpoint

HEADER = {
    "symbol": "GER40",
    "data_checksum": "abc",
    "code_version": "0.1.0+x",
    "settings": {"risk": 1000.0, "engine": "fast"},
    "group_ids": ["g1", "g2"],
}


def _record(group_id, status="ok", sl_mult=1.0):
    return {
        "group_id": group_id,
        "status": status,
        "elapsed_s": 0.1,
        "combos": [{"params": {"sl_mult": sl_mult}, "metrics": {"total_r": 1.5}}],
        "best": 0,
    }


def test_a_changed_setting_is_refused_naming_it(tmp_path):
    Checkpoint.open(tmp_path, HEADER).add(_record("g1"))
    changed = {**HEADER, "settings": {"risk": 500.0, "engine": "fast"}}

    with pytest.raises(ResumeError) as err:
        Checkpoint.open(tmp_path, changed)

    assert "settings.risk differs (checkpoint: 1000.0, now: 500.0)" in str(err.value)
    assert "--fresh" in str(err.value)


def test_fresh_replaces_the_checkpoint(tmp_path):
    Checkpoint.open(tmp_path, HEADER).add(_record("g1"))

    checkpoint = Checkpoint.open(tmp_path, {**HEADER, "data_checksum": "def"}, fresh=True)

    assert checkpoint.done() == {}
    assert read_checkpoint(tmp_path / "checkpoint.jsonl")[0]["data_checksum"] == "def"


def test_only_ok_groups_are_done_and_the_last_record_wins(tmp_path):
    first = Checkpoint.open(tmp_path, HEADER)
    first.add(_record("g1", status="failed"))
    first.add(_record("g2"))
    first.add(_record("g1"))
    first.add(_record("g2", status="failed"))

    resumed = Checkpoint.open(tmp_path, {**HEADER, "group_ids": ["g2", "g1"]})

    assert sorted(resumed.done()) == ["g1"]
    assert resumed.order(["g3", "g1"]) == ["g1", "g2", "g3"]


def test_torn_last_line_is_cut_before_appending(tmp_path):
    Checkpoint.open(tmp_path, HEADER).add(_record("g1"))
    path = tmp_path / "checkpoint.jsonl"
    with open(path, "a") as handle:
        handle.write('{"group_id": "g2", "sta')

    resumed = Checkpoint.open(tmp_path, HEADER)
    resumed.add(_record("g2"))

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line.get("group_id") for line in lines] == [None, "g1", "g2"]


def test_a_corrupt_line_before_the_last_is_refused(tmp_path):
    Checkpoint.open(tmp_path, HEADER).add(_record("g1"))
    path = tmp_path / "checkpoint.jsonl"
    path.write_text(path.read_text() + "garbage\n" + json.dumps(_record("g2")) + "\n")

    with pytest.raises(ResumeError, match="line 3 is corrupt"):
        Checkpoint.open(tmp_path, HEADER)


def test_changed_parameters_of_a_finished_group_are_refused(tmp_path):
    Checkpoint.open(tmp_path, HEADER).add(_record("g1", sl_mult=1.0))
    resumed = Checkpoint.open(tmp_path, HEADER)

    resumed.verify_params("g2", [{"sl_mult": 2.0}])  # not finished: nothing to compare
    with pytest.raises(ResumeError, match="group 'g1' has different resolved parameters"):
        resumed.verify_params("g1", [{"sl_mult": 2.0}])
