"""``python -m backtest.run_parallel_backtest``: the name the users' scripts call.

The runner lives in :mod:`backtest.runner.main`; this module keeps the public command
name working and, as the top of the ``backtest`` package, adds what follows a run:
the HTML report ``OUT/report_{SYMBOL}.html`` (:mod:`backtest.analysis.report`; skip it
with ``--no-report``). The analysis layer is imported when the report is prepared (beside
the groups, once the workers are running) or written, not before the run: a run does not
wait for modules only its report uses.
"""

from __future__ import annotations

from pathlib import Path

from backtest.runner import main as runner
from backtest.runner.execute import RunReport

__all__ = ["main"]


def _report_after_run(run: RunReport) -> Path | None:
    """:func:`backtest.analysis.report.report_after_run`, imported when it is called."""
    from backtest.analysis.report import report_after_run

    return report_after_run(run)


def _prepare_report() -> None:
    """:func:`backtest.analysis.report.prepare_report`, imported when it is called."""
    from backtest.analysis.report import prepare_report

    prepare_report()


def main(argv: list[str] | None = None) -> int:
    """The runner's command line, with the HTML report written after the run."""
    return runner.main(argv, after_run=_report_after_run, before_run=_prepare_report)


if __name__ == "__main__":
    runner.run_and_exit(main)
