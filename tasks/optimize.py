"""invoke tasks (search): Optuna's samplers over the fast kernel, in batches."""

from __future__ import annotations

from invoke import Exit

from backtest.runner.options import EXECUTION_OPTIONS
from tasks.edge import error
from tasks.options import run_option_task

OPTIMIZE_RUN_OPTIONS = (
    "data_file",
    "start_date",
    "end_date",
    "workers",
    "period",
    "risk",
    "account_size",
    "news_file",
    "config",
    "server_tz",
    "drop_invalid",
    "ignore_clock_check",
    "fresh",
    "symbol",
    "strict_data",
    "save_daily",
    "no_report",
    "scheduler",
    "scheduler_file",
    "tls_dir",
    *EXECUTION_OPTIONS,
)


def _print_result(report) -> None:
    summary = report.summary
    print(f"results: {report.output_dir}")
    print(
        f"study {summary['study_name']}: {summary['trials']} trials of {summary['n_trials']} "
        f"({', '.join(f'{k} {v}' for k, v in summary['outcomes'].items())}); "
        f"{summary['evaluated']} combinations evaluated (N for the deflated Sharpe ratio)"
        + (
            f" in {summary['evaluated_trials']} entry rules"
            if summary.get("trial") == "entry-rule"
            else ""
        )
    )
    names = summary["objectives"]
    for best in summary["best"][:5]:
        values = ", ".join(f"{n} {v:.4g}" for n, v in zip(names, best["values"]))
        print(f"  trial {best['trial']}: {values} ({best['group_id']} combo {best['combo']})")
    for key in ("summary", "trials_csv", "page", "report"):
        if key in report.files:
            print(f"  {report.files[key]}")


@run_option_task(
    OPTIMIZE_RUN_OPTIONS,
    help={
        "space": "search space: the grid YAML format (docs/ANALYSIS.md) with ranges "
        '{start, stop, step}, time ranges {start: "08:00", stop: "10:00", step: 5} and '
        "float ranges without a step (continuous)",
        "groups_file": "instead of --space: a groups file; each group is a block of the space",
        "sampler": "tpe (default), cmaes, nsga2 or random (Optuna's)",
        "trials": "how many trials the study runs in all (every sampled point is a trial; a "
        "duplicate or infeasible point is never evaluated); a resume continues to it",
        "objective": "what is maximised: total_r (default), sharpe, profit_factor, r_over_dd, "
        "avg_r, winrate",
        "objectives": "several objectives, comma-separated, e.g. total_r,max_dd_r (the "
        "drawdown and loss metrics are minimised); a Pareto search (tpe or nsga2)",
        "min_trades": "a combination with fewer trades does not qualify: it is told the worst "
        "value (default 0: at least one trade)",
        "require_prop_ok": "a combination outside the prop-firm limits does not qualify",
        "seed": "the sampler's seed (default 0)",
        "storage": "the study's database: sqlite:///PATH or postgresql://USER@HOST/DB "
        "(default sqlite:///OUT/optuna.db); several hosts share one study through it",
        "study_name": "the study's name in the storage (default {space stem}_{SYMBOL}_{period})",
        "batch": "trials asked, evaluated and told together (default 256; cmaes and nsga2: "
        "the population)",
        "trial": "what one trial is: combination (default: a sampled point) or entry-rule (a "
        "sampled entry rule run with every sl_mult/tp_mult of the space, one kernel call; its "
        "value the best of them; N for the DSR counts every combination)",
        "output_dir": "where the results go (default: backtest/output/{space or groups file "
        "stem}_optimize_{period}); resumed when run again",
    },
)
def optimize(
    c,
    space=None,
    groups_file=None,
    sampler="tpe",
    trials=None,
    objective="total_r",
    objectives=None,
    min_trades=0,
    require_prop_ok=False,
    seed=0,
    storage=None,
    study_name=None,
    batch=256,
    trial="combination",
    output_dir=None,
    **run_options,
):
    """Search a space with Optuna's samplers, batches of trials through the fast kernel."""
    from backtest.runner.execute import RunCrashed, sample_notice
    from backtest.runner.exit_codes import CRASHED
    from backtest.search.optimize import OptimizeOptions, optimize_errors, run_optimize

    options = OptimizeOptions(
        space=space,
        groups_file=groups_file,
        sampler=sampler,
        trials=trials,
        objective=objective,
        objectives=objectives,
        min_trades=min_trades,
        require_prop_ok=require_prop_ok,
        seed=seed,
        storage=storage,
        study_name=study_name,
        batch=batch,
        trial=trial,
        run={**run_options, "output_dir": output_dir},
    )
    try:
        report = run_optimize(options)
    except optimize_errors() as exc:
        raise error(exc) from None
    except RunCrashed as exc:
        raise error(exc, code=CRASHED) from None
    _print_result(report)
    notice = sample_notice(report.data)
    if report.interrupted:
        raise Exit(
            f"interrupted ({report.interrupted}); re-run the same command to resume"
            + (f"\n{notice}" if notice else ""),
            code=report.exit_code,
        )
    if notice:
        print(notice)
