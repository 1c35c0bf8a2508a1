"""The report's size and open time at 10^6 and 10^7 combinations (issue 26): a synthetic
committed run of N combinations (tests/analysis/big_run.py: random grid combinations and
metrics in the results schema), its report written with the default ``--report-rows``,
then opened in headless Chromium (Debian's, Playwright) until the page has drawn.
Prints the size, the time to write the report, the time to open it and the load; first
the same for a run of 1,000 combinations: the page's floor on this machine at this load
(plotly.js alone is 4.6 MB of script to parse), to read the others against.

    python -m bench.report_size [--rows 1000000] [--rows 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from backtest.analysis.report import report_path, write_report
from tests.analysis.big_run import SYMBOL, write_big_run
from tests.analysis.report_helpers import chromium, open_page


def measure(out: Path, rows: int, profile: Path) -> dict[str, float]:
    """Write a run of ``rows`` combinations into ``out``, its report, open it; figures."""
    started = time.perf_counter()
    write_big_run(out, rows)
    made = time.perf_counter()
    path = write_report(out, SYMBOL, rerun_data=False)
    written = time.perf_counter()
    with chromium(profile) as context:
        opened = time.perf_counter()
        page, seen = open_page(context, path, timeout=120_000)
        drawn = time.perf_counter()
        errors = [m for m in seen["console"] if m[0] == "error"]
        page.close()
    if not seen["drawn"][0] or errors:
        raise SystemExit(f"{path}: the page did not draw ({errors})")
    return {
        "rows": rows,
        "run_s": made - started,
        "report_s": written - made,
        "mb": report_path(out, SYMBOL).stat().st_size / 1e6,
        "open_s": drawn - opened,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, action="append", help="combinations (repeatable)")
    parser.add_argument("--keep", type=Path, help="write the runs here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for rows in [1_000, *(args.rows or [1_000_000])]:
            load = os.getloadavg()[0]
            f = measure(base / f"run_{rows}", rows, Path(tmp) / f"profile_{rows}")
            print(
                f"{rows:>11,} combinations: report {f['mb']:.1f} MB written in "
                f"{f['report_s']:.1f} s, opened (drawn) in headless Chromium in "
                f"{f['open_s']:.2f} s (synthetic run written in {f['run_s']:.1f} s); peak RSS "
                f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB so far; "
                f"load {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )


if __name__ == "__main__":
    main()
