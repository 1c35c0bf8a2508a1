"""The runner's command line and process edge.

``python -m backtest.run_parallel_backtest --groups-file G.json ...`` (see ``--help``
and docs/io-contract) and ``invoke backtest`` both come through :func:`run_edge`:
options from :mod:`backtest.runner.options`, the plan from :mod:`backtest.runner.plan`,
the run from :mod:`backtest.runner.execute`. Bad input is one line on stderr and exit
code 2; a crash is one line and exit code 3, its traceback in run.log.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, NoReturn

from backtest.runner.exit_codes import CRASHED
from backtest.runner.options import RunOptions, build_parser
from backtest.runner.run_log import RunLogging

if TYPE_CHECKING:
    pass

from backtest.runner.execute import (
    RunCrashed,
    RunReport,
    crash_edge,
    run_backtest,
    sample_notice,
)
from backtest.runner.plan import input_errors
from backtest.runner.rundir import RUN_LOG

# --- command line ----------------------------------------------------------


def run_edge(
    options: RunOptions,
    after_run: Callable[[RunReport], Any] | None = None,
    on_report: Callable[[RunReport], Any] | None = None,
    before_run: Callable[[], Any] | None = None,
) -> tuple[int, RunReport | None]:
    """Run, then ``on_report`` (what a command prints of a finished run), then
    ``after_run`` (the HTML report, which may import the analysis layer) for a run
    that was not interrupted, unless ``--no-report``: the one edge of both commands
    (``run_parallel_backtest`` and ``invoke backtest``). Bad input is one line on
    stderr and exit code 2 (nothing run); a crash, here or in ``after_run``, is one
    line and exit code 3. Returns the exit code and the run's report (None when the
    run did not happen). ``before_run``: what ``after_run`` needs whatever the run, made
    beside the groups (:func:`run_backtest`'s ``beside``: the run's parent mostly waits
    for its workers)."""
    beside = before_run if after_run is not None and not options.no_report else None
    try:
        report = run_backtest(options, beside=beside)
    except input_errors() as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2, None
    except KeyboardInterrupt:  # Ctrl-C before the workers started (loading, compiling)
        print("interrupted (SIGINT) before any group ran; re-run the same command", file=sys.stderr)
        return 128 + signal.SIGINT, None
    except RunCrashed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CRASHED, None
    if on_report is not None:
        on_report(report)
    if after_run is not None and not options.no_report and report.interrupted is None:
        after = RunLogging()
        after.claimed = report.output_dir / RUN_LOG  # the run is over: its log gets it
        try:
            with crash_edge(after):
                after_run(report)
        except RunCrashed as exc:
            print(f"error: after the run (its results are written): {exc}", file=sys.stderr)
            return CRASHED, report
    return report.exit_code, report


def main(
    argv: list[str] | None = None,
    after_run: Callable[[RunReport], Any] | None = None,
    before_run: Callable[[], Any] | None = None,
) -> int:
    """Parse, then :func:`run_edge`; a run on sample data says so last."""
    args = build_parser().parse_args(argv)
    options = RunOptions(**{f.name: getattr(args, f.name) for f in fields(RunOptions)})
    code, report = run_edge(options, after_run, before_run=before_run)
    if report is not None and after_run is not None and code != CRASHED:
        notice = sample_notice(report.data)
        if notice and not options.no_report and report.interrupted is None:
            print(notice)  # the run's log ended with it; after the report's line, say it again
    return code


def run_and_exit(entry: Callable[[], int] | None = None) -> NoReturn:
    """Run :func:`main` and leave without the interpreter's teardown.

    pyarrow's Parquet thread pool can abort the process at teardown ("terminate
    called without an active exception", apache/arrow#34314), which would turn exit
    code 0/1/2 into SIGABRT. Every file is closed by now. This is the process's edge:
    an error that escaped :func:`main` (outside any run) is still one line on stderr,
    its traceback in a temporary file, and exit code 3, never Python's 1.
    """
    try:
        with crash_edge(RunLogging()):
            code = (entry or main)()
    except RunCrashed as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = CRASHED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    os._exit(code)


if __name__ == "__main__":
    run_and_exit()
