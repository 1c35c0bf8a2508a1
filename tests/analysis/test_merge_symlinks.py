"""A merge follows no symbolic link (issue 21, item 14): a chart or compact-trades file
of an input that is a link (``charts/x.png -> a secret``), a linked ``charts`` folder, a
FIFO, or a link in the output folder: each is skipped with a ``skipped:`` line (what
``invoke merge`` and ``fab collect`` print), nothing is read through it or written
through it, and the input's other files are copied as before. Real runs, real links,
``invoke merge`` as a process."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.analysis.report_helpers import invoke, small_run
from tests.runner.helpers import SYMBOL

SECRET = b"root:$6$not-for-the-merged-folder\n"
CHART_1 = "charts/group_GER40_001_equity.png"
CHART_2 = "charts/group_GER40_002_equity.png"
DAILY_1 = "daily/group_GER40_001.npz"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real run with charts and compact trades."""
    out = small_run(tmp_path_factory.mktemp("links") / "run", "--save-daily")
    assert (out / CHART_1).is_file() and (out / DAILY_1).is_file()
    return out


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "shadow"
    path.write_bytes(SECRET)
    return path


def _link(path, target):
    """Replace ``path`` by a symbolic link to ``target``."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    path.symlink_to(target)


def _merge(source, output):
    done = invoke("merge", "--dir", source, "--output", output)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("skipped: ")]


def _holds_secret(folder) -> bool:
    return any(SECRET in p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_linked_chart_and_daily_files_are_skipped_and_said(run, tmp_path, secret):
    # Arrange: group 1's chart and compact trades link to a secret file
    source = shutil.copytree(run, tmp_path / "host", symlinks=True)
    _link(source / CHART_1, secret)
    _link(source / DAILY_1, secret)
    merged = tmp_path / "merged"

    # Act
    skipped = _merge(source, merged)

    # Assert: both skipped and named, nothing of the secret copied, group 2's chart is
    assert skipped == [
        f"skipped: {source / CHART_1} not copied: {source / CHART_1} is a symbolic link",
        f"skipped: {source / DAILY_1} not copied: {source / DAILY_1} is a symbolic link",
    ]
    assert not (merged / CHART_1).exists() and not (merged / DAILY_1).exists()
    assert not _holds_secret(merged)
    assert (merged / CHART_2).read_bytes() == (run / CHART_2).read_bytes()


def test_a_linked_charts_folder_is_not_followed(run, tmp_path, secret):
    # Arrange: the input's charts/ links to a folder of files named as its charts
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("group_GER40_001_equity.png", "group_GER40_002_heatmap.png"):
        (elsewhere / name).write_bytes(SECRET)
    source = shutil.copytree(run, tmp_path / "host", symlinks=True)
    _link(source / "charts", elsewhere)
    merged = tmp_path / "merged"

    # Act
    skipped = _merge(source, merged)

    # Assert: every chart of both groups skipped, the charts folder named
    assert len(skipped) == 4
    assert all(line.endswith(f"{source / 'charts'} is a symbolic link") for line in skipped)
    assert not _holds_secret(merged)


def test_a_fifo_is_skipped_not_waited_for(run, tmp_path):
    # Arrange: group 1's compact trades are a FIFO (a reader would wait forever)
    source = shutil.copytree(run, tmp_path / "host", symlinks=True)
    (source / DAILY_1).unlink()
    os.mkfifo(source / DAILY_1)
    merged = tmp_path / "merged"

    # Act
    skipped = _merge(source, merged)

    # Assert
    assert skipped == [f"skipped: {source / DAILY_1} not copied: not a regular file"]
    assert not (merged / DAILY_1).exists()
    assert (merged / "daily/group_GER40_002.npz").is_file()


def test_a_link_in_the_output_folder_is_not_written_through(run, tmp_path):
    # Arrange: the output's charts/ links to a folder outside it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    merged = tmp_path / "merged"
    merged.mkdir()
    (merged / "charts").symlink_to(elsewhere)

    # Act
    skipped = _merge(run, merged)

    # Assert: nothing written outside the output folder
    assert len(skipped) == 4
    assert all(line.endswith(f"{merged / 'charts'} is a symbolic link") for line in skipped)
    assert list(elsewhere.iterdir()) == []
    assert (merged / f"results_full_{SYMBOL}.json").is_file()
