"""invoke tasks (run): the parallel runner, locally."""

from __future__ import annotations

from invoke import Exit, task

from tasks.edge import error

TOP_GROUPS = 5
CLUSTER_HELP = {
    "scheduler": "run the groups on this Dask cluster, tls://HOST:PORT (fab cluster-up), "
    "instead of local workers",
    "scheduler_file": "the same, by the cluster's scheduler file (.cluster/scheduler.json)",
    "tls_dir": "the cluster's ca.pem, client.pem, client-key.pem (default: the scheduler "
    "file's folder, else .cluster)",
}


@task(
    auto_shortflags=False,
    optional=["save_trades"],
    help={
        "groups_file": "groups file (JSON, io-contract format)",
        "data_file": "M1 bars (Parquet/CSV/MT5 export); default: the period's configured file, "
        "else built-in sample data",
        "start_date": "first trading day, YYYY-MM-DD (default: the period's)",
        "end_date": "last trading day, YYYY-MM-DD (default: the period's)",
        "workers": "worker processes, or 'auto' (default)",
        "output_dir": "where results go (default: backtest/output/{groups file stem}_{period})",
        "skip_charts": "no PNG charts (the same as --charts none)",
        "charts": "PNG equity and heatmap charts for the best N groups: top:N (default top:10), "
        "all or none; whole-run heatmaps unless none",
        "save_trades": "store every combination's trades in results_full_{SYMBOL}.json; "
        "--save-trades top:N keeps only the best N of each group",
        "no_report": "do not write the HTML report OUT/report_{SYMBOL}.html at the end",
        "save_daily": "keep every combination's compact trades in OUT/daily/ (for walk-forward "
        "and robustness)",
        "period": "configured period: in_sample (default) or control",
        "risk": "money risked per trade (default from config: 1000)",
        "account_size": "account size for the prop-firm view (default from config: 100000)",
        "news_file": "news CSV (time, currency, impact); required when news_filter is on",
        "engine": "fast (default) or emulator",
        "config": "YAML config file merged over the defaults",
        "server_tz": "broker server time zone of an MT5 export: an IANA zone (Europe/Athens) or "
        "broker:NY+7 (New York time + 7 h, GMT+2/+3 on the US daylight-saving dates)",
        "drop_invalid": "drop invalid/duplicate bars instead of failing",
        "fresh": "replace an existing checkpoint in the output dir instead of resuming",
        "symbol": "symbol of a bare-list groups file whose groups name none",
        "strict_data": "refuse data leaving more than 5 weekdays of the period uncovered "
        "(instead of a warning)",
        "max_combinations": "most combinations (before constraints) one run may hold "
        "(default: run.max_combinations, 10000000)",
        **CLUSTER_HELP,
    },
)
def backtest(
    c,
    groups_file=None,
    data_file=None,
    start_date=None,
    end_date=None,
    workers="auto",
    output_dir=None,
    skip_charts=False,
    charts="top:10",
    save_trades=False,
    no_report=False,
    save_daily=False,
    period="in_sample",
    risk=None,
    account_size=None,
    news_file=None,
    engine="fast",
    config=None,
    server_tz=None,
    drop_invalid=False,
    fresh=False,
    symbol=None,
    strict_data=False,
    max_combinations=None,
    scheduler=None,
    scheduler_file=None,
    tls_dir=None,
):
    """Run every group of a groups file in parallel (what run_parallel_backtest runs); resumable."""
    if groups_file is None:
        raise error(
            "--groups-file is required: the groups file (JSON) to run, e.g. "
            "invoke backtest --groups-file examples/groups_GER40.json"
        )
    from backtest.runner.main import (
        CRASHED,
        RunCrashed,
        RunOptions,
        input_errors,
        run_backtest,
        sample_notice,
    )

    options = RunOptions(
        groups_file=groups_file,
        data_file=data_file,
        start_date=start_date,
        end_date=end_date,
        workers=workers,
        output_dir=output_dir,
        skip_charts=skip_charts,
        save_trades=save_trades,
        charts=charts,
        no_report=no_report,
        save_daily=save_daily,
        period=period,
        risk=risk,
        account_size=account_size,
        news_file=news_file,
        engine=engine,
        config=config,
        server_tz=server_tz,
        drop_invalid=drop_invalid,
        fresh=fresh,
        symbol=symbol,
        strict_data=strict_data,
        max_combinations=max_combinations,
        scheduler=scheduler,
        scheduler_file=scheduler_file,
        tls_dir=tls_dir,
    )
    try:
        report = run_backtest(options)
    except input_errors() as exc:
        raise error(exc) from None
    except RunCrashed as exc:
        raise Exit(f"error: {exc}", code=CRASHED) from None
    print(f"results: {report.output_dir}")
    print(f"summary: {report.files['summary']}")
    if report.top:
        print(f"top {min(TOP_GROUPS, len(report.top))} of {report.ok} groups by total_r:")
    for rank, row in enumerate(report.top[:TOP_GROUPS], start=1):
        print(
            f"  {rank}. {row['group_id']}: R={row['total_r']:.2f}, trades={row['trades']}, "
            f"winrate={row['winrate']:.1%}, sharpe={row['sharpe']:.2f}"
        )
    if not no_report and not report.interrupted:
        from backtest.analysis.report import report_after_run

        report_after_run(report)
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
