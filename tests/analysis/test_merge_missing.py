"""With the groups file, groups in no directory are listed; re-run file and command."""

import shlex
import sys

from backtest.analysis.merge import merge_dirs
from backtest.runner.groups import load_groups_file, write_groups_file
from tests.analysis.helpers import failed_record, ok_record, raw_group, write_run


def test_missing_and_failed_groups_are_listed_and_rerunnable(tmp_path):
    groups_file = tmp_path / "groups.json"
    write_groups_file(groups_file, "GER40", [raw_group(n) for n in (1, 2, 3, 4)])
    first = write_run(tmp_path / "a", [ok_record(1), failed_record(2)])
    second = write_run(tmp_path / "b", [ok_record(4)])

    report = merge_dirs([first, second], tmp_path / "out", groups_file=groups_file)
    command = report.rerun_groups()

    assert report.missing == ["group_GER40_003"]
    assert report.failed == ["group_GER40_002"]
    args = shlex.split(command)
    rerun_file = args[args.index("--groups-file") + 1]
    rerun = load_groups_file(rerun_file)
    assert [g.group_id for g in rerun.groups] == ["group_GER40_003", "group_GER40_002"]
    assert args[:3] == [sys.executable, "-m", "backtest.run_parallel_backtest"]
    assert args[args.index("--start-date") + 1] == "2024-01-01"


def test_nothing_to_rerun_gives_none(tmp_path):
    first = write_run(tmp_path / "a", [ok_record(1)])

    report = merge_dirs([first], tmp_path / "out")

    assert report.rerun_groups() is None


def test_failed_groups_rerun_from_the_directories_own_failed_file(tmp_path):
    first = write_run(tmp_path / "a", [ok_record(1), failed_record(2)])

    report = merge_dirs([first], tmp_path / "out")
    command = report.rerun_groups(path=tmp_path / "again.json")

    assert report.failed == ["group_GER40_002"]
    assert "--groups-file " + str(tmp_path / "again.json") in command
    assert [g.group_id for g in load_groups_file(tmp_path / "again.json").groups] == [
        "group_GER40_002"
    ]


def test_failed_groups_file_keeps_the_error(tmp_path):
    groups_file = tmp_path / "groups.json"
    write_groups_file(groups_file, "GER40", [raw_group(n) for n in (1, 2)])
    first = write_run(tmp_path / "a", [ok_record(1), failed_record(2)])

    merge_dirs([first], tmp_path / "out", groups_file=groups_file)

    failed = load_groups_file(tmp_path / "out" / "failed_groups_GER40.json")
    assert [(g.group_id, g.raw["error"]) for g in failed.groups] == [
        ("group_GER40_002", "RuntimeError: boom")
    ]
