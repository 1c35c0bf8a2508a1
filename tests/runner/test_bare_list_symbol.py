"""A bare-list groups file (the seed's format) runs with --symbol naming its symbol."""

from __future__ import annotations

import json

from tests.runner.helpers import full_results, run_args, run_cli


def _bare_list(path):
    path.write_text(
        json.dumps(
            [
                {
                    "group_id": "seed_001",
                    "params": {"ib_end": "10:00"},
                    "grid": {"sl_mult": [0.5, 1.0]},
                }
            ]
        )
    )
    return path


def test_bare_list_without_symbol_is_refused_naming_the_field(dataset, tmp_path):
    result = run_cli(*run_args(dataset.bars, _bare_list(tmp_path / "seed.json"), tmp_path / "out"))

    assert result.returncode == 2
    assert "seed.json" in result.stderr and "symbol" in result.stderr
    assert not (tmp_path / "out").exists()


def test_bare_list_runs_with_symbol_option(dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(
        *run_args(
            dataset.bars,
            _bare_list(tmp_path / "seed.json"),
            out,
            "--symbol",
            "GER40",
            "--skip-charts",
        )
    )

    assert result.returncode == 0, result.stderr
    groups = full_results(out)["groups"]
    assert [g["group_id"] for g in groups] == ["seed_001"]
    assert len(groups[0]["combos"]) == 2
