"""The merge's re-run command repeats every option that changes the results (engine,
MT5 server time zone, dropped bars), and the merged metadata names the sweep's groups file."""

import shlex

from backtest.analysis.merge import merge_dirs
from backtest.runner.groups import write_groups_file
from tests.analysis.helpers import failed_record, ok_record, raw_group, write_run


def test_rerun_command_repeats_engine_server_tz_and_drop_invalid(tmp_path):
    groups_file = tmp_path / "sweep.json"
    write_groups_file(groups_file, "GER40", [raw_group(n) for n in (1, 2)])
    run = write_run(
        tmp_path / "a",
        [ok_record(1), failed_record(2)],
        engine="emulator",
        server_tz="Europe/Athens",
        drop_invalid=True,
        groups_file="half.json",
    )

    report = merge_dirs([run], tmp_path / "out", groups_file=groups_file)
    args = shlex.split(report.rerun_groups())

    assert args[args.index("--engine") + 1] == "emulator"
    assert args[args.index("--server-tz") + 1] == "Europe/Athens"
    assert "--drop-invalid" in args
    assert report.metadata["groups_file"] == str(groups_file)
