"""Readers of a run's files follow no symbolic link (issue 21, item 14): a results_full,
an analysis file or a compact-trades file that is a link (to a well-formed file
elsewhere, the manifest recomputed over it) is refused with one line naming it, exit 2,
instead of being read. Real runs and links, the tasks as processes."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.analysis.hostile_helpers import recommit
from tests.analysis.report_helpers import invoke, small_run
from tests.runner.helpers import SYMBOL

FULL = f"results_full_{SYMBOL}.json"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real run with compact trades."""
    return small_run(tmp_path_factory.mktemp("linked") / "run", "--save-daily")


def _refused(done) -> str:
    """The one error line of a refused task (exit 2, no traceback)."""
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    return line


def _linked_copy(run, tmp_path, name):
    """A copy of ``run`` whose file ``name`` links to a copy of it outside the folder."""
    out = shutil.copytree(run, tmp_path / "out", symlinks=True)
    elsewhere = tmp_path / "elsewhere" / name
    elsewhere.parent.mkdir(parents=True, exist_ok=True)
    (out / name).rename(elsewhere)
    (out / name).symlink_to(elsewhere)
    return out, elsewhere


def test_a_linked_results_file_is_not_read(run, tmp_path):
    # Arrange: results_full links to an edited copy, the manifest recomputed over it;
    # no checkpoint to fall back to
    out, elsewhere = _linked_copy(run, tmp_path, FULL)
    document = json.loads(elsewhere.read_text())
    document["metadata"]["code_version"] = "from-the-link"
    elsewhere.write_text(json.dumps(document))
    recommit(out)
    (out / "checkpoint.jsonl").unlink()

    # Act
    done = invoke("rank", "--from", out)

    # Assert
    line = _refused(done)
    assert f"{FULL} is not a regular file (a symbolic link is never read)" in line


def test_a_linked_analysis_file_is_not_read_by_the_report(run, tmp_path):
    # Arrange: robustness_GER40.json links to a well-formed file elsewhere
    name = f"robustness_{SYMBOL}.json"
    out = shutil.copytree(run, tmp_path / "out", symlinks=True)
    elsewhere = tmp_path / name
    elsewhere.write_text(
        json.dumps(
            {
                "verdict": {"distinguishable_from_luck": True, "text": "linked", "rule": "r"},
                "selected": {"group_id": "group_GER40_001", "combo": 0, "rank_by": "total_r"},
                "pbo": {"pbo": 0.0, "n_splits": 1, "n_trials": 16},
                "dsr": {"dsr": 1.0, "sharpe_annual": 9.0},
            }
        )
    )
    (out / name).symlink_to(elsewhere)

    # Act
    done = invoke("report", "--from", out)

    # Assert
    assert f"{out / name} is a symbolic link: not read" in _refused(done)


def test_a_linked_compact_trades_file_is_not_read(run, tmp_path):
    # Arrange: group 1's compact trades link to a valid file outside the folder
    out, _ = _linked_copy(run, tmp_path, "daily/group_GER40_001.npz")

    # Act
    done = invoke("robustness", "--from", out)

    # Assert
    assert f"{out / 'daily/group_GER40_001.npz'} is a symbolic link: not read" in _refused(done)
