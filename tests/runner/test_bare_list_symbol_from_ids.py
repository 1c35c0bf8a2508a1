"""A bare-list groups file whose groups name no symbol runs with the contract's command
line (no --symbol) when every group_id names the same configured symbol."""

from __future__ import annotations

import json

from tests.runner.helpers import full_results, run_args, run_cli


def _bare_list(path, group_ids):
    path.write_text(
        json.dumps([{"group_id": gid, "grid": {"sl_mult": [0.5, 1.0]}} for gid in group_ids])
    )
    return path


def test_symbol_is_taken_from_the_group_ids(dataset, tmp_path):
    groups = _bare_list(tmp_path / "seed.json", ["group_GER40_001", "group_GER40_002"])
    out = tmp_path / "out"

    result = run_cli(*run_args(dataset.bars, groups, out, "--skip-charts"))

    assert result.returncode == 0, result.stderr
    assert "GER40 taken from the group ids" in (out / "run.log").read_text()
    assert full_results(out)["metadata"]["symbol"] == "GER40"
    assert [g["group_id"] for g in full_results(out)["groups"]] == [
        "group_GER40_001",
        "group_GER40_002",
    ]
    assert json.loads((out / "failed_groups_GER40.json").read_text()) == {
        "symbol": "GER40",
        "groups": [],
    }


def test_group_ids_naming_two_symbols_are_refused(dataset, tmp_path):
    groups = _bare_list(tmp_path / "seed.json", ["group_GER40_001", "group_XAUUSD_001"])
    out = tmp_path / "out"

    result = run_cli(*run_args(dataset.bars, groups, out))

    assert result.returncode == 2
    assert "seed.json" in result.stderr and "symbol" in result.stderr
    assert not out.exists()
