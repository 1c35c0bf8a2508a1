"""What every market-data reader shares: the error it raises, where it tells the user
things, and the file checksum that names the data in every output."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LOG = logging.getLogger("backtest.data")
Log = logging.Logger | Callable[[str], Any] | None


class DataError(ValueError):
    """A market-data file that cannot be used (one line: file, row, what)."""


def say(log: Log, message: str, level: int = logging.INFO) -> None:
    """Tell the user: a Logger (at ``level``), a callable, or the data package's logger."""
    if callable(log) and not isinstance(log, logging.Logger):
        log(message)
    else:
        (log or _LOG).log(level, message)


def file_checksum(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of the file bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
