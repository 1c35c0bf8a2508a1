"""The default output folder is named by the groups file and the period: the same sweep
resumes there on any day; another groups file never merges into it."""

from __future__ import annotations

import json

from tests.runner.helpers import END, START, run_cli, write_groups


def _args(dataset, groups, config):
    return [
        "--groups-file", groups, "--data-file", dataset.bars, "--start-date", START,
        "--end-date", END, "--workers", 1, "--skip-charts", "--config", config,
    ]  # fmt: skip


def test_folder_is_stem_and_period_and_a_namesake_is_refused(dataset, tmp_path):
    # Arrange
    config = tmp_path / "root.yaml"
    config.write_text(f"run:\n  output_root: {tmp_path / 'output'}\n")
    first = write_groups(tmp_path / "groups_GER40.json")
    (tmp_path / "other").mkdir()
    namesake = write_groups(tmp_path / "other" / "groups_GER40.json", ("other_001",))
    # Act
    run = run_cli(*_args(dataset, first, config))
    again = run_cli(*_args(dataset, first, config))
    other = run_cli(*_args(dataset, namesake, config))
    # Assert
    out = tmp_path / "output" / "groups_GER40_in_sample"
    assert run.returncode == 0, run.stderr
    assert again.returncode == 0 and "2 of 2 groups already finished" in again.stdout + again.stderr
    assert other.returncode == 2
    assert other.stderr.strip().splitlines() == [
        f"error: --output-dir {out} (the default for this groups file) holds the results of "
        "another groups file with the same name; pass --output-dir to choose a folder"
    ]
    ids = [
        g["group_id"] for g in json.loads((out / "results_full_GER40.json").read_text())["groups"]
    ]
    assert ids == ["group_GER40_001", "group_GER40_002"]
