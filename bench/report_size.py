"""The report's size and open time at 10^6 and 10^7 combinations (issue 26): a synthetic
committed run of N combinations (tests/analysis/big_run.py: random grid combinations and
metrics in the results schema), its report written with the default ``--report-rows``,
then opened in headless Chromium (Debian's, Playwright) until it has opened. First the
same for a run of 1,000 combinations, to read the others against.

"Opened" is the page's own ``window.reportOpened`` (:data:`REPORT_DRAWN`): its first
screen drawn (the header, the table's first rows, plotly.js run and the heatmap drawn,
then a frame painted) and nothing of its opening left to run. Printed beside it: when
each step ended (``window.reportTimes``, ms since the navigation began), the renderer's
main-thread busy time to then (Chromium's TaskDuration: the page's CPU), how long a click
on a header takes to re-sort the table just after, when the rest of the table's rows were
in, and what each deferred chart takes when scrolled to, the 3D surface when asked for.

    python -m bench.report_size [--rows 1000000] [--rows 10000000] [--keep DIR]
    python -m bench.report_size --open OUT/report_GER40.html   # an existing report
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from backtest.analysis.report import report_path, write_report
from tests.analysis.big_run import SYMBOL, write_big_run
from tests.analysis.report_helpers import TABLE_DONE, chromium, open_page, scroll_to

# A header click re-sorted the table: its sorted column's header says so at once.
SORTED = "() => document.querySelector(\"#combos th[data-col='max_dd_r']\").className !== ''"


def open_report(path: Path, profile: Path) -> dict[str, Any]:
    """Open the report ``path`` in a fresh headless Chromium; what it took (see the doc)."""
    cdp: dict[str, Any] = {}

    def counters(page: Any) -> None:
        cdp["session"] = page.context.new_cdp_session(page)
        cdp["session"].send("Performance.enable")

    with chromium(profile) as context:
        started = time.perf_counter()
        page, seen = open_page(context, path, timeout=120_000, before=counters)
        opened = time.perf_counter()
        metrics = cdp["session"].send("Performance.getMetrics")["metrics"]
        busy = next(m["value"] for m in metrics if m["name"] == "TaskDuration")
        steps = page.evaluate("() => window.reportTimes")
        box = page.locator("#combos th[data-col='max_dd_r']").bounding_box()
        clicked = time.perf_counter()  # a click where the header is, queued like a reader's
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(SORTED, timeout=60_000)
        sorted_s = time.perf_counter() - clicked
        page.wait_for_function(TABLE_DONE, timeout=120_000)
        table_s = time.perf_counter() - opened
        deferred = {}
        for element in page.evaluate("() => window.reportPending()"):
            at = time.perf_counter()
            scroll_to(page, element, timeout=120_000)
            deferred[element] = time.perf_counter() - at
        at = time.perf_counter()
        page.click("#draw-surface")
        page.wait_for_function("() => window.reportDrawn.surface >= 1", timeout=120_000)
        deferred["surface"] = time.perf_counter() - at
        errors = [m for m in seen["console"] if m[0] == "error"]
        page.close()
    if not seen["drawn"][0] or errors:
        raise SystemExit(f"{path}: the page did not open ({errors})")
    return {
        "open_s": opened - started,
        "steps": steps,
        "busy_s": busy,
        "sort_s": sorted_s,
        "table_s": table_s,
        "deferred": deferred,
    }


def measure(out: Path, rows: int, profile: Path) -> dict[str, Any]:
    """Write a run of ``rows`` combinations into ``out``, its report, open it; figures."""
    started = time.perf_counter()
    write_big_run(out, rows)
    made = time.perf_counter()
    path = write_report(out, SYMBOL, rerun_data=False)
    written = time.perf_counter()
    return {
        "rows": rows,
        "run_s": made - started,
        "report_s": written - made,
        "mb": report_path(out, SYMBOL).stat().st_size / 1e6,
        **open_report(path, profile),
    }


def opening(f: dict[str, Any], load: float) -> str:
    """The open figures of :func:`open_report` as lines."""
    steps = ", ".join(f"{k} {v / 1000:.2f} s" for k, v in f["steps"].items())
    later = ", ".join(f"{k} {v:.2f} s" for k, v in f["deferred"].items())
    return (
        f"opened in {f['open_s']:.2f} s (main thread busy {f['busy_s']:.2f} s; load "
        f"{load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n"
        f"    steps ended (since navigation): {steps}\n"
        f"    then: a header click re-sorts in {f['sort_s']:.2f} s; every row shown in the "
        f"table {f['table_s']:.2f} s after opening; drawn when scrolled to / asked: {later}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, action="append", help="combinations (repeatable)")
    parser.add_argument("--keep", type=Path, help="write the runs here (default: a temp dir)")
    parser.add_argument("--open", type=Path, action="append", help="only open this report")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for k, path in enumerate(args.open or []):
            load = os.getloadavg()[0]
            f = open_report(path, Path(tmp) / f"profile_open_{k}")
            print(f"{path} ({path.stat().st_size / 1e6:.1f} MB): {opening(f, load)}", flush=True)
        if args.open:
            return
        base = args.keep or Path(tmp)
        for rows in [1_000, *(args.rows or [1_000_000])]:
            load = os.getloadavg()[0]
            f = measure(base / f"run_{rows}", rows, Path(tmp) / f"profile_{rows}")
            print(
                f"{rows:>11,} combinations: report {f['mb']:.1f} MB written in "
                f"{f['report_s']:.1f} s (synthetic run written in {f['run_s']:.1f} s); "
                f"{opening(f, load)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
