"""invoke tasks (run): the parallel runner, locally."""

from __future__ import annotations

from invoke import Exit

from backtest.runner.exit_codes import CRASHED
from tasks.edge import error
from tasks.options import run_option_task

TOP_GROUPS = 5


def _print_top(report) -> None:
    """Where the results are, and the best groups."""
    print(f"results: {report.output_dir}")
    print(f"summary: {report.files['summary']}")
    if report.top:
        print(f"top {min(TOP_GROUPS, len(report.top))} of {report.ok} groups by total_r:")
    for rank, row in enumerate(report.top[:TOP_GROUPS], start=1):
        print(
            f"  {rank}. {row['group_id']}: R={row['total_r']:.2f}, trades={row['trades']}, "
            f"winrate={row['winrate']:.1%}, sharpe={row['sharpe']:.2f}"
        )


@run_option_task()
def backtest(c, **options):
    """Run every group of a groups file in parallel (what run_parallel_backtest runs); resumable."""
    if options["groups_file"] is None:
        raise error(
            "--groups-file is required: the groups file (JSON) to run, e.g. "
            "invoke backtest --groups-file examples/groups_GER40.json"
        )
    from backtest.analysis.report import prepare_report, report_after_run
    from backtest.runner.execute import sample_notice
    from backtest.runner.main import run_edge
    from backtest.runner.options import RunOptions

    code, report = run_edge(
        RunOptions(**options),
        after_run=report_after_run,
        on_report=_print_top,
        before_run=prepare_report,
    )
    if report is None or code == CRASHED:
        raise Exit(code=code)  # its one line is on stderr already
    notice = sample_notice(report.data)
    last = f"\n{notice}" if notice else ""  # a run on sample data ends by saying so
    if report.interrupted:
        raise Exit(
            f"interrupted ({report.interrupted}); re-run the same command to resume{last}",
            code=report.exit_code,
        )
    if report.failed:
        raise Exit(
            f"{len(report.failed)} groups failed ({', '.join(report.failed[:5])}"
            f"{', ...' if len(report.failed) > 5 else ''}): see {report.files['failed']}{last}",
            code=report.exit_code,
        )
    if notice:
        print(notice)
