"""The robustness verdict: luck on the built-in sample data, an edge on planted data.

Both run the users' example grid (examples/grid_GER40.yaml, 864 combinations) through the
real make-groups, runner and robustness commands.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.analysis.planted import planted_edge_bars
from tests.runner.helpers import REPO, run_cli

INVOKE = str(Path(sys.executable).parent / "invoke")


def invoke(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [INVOKE, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def groups_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("verdict") / "groups_GER40.json"
    result = invoke(
        "make-groups", "--grid", "examples/grid_GER40.yaml", "--groups", 8, "--output", path
    )
    assert result.returncode == 0, result.stderr
    return path


def robustness(out: Path) -> tuple[dict, subprocess.CompletedProcess]:
    result = invoke("robustness", "--from", out)
    assert result.returncode == 0, result.stderr
    return json.loads((out / "robustness_GER40.json").read_text()), result


def test_best_of_the_sample_data_is_not_distinguishable_from_luck(groups_file, tmp_path):
    out = tmp_path / "sample"
    run = run_cli(
        "--groups-file",
        groups_file,
        "--save-daily",
        "--skip-charts",
        "--workers",
        2,
        "--output-dir",
        out,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr

    report, result = robustness(out)

    assert report["selected"]["total_r"] > 0  # the luckiest combination looks profitable
    assert report["verdict"]["distinguishable_from_luck"] is False
    assert report["dsr"]["dsr"] < 0.95
    assert "NOT distinguishable from luck" in result.stdout
    assert report["metadata"]["run"]["data_file"].endswith(".parquet")
    assert report["pbo"]["n_trials"] == 864


def test_a_planted_edge_flips_the_verdict(groups_file, tmp_path):
    bars = planted_edge_bars(tmp_path / "planted.parquet", "2024-01-01", "2024-12-31")
    out = tmp_path / "planted"
    run = run_cli(
        "--groups-file",
        groups_file,
        "--data-file",
        bars,
        "--start-date",
        "2024-01-01",
        "--end-date",
        "2024-12-31",
        "--save-daily",
        "--skip-charts",
        "--workers",
        2,
        "--output-dir",
        out,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr

    report, result = robustness(out)

    assert report["verdict"]["distinguishable_from_luck"] is True
    assert report["dsr"]["dsr"] >= 0.95 and report["pbo"]["pbo"] <= 0.25
    assert "is distinguishable from luck" in result.stdout
