"""`invoke charts` redraws a default run's charts (no --save-trades): the best combinations
are re-run with the recorded data and settings, and every PNG comes out byte for byte as
the run drew it at its end. With the data file changed it says why it cannot, exit 2."""

from __future__ import annotations

import shutil

import pytest

from tests.analysis.report_helpers import invoke, small_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A default run (charts of its best groups, no saved trades) and the charts it drew."""
    folder = tmp_path_factory.mktemp("charts")
    out = small_run(folder, "--no-report")
    drawn = {p.name: p.read_bytes() for p in (out / "charts").iterdir()}
    return out, drawn


def test_a_default_run_has_its_charts_redrawn_as_it_drew_them(run):
    out, drawn = run
    shutil.rmtree(out / "charts")

    result = invoke("charts", "--from", out)

    assert result.returncode == 0, result.stderr
    assert "charts of 2 of 2 groups (2 re-run with the recorded data and settings)" in (
        result.stdout
    )
    again = {p.name: p.read_bytes() for p in (out / "charts").iterdir()}
    assert len(drawn) == 7  # 2 groups × (equity, heatmap) + 3 whole-run heatmaps
    assert again == drawn


def test_top_n_draws_the_best_groups_only(run, tmp_path):
    out, _ = run
    copy = shutil.copytree(out, tmp_path / "out")
    shutil.rmtree(copy / "charts")

    result = invoke("charts", "--from", copy, "--charts", "top:1")

    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (copy / "charts").glob("group_*"))
    assert names == ["group_GER40_002_equity.png", "group_GER40_002_heatmap.png"]


def test_a_changed_data_file_is_refused_with_one_line(run, tmp_path):
    out, _ = run
    copy = shutil.copytree(out, tmp_path / "out")
    data = out.parent / "bars.parquet"
    moved = tmp_path / "bars.parquet"
    shutil.copy(data, moved)
    data.write_bytes(data.read_bytes() + b"x")  # another file under the recorded name
    try:
        result = invoke("charts", "--from", copy)
    finally:
        shutil.copy(moved, data)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "no saved trades (--save-trades)" in lines[0] and "sha256" in lines[0]
