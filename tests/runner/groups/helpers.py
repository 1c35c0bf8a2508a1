"""Write a groups file into a temporary directory for the loader tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(tmp_path: Path, data: Any, name: str = "groups.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def one_group(**fields: Any) -> dict[str, Any]:
    """A GER40 groups file (object form) with one group ``g1`` built from ``fields``."""
    return {"symbol": "GER40", "groups": [{"group_id": "g1", **fields}]}
