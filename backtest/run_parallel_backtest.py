"""``python -m backtest.run_parallel_backtest``: the name the users' scripts call.

The runner lives in :mod:`backtest.runner.main`; this module keeps the public command
name working and, as the top of the ``backtest`` package, adds what follows a run:
the HTML report ``OUT/report_{SYMBOL}.html`` (:mod:`backtest.analysis.report`; skip it
with ``--no-report``).
"""

from __future__ import annotations

from backtest.analysis.report import prepare_report, report_after_run
from backtest.runner import main as runner

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """The runner's command line, with the HTML report written after the run."""
    return runner.main(argv, after_run=report_after_run, before_run=prepare_report)


if __name__ == "__main__":
    runner.run_and_exit(main)
