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


def test_rerun_command_repeats_the_runs_execution_settings(tmp_path):
    # Arrange: a run recorded before execution models (cost), and one with slippage
    groups_file = tmp_path / "sweep.json"
    write_groups_file(groups_file, "GER40", [raw_group(n) for n in (1, 2)])
    old = write_run(tmp_path / "old", [ok_record(1), failed_record(2)])
    slipped = write_run(
        tmp_path / "new",
        [ok_record(1), failed_record(2)],
        symbol_settings={"spread": 1.0, "point": 0.01, "spread_model": "bid_ask",
                         "spread_source": "data", "spread_unit": 0.01, "slippage": 0.5},
    )  # fmt: skip
    # Act
    old_args = shlex.split(
        merge_dirs([old], tmp_path / "o1", groups_file=groups_file).rerun_groups()
    )
    new_args = shlex.split(
        merge_dirs([slipped], tmp_path / "o2", groups_file=groups_file).rerun_groups()
    )
    # Assert: the default is bid_ask now, so the old run's cost model is said explicitly
    assert old_args[old_args.index("--spread-model") + 1] == "cost"
    assert "--slippage" not in old_args
    assert new_args[new_args.index("--spread-source") + 1] == "data"
    assert new_args[new_args.index("--slippage") + 1] == "0.5"
