"""Every repository path the README and docs/ name exists (a renamed module or test file
must not leave a stale pointer behind)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("backtest", "tests", "docs", "farm", "tasks", "bench", "examples", "scripts", "strategies")
PATH = re.compile(rf"`((?:{'|'.join(TOP)})/[A-Za-z0-9_./-]+)`")


def named_paths(doc: Path) -> list[str]:
    """The backticked paths under a top-level folder of the repository, without wildcards
    or placeholders."""
    generated = ("backtest/output/",)  # what runs write, not part of the repository
    return [
        p
        for p in PATH.findall(doc.read_text())
        if not re.search(r"[*{}]|OUT/", p) and not p.startswith(generated)
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_named_path_exists(doc):
    # Act
    missing = [p for p in named_paths(doc) if not (ROOT / p.rstrip("/.")).exists()]
    # Assert
    assert missing == []
