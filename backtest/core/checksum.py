"""The sha256 of a file: the one checksum every output, part, data file, backup and
copy to a host is identified and checked by."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_checksum(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of the file bytes (hex), read in chunks (memory bounded by ``chunk``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
