"""The git commit recorded beside the code version: the checkout's HEAD, "-dirty" when a
tracked file differs from it, None outside a checkout."""

from __future__ import annotations

import subprocess

from backtest.core.version import git_commit


def _git(folder, *args):
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_commit_clean_then_dirty_then_no_checkout(tmp_path):
    # Arrange
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    _git(repo, "add", "a.py")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Act
    clean = git_commit.__wrapped__(repo)
    (repo / "a.py").write_text("x = 2\n")
    dirty = git_commit.__wrapped__(repo)
    outside = git_commit.__wrapped__(tmp_path / "nothing")
    # Assert
    assert clean == head and len(head) == 12
    assert dirty == f"{head}-dirty"
    assert outside is None
