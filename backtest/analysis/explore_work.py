"""``invoke explore``'s work in flight (background threads, queries being answered, the
DuckDB connections they use), stopped together when the server stops (:meth:`Work.close`).

Why: a daemon thread still inside DuckDB (or Arrow's C++) when the interpreter finalizes
is ended by ``pthread_exit``, whose unwinding C++ catches and does not rethrow: the
process prints ``terminate called ... FATAL: exception not rethrown`` and aborts. So on
close every connection in use is interrupted (``DuckDBPyConnection.interrupt``: its query
raises) and the threads are joined (a bounded wait) before the server returns; a query cut
off raises, so nothing half made is kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

STOP_WAIT = 10.0  # seconds close waits for the work in flight at most


class Stopped(RuntimeError):
    """Work asked for after :meth:`Work.close` (the server is stopping)."""


class Work:
    """The threads doing the table's work (:meth:`start`, :meth:`busy`) and the DuckDB
    connections they use (:meth:`using`)."""

    def __init__(self) -> None:
        self._threads: set[threading.Thread] = set()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self.closed = False

    def start(self, target: Callable[..., None], name: str, *args: Any) -> threading.Thread | None:
        """``target(*args)`` in a daemon thread of its own (joined by :meth:`close`), the
        thread; None, and nothing started, once closed."""

        def run() -> None:
            try:
                target(*args)
            finally:
                with self._lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            if self.closed:
                return None
            self._threads.add(thread)
            thread.start()
        return thread

    @contextmanager
    def busy(self) -> Iterator[None]:
        """The calling thread's work inside (a query being answered), waited for by
        :meth:`close`; :class:`Stopped` once closed."""
        thread = threading.current_thread()
        with self._lock:
            if self.closed:
                raise Stopped("explore is stopping")
            mine = thread not in self._threads
            self._threads.add(thread)
        try:
            yield
        finally:
            if mine:
                with self._lock:
                    self._threads.discard(thread)

    @contextmanager
    def using(self, connection: Any) -> Iterator[Any]:
        """``connection`` (DuckDB's) in use inside: :meth:`close` interrupts its query;
        :class:`Stopped` once closed."""
        with self._lock:
            if self.closed:
                raise Stopped("explore is stopping")
            self._connections.append(connection)
        try:
            yield connection
        finally:
            with self._lock:
                self._connections.remove(connection)

    def close(self, wait: float = STOP_WAIT) -> None:
        """No new work; the queries running interrupted (again until they are done) and
        the threads joined, for ``wait`` seconds at most."""
        deadline = time.monotonic() + wait
        me = threading.current_thread()
        while True:
            with self._lock:  # its users release a connection under it: still open here
                self.closed = True
                for connection in self._connections:
                    with suppress(Exception):  # its query may be over, or not begun
                        connection.interrupt()
                threads = [t for t in self._threads if t is not me]
            if not threads or time.monotonic() >= deadline:
                return
            threads[0].join(min(0.05, max(deadline - time.monotonic(), 0.0)))
