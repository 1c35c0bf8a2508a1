"""The code version recorded in every result and checkpoint.

``backtest.__version__`` plus a short sha256 over the sorted contents of
``backtest/**/*.py`` and ``strategies/**/*.py``: a remote host without git (or
with a different checkout path) computes the same value for the same code.
"""

from __future__ import annotations

import hashlib
import subprocess
from functools import lru_cache
from pathlib import Path

import backtest
from backtest.core.config import REPO_ROOT

SOURCE_DIRS = ("backtest", "strategies")


@lru_cache(maxsize=1)
def code_version(root: Path = REPO_ROOT) -> str:
    """``"<__version__>+<12 hex digits>"`` over the package sources under ``root``."""
    digest = hashlib.sha256()
    files = sorted(
        path.relative_to(root).as_posix()
        for folder in SOURCE_DIRS
        for path in (root / folder).rglob("*.py")
    )
    for name in files:
        digest.update(name.encode() + b"\0")
        digest.update((root / name).read_bytes() + b"\0")
    return f"{backtest.__version__}+{digest.hexdigest()[:12]}"


@lru_cache(maxsize=1)
def git_commit(root: Path = REPO_ROOT) -> str | None:
    """The checkout's commit, ``"<12 hex>"`` or ``"<12 hex>-dirty"`` when tracked files
    differ from it; None outside a git checkout (a farm host gets a copy, not a clone).
    Recorded beside :func:`code_version`, which stays the comparable identity of the code
    (resume and promote compare it; a commit that changes no source keeps it)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
