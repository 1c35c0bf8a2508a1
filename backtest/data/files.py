"""What every market-data reader shares: the error it raises and where it tells the user
things (the file checksum that names the data is ``backtest.core.checksum``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
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
