"""The tree stays lint-clean, formatted and type-clean, so that the test command fails on a new
lint or type error (the tool settings are in pyproject.toml).

Each tool runs as a subprocess of the interpreter running the tests (the project's .venv,
where requirements.txt pins them), from the repository root so that it reads pyproject.toml
and covers the whole tree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECKS = {
    "ruff check": ["ruff", "check", "--no-fix", "--output-format", "concise", "."],
    "ruff format --check": ["ruff", "format", "--check", "."],
    "mypy": ["mypy"],  # the files and settings: [tool.mypy] in pyproject.toml
}


@pytest.mark.parametrize("name", CHECKS)
def test_tool_passes_on_the_tree(name: str) -> None:
    # Act
    done = subprocess.run(
        [sys.executable, "-m", *CHECKS[name]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    # Assert
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}{done.stderr}"
