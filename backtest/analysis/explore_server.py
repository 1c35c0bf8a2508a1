"""``invoke explore``: the run's report page served on 127.0.0.1 (:func:`serve`), its
combinations table answered by :class:`backtest.analysis.explore.Combos` through a JSON
API (``/api/combos``); the page gets ``templates/explore.js`` (its hash added to the
page's policy with ``connect-src 'self'``), which pages the table through the API."""

from __future__ import annotations

import http.server
import json
import re
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from backtest.analysis.explore import Combos, load_combos
from backtest.analysis.explore_query import ExploreError, Query
from backtest.analysis.pages import TEMPLATES, inline, source_hash
from backtest.runner.outputs import result_paths

SCRIPT = "explore.js"  # injected into the served report page
_POLICY = re.compile(r'(<meta http-equiv="Content-Security-Policy" content=")([^"]*)(">)')


def served_page(report_html: str) -> str:
    """The report page as explore serves it: ``templates/explore.js`` after the page's
    own script, allowed by its hash in the page's policy, with ``connect-src 'self'``
    (the API) added; ExploreError when the page has no policy or no body to add it to."""
    script = inline((TEMPLATES / SCRIPT).read_text(encoding="utf-8"), "script", SCRIPT)
    found = _POLICY.search(report_html)
    if found is None or "script-src " not in found.group(2) or "</body>" not in report_html:
        raise ExploreError("the report page has no Content-Security-Policy or no body")
    policy = found.group(2).replace("script-src ", f"script-src {source_hash(script)} ", 1)
    policy += "; connect-src 'self'"
    page = report_html[: found.start(2)] + policy + report_html[found.end(2) :]
    end = page.rindex("</body>")
    return f"{page[:end]}<script>{script}</script>\n{page[end:]}"


class Explorer(http.server.ThreadingHTTPServer):
    """The HTTP server: ``/`` the page, ``/api/combos`` the table (:meth:`Combos.query`)."""

    daemon_threads = True

    def __init__(self, combos: Combos, page: str, port: int = 0) -> None:
        self.combos = combos
        self.page = page.encode("utf-8")
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Explorer

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._send(200, "text/html; charset=utf-8", self.server.page)
        elif url.path == "/api/combos":
            try:
                answer = self.server.combos.query(Query.parse(url.query))
            except ExploreError as exc:
                self._json(400, {"error": str(exc)})
            except Exception:  # its DuckDB query interrupted, or asked after: quiet
                if not self.server.combos.work.closed:
                    raise
                self._json(503, {"error": "explore is stopping"})
            else:
                self._json(200, answer)
        else:
            self._json(404, {"error": f"{url.path}: not here (/ and /api/combos are)"})

    def _json(self, status: int, value: Any) -> None:
        body = json.dumps(value, allow_nan=False, separators=(",", ":")).encode("utf-8")
        self._send(status, "application/json", body)

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the URL and the stop, not every request."""


def open_run(out_dir: Path, symbol: str | None, log: Callable[[str], None]) -> tuple[Combos, str]:
    """The run in ``out_dir``: its table loaded (:class:`Combos`) and its report page as
    served (written first when the run has none); ExploreError, or the results
    readers' errors, when the folder is not a run."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.report import report_path, write_report

    out_dir = Path(out_dir)
    symbol = detect_symbol([out_dir], symbol)
    parquet = result_paths(out_dir, symbol)["parquet"]
    if not parquet.is_file():
        raise ExploreError(f"{parquet}: missing (a finished run writes it; invoke merge too)")
    page = report_path(out_dir, symbol)
    if not page.is_file():
        log(f"{page}: missing; writing it (invoke report)")
        write_report(out_dir, symbol)
    log(f"loading {parquet} into memory")
    started = time.perf_counter()
    combos = Combos(load_combos(parquet))
    try:
        combos.order("total_r", True)  # the report's first sort
        log(f"loaded {combos.count:,} combinations in {time.perf_counter() - started:.1f} s")
        return combos, served_page(page.read_text(encoding="utf-8"))
    except BaseException:  # stopped (or failed) here: its background work stopped too
        combos.close()
        raise


class _Stopped(Exception):
    """SIGINT or SIGTERM before the server listens (while the table loads)."""


@contextmanager
def _signals(handler: Callable[..., None]) -> Iterator[None]:
    """``handler`` for SIGINT and SIGTERM while inside (the previous handlers after)."""
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def serve(
    out_dir: Path,
    symbol: str | None = None,
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
    log: Callable[[str], None] = print,
) -> None:
    """Serve the run in ``out_dir`` on 127.0.0.1 (``port`` 0: a free one) until SIGINT or
    SIGTERM, then close the port and return (also when one comes while the table loads),
    the table's work in flight stopped before (:meth:`Combos.close`: a thread left in
    DuckDB when the interpreter finalizes aborts the process).
    ``on_ready(url)`` once it listens (opens a browser, say). From the main thread (it
    installs the signal handlers)."""
    stop = threading.Event()

    def handler(*_: Any) -> None:
        if not stop.is_set() and not serving.is_set():
            raise _Stopped
        stop.set()

    serving = threading.Event()
    with _signals(handler):
        try:
            combos, page = open_run(out_dir, symbol, log)
            serving.set()
        except _Stopped:
            log("explore: stopped while loading")
            return
        try:
            server = Explorer(combos, page, port)
        except OSError as exc:
            combos.close()
            raise ExploreError(f"--port {port}: cannot listen on 127.0.0.1: {exc}") from None
        thread = threading.Thread(target=server.serve_forever, name="explore", daemon=True)
        thread.start()
        try:
            log(f"explore: {server.url} (Ctrl-C stops it)")
            if on_ready is not None:
                on_ready(server.url)
            while not stop.wait(0.5):
                pass
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            combos.close()
    log("explore: stopped")
