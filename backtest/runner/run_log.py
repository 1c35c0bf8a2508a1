"""What a person sees of a run: log lines, the progress line with ETA, a bar, signals.

The progress line per finished group is a public contract (io-contract):
``2026-02-08 10:15:00 - INFO - [15/60] group_GER40_015: R=12.50, Trades=342, ETA: 45.2min``.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOG_FORMAT = "%(asctime)s - %(levelname)s - %(message)s"
LOG_DATEFMT = "%Y-%m-%d %H:%M:%S"

log = logging.getLogger("backtest.run")


class Signals:
    """SIGINT/SIGTERM: the first stops the run cleanly, a second exits at once."""

    def __init__(self, on_second: Callable[[], None]):
        self.received: int | None = None
        self.on_second = on_second
        self.previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.received is not None:
            self.on_second()
            os._exit(128 + signum)
        self.received = signum

    def __enter__(self) -> Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_exc: Any) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


class _ConsoleHandler(logging.Handler):
    """Log lines to stdout, printed around the tqdm bar when one is shown. When
    stdout goes away (a closed pipe, a dropped ssh session) the run goes on:
    the console is dropped and run.log keeps every line."""

    def __init__(self) -> None:
        super().__init__()
        self.closed_stream = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.closed_stream:
            return
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stdout)
        except OSError:
            self.closed_stream = True
        except Exception:  # logging must never break the run
            self.handleError(record)


class _FileHandler(logging.FileHandler):
    """run.log. A line that cannot be written (a full disk) is counted, not reported with
    a traceback on stderr: stderr carries one line per outcome (see RunLogging.crash)."""

    failed_writes = 0

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed_writes += 1


class RunLogging:
    """Console logging for the run; lines before OUT exists are replayed into run.log.

    ``claimed``: the run.log of the output folder this run holds (locked), set as soon
    as it holds it, so that a crash is logged there even before :meth:`to_file`.
    """

    def __init__(self) -> None:
        formatter = logging.Formatter(LOG_FORMAT, LOG_DATEFMT)
        self.console = _ConsoleHandler()
        self.early = logging.handlers.MemoryHandler(
            capacity=100_000, flushLevel=logging.CRITICAL + 1
        )
        self.file: _FileHandler | None = None
        self.claimed: Path | None = None
        for handler in (self.console, self.early):
            handler.setFormatter(formatter)

    def __enter__(self) -> RunLogging:
        log.setLevel(logging.INFO)
        log.propagate = False
        log.addHandler(self.console)
        log.addHandler(self.early)
        return self

    def to_file(self, path: Path) -> None:
        self.file = _FileHandler(path, encoding="utf-8")
        self.file.setFormatter(self.console.formatter)
        self.early.setTarget(self.file)
        self.early.flush()
        log.removeHandler(self.early)
        log.addHandler(self.file)

    def crash(self, exc: BaseException, summary: str) -> str | None:
        """Write ``summary`` and ``exc``'s traceback to run.log; where it went. When this
        run never held its output folder, or run.log cannot be written (a full disk), a
        ``tempfile`` gets it instead; None when nothing could be written."""
        if self.file is None and self.claimed is not None:
            try:
                self.to_file(self.claimed)
            except OSError:
                pass
        record = log.makeRecord(
            log.name, logging.ERROR, __file__, 0, summary, (), (type(exc), exc, exc.__traceback__)
        )
        if self.file is not None:
            before = self.file.failed_writes
            self.file.handle(record)
            if self.file.failed_writes == before:
                return self.file.baseFilename
        try:
            fd, name = tempfile.mkstemp(prefix="ibsweep-crash-", suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.console.format(record) + "\n")
        except OSError:
            return None
        return name

    def __exit__(self, *_exc: Any) -> None:
        for handler in (self.console, self.early, self.file):
            if handler is not None:
                log.removeHandler(handler)
                handler.close()


class Progress:
    """The progress line per finished group, and a tqdm bar on a terminal."""

    def __init__(self, total: int, done: int, to_run: int):
        self.total, self.done, self.to_run, self.ran = total, done, to_run, 0
        self.started = time.perf_counter()
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="group", file=sys.stderr)

    def finished(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.ran += 1
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.ran * (self.to_run - self.ran)
        where = f"[{self.done}/{self.total}] {record['group_id']}"
        if record["status"] == "ok":
            best = record["best_combo"]["metrics"]
            log.info(
                f"{where}: R={best['total_r']:.2f}, Trades={best['trades']}, ETA: {eta / 60:.1f}min"
            )
        else:
            log.error(f"{where}: failed: {record['error']}")
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
