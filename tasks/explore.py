"""invoke task (see the results): a run's report page served with its whole table."""

from __future__ import annotations

from pathlib import Path

from invoke import task

from tasks.edge import error


@task(
    auto_shortflags=False,
    help={
        "from_": "a results directory (results_combos_{SYMBOL}.parquet, report_{SYMBOL}.html)",
        "port": "port on 127.0.0.1 (default 0: a free one, printed)",
        "symbol": "symbol (needed only when the directory holds several)",
        "no_browser": "do not open the page in a browser; only print its URL",
    },
)
def explore(c, from_, port="0", symbol=None, no_browser=False):
    """Serve the run's report page on 127.0.0.1 with its whole table behind a local API.

    Every combination sortable, filterable and paged (10^7 rows); Ctrl-C stops it."""
    from backtest.analysis.explore_server import serve

    text = str(port).strip()
    if not text.isdigit() or int(text) > 65535:
        raise error(f"--port: {port!r} is not a port number (0..65535; 0: a free one)")

    def opened(url: str) -> None:
        if not no_browser:  # aside: a console browser would hold the terminal
            import threading
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    try:
        serve(
            Path(from_),
            symbol,
            int(text),
            on_ready=opened,
            log=lambda line: print(line, flush=True),
        )
    except (ValueError, OSError) as exc:  # ExploreError, the results readers' errors
        raise error(exc) from None
