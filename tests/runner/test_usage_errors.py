"""Command-line mistakes and unreadable inputs are bad input like any other: one line on
stderr naming the option or file, exit code 2, nothing written."""

from __future__ import annotations

import errno

import pytest

from backtest.runner.main import main
from tests.runner.helpers import run_args, run_cli

USAGE_CASES = {
    "unknown_period": (["--period", "foo"], "--period"),
    "risk_not_a_number": (["--risk", "abc"], "--risk"),
    "unknown_option": (["--bogus", "1"], "--bogus"),
}


@pytest.mark.parametrize("case", list(USAGE_CASES))
def test_usage_error_is_one_line_and_exit_code_2(case, dataset, tmp_path):
    extra, option = USAGE_CASES[case]
    out = tmp_path / "out"

    result = run_cli(*run_args(dataset.bars, dataset.groups, out), *extra)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert option in lines[0]
    assert not out.exists()


def test_missing_groups_file_option_is_one_line(tmp_path):
    result = run_cli("--output-dir", tmp_path / "out")

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--groups-file" in lines[0], result.stderr


def test_config_that_is_a_directory_is_one_line_naming_it(dataset, tmp_path):
    folder = tmp_path / "conf.d"
    folder.mkdir()
    out = tmp_path / "out"

    result = run_cli(*run_args(dataset.bars, dataset.groups, out), "--config", folder)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(folder) in lines[0] and "config file" in lines[0]
    assert not out.exists()


def test_unreadable_data_file_is_one_line_naming_it(dataset, tmp_path, monkeypatch, capsys):
    # Root reads a chmod-000 file, so the OS error is raised where the data is opened.
    import backtest.data.loaders

    def refuse(*_args, **_kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(dataset.bars))

    monkeypatch.setattr(backtest.data.loaders, "load_period_bars", refuse)
    out = tmp_path / "out"

    code = main([str(a) for a in run_args(dataset.bars, dataset.groups, out)])

    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"error: {dataset.bars}: cannot read the data file: Permission denied"]
    assert not out.exists()
