"""Ctrl-C while the runner is still loading (before the workers start) ends it with the
interrupted exit code 130, not 1 (which means "finished, some groups failed")."""

from __future__ import annotations

import backtest.runner.execute as execute
import backtest.runner.main as runner


def test_ctrl_c_during_preparation_exits_130(dataset, tmp_path, monkeypatch, capsys):
    def interrupted_load(_opts):
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "prepare", interrupted_load)
    args = ["--groups-file", str(dataset.groups), "--output-dir", str(tmp_path / "out")]

    code = runner.main(args)

    assert code == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "interrupted (SIGINT) before any group ran; re-run the same command"
    ]
