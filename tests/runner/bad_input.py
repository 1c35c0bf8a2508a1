"""The shape every bad-input test checks: exit code 2, one line on stderr naming the
file and the field, no traceback, and nothing written to the output folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def groups_with(path: Path, group: dict[str, Any]) -> Path:
    """A GER40 groups file holding ``group`` (merged over a valid one)."""
    body = {"group_id": "g1", "params": {}, "grid": {"sl_mult": [0.5, 1.0]}, **group}
    path.write_text(json.dumps({"symbol": "GER40", "groups": [body]}))
    return path


def assert_refused(result: subprocess.CompletedProcess, out: Path, *named: str) -> str:
    """The one line of a refused run; it contains every string of ``named``."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for name in named:
        assert name in lines[0], (name, lines[0])
    assert not out.exists()
    return lines[0]
