"""invoke tasks (robust selection): walk-forward and the overfitting statistics."""

from __future__ import annotations

from pathlib import Path

from invoke import Exit, task

from backtest.runner.options import EXECUTION_OPTIONS
from tasks.edge import error
from tasks.options import run_option_task

RANK_HELP = {
    "min_trades": "only combinations with at least this many trades qualify (default 0)",
    "require_prop_ok": "only combinations inside the prop-firm limits qualify",
}


def _print_robustness(rob: dict, paths: dict) -> None:
    from backtest.analysis.stress import stress_lines

    sel, pbo, dsr = rob["selected"], rob["pbo"], rob["dsr"]
    boot = rob["bootstrap"]
    print(
        f"selected {sel['group_id']} combo {sel['combo']} by {sel['rank_by']}: "
        f"total_r {sel['total_r']:.2f}, {sel['trades']} trades"
    )
    print(
        f"  PBO {pbo['pbo']:.2f} ({pbo['n_splits']} splits of {pbo['n_blocks']} blocks, "
        f"{pbo['n_trials']} combinations x {pbo['n_obs']} days)"
    )
    print(
        f"  DSR {dsr['dsr']:.3f} (annual Sharpe {dsr['sharpe_annual']:.2f}; benchmark for "
        f"{dsr['n_trials']} trials {dsr['benchmark_sharpe_daily'] * 252**0.5:.2f})"
    )
    print(f"  bootstrap: P(breach a prop limit) {boot.get('p_any_breach', float('nan')):.1%}")
    stress = rob["cost_stress"]
    if "levels" in stress:
        print("\n".join(stress_lines(stress)))
    print(f"verdict: {rob['verdict']['text']} (rule: {rob['verdict']['rule']})")
    print(f"  {rob['verdict']['cost_stress']}")
    for path in paths.values():
        print(f"  {path}")


WALK_FORWARD_RUN_OPTIONS = (
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
    *EXECUTION_OPTIONS,
    "scheduler",
    "scheduler_file",
    "tls_dir",
)


@run_option_task(
    WALK_FORWARD_RUN_OPTIONS,
    name="walk-forward",
    help={
        "groups_file": "groups file (JSON, io-contract format): sweep it over the whole span first",
        "from_": "instead of --groups-file: a finished run with compact trades (--save-daily), "
        "e.g. a farm run merged by fab collect",
        "train": "train length: 12M (default), 6M, 1Y, 26W, 90D",
        "test": "test length, after each train part: 3M (default)",
        "step": "how far each window moves (default: the test length)",
        "anchored": "every train part starts at the span's start (growing windows)",
        "objective": "what the train part maximises: total_r (default), sharpe, "
        "profit_factor, r_over_dd, avg_r, winrate",
        **RANK_HELP,
        "no_robustness": "skip the overfitting statistics at the end",
        "output_dir": "where the run and the walk-forward files go "
        "(default: backtest/output/{groups file or space stem}_walk_forward)",
        "search": "instead of the whole grid, each train window searched by this sampler: "
        "tpe, cmaes, nsga2 or random (invoke optimize per window; needs --trials)",
        "trials": "with --search: the trials of each window's search",
        "space": "with --search: the search space (instead of --groups-file)",
        "batch": "with --search: trials per batch (default 256)",
        "seed": "with --search: the sampler's seed (default 0)",
        "trial": "with --search: what one trial is, combination (default) or entry-rule (an "
        "entry rule with its whole sl_mult x tp_mult sub-grid, as invoke optimize --trial; N "
        "for the deflated Sharpe ratio counts every combination)",
    },
)
def walk_forward(
    c,
    groups_file=None,
    from_=None,
    train="12M",
    test="3M",
    step=None,
    anchored=False,
    objective="total_r",
    min_trades=0,
    require_prop_ok=False,
    no_robustness=False,
    output_dir=None,
    search=None,
    trials=None,
    space=None,
    batch=256,
    seed=0,
    trial=None,
    **run_options,
):
    """Choose the best combination on each train window, judge it on the test window after."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.report import refresh_report
    from backtest.analysis.walk_forward import (
        WalkForwardSettings,
        analyse_walk_forward,
        run_walk_forward,
    )
    from backtest.core.config import REPO_ROOT
    from backtest.runner.options import RunOptions
    from backtest.runner.outputs import ResultsError
    from backtest.runner.plan import input_errors

    settings = WalkForwardSettings(
        train, test, step, anchored, objective, int(min_trades), require_prop_ok, not no_robustness
    )
    if search is not None or trials is not None or space is not None or trial is not None:
        searched = {
            "sampler": search,
            "trials": trials,
            "batch": batch,
            "seed": seed,
            "trial": trial or "combination",
        }
        _search_walk_forward(settings, searched, space, groups_file, from_, output_dir, run_options)
        return
    if (groups_file is None) == (from_ is None):
        raise Exit("error: give either --groups-file (sweep, then analyse) or --from OUT", code=2)
    try:
        if from_ is not None:
            folder = Path(from_)
            symbol = detect_symbol([folder], run_options["symbol"])
            done = analyse_walk_forward(folder, symbol, settings)
        else:
            stem = Path(groups_file).stem
            out = output_dir or REPO_ROOT / "backtest" / "output" / f"{stem}_walk_forward"
            options = RunOptions(
                groups_file=groups_file, output_dir=out, skip_charts=True, **run_options
            )
            done = run_walk_forward(options, settings)
            symbol = done["report"].symbol
    except input_errors() + (ValueError, ResultsError) as exc:
        raise error(exc) from None
    report = done.get("report")
    if report is not None and report.exit_code != 0:
        raise Exit(
            f"error: the sweep did not finish (exit {report.exit_code}); re-run to resume",
            code=report.exit_code,
        )
    _print_windows(done)
    if "robustness" in done:
        _print_robustness(
            done["robustness"], {k: v for k, v in done["paths"].items() if "robustness" in k}
        )
    refresh_report(done["output_dir"], symbol, create=True)


@task(
    auto_shortflags=False,
    help={
        "from_": "a results directory run with --save-daily (or by walk-forward)",
        "rank_by": "metric that selects the combination: total_r (default), sharpe, "
        "profit_factor, r_over_dd, avg_r, winrate",
        **RANK_HELP,
        "blocks": "PBO: number of blocks S the days are cut into (even; default 16)",
        "samples": "bootstrap samples (default 10000)",
        "seed": "bootstrap seed (default 0)",
        "symbol": "symbol (needed only when the directory holds several)",
    },
)
def robustness(
    c,
    from_,
    rank_by="total_r",
    min_trades=0,
    require_prop_ok=False,
    blocks=16,
    samples=10_000,
    seed=0,
    symbol=None,
):
    """Overfitting statistics of a finished run: PBO, deflated Sharpe, stability, bootstrap."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.panel import load_panel
    from backtest.analysis.report import refresh_report
    from backtest.analysis.robustness import robustness as analyse
    from backtest.analysis.robustness import write_robustness
    from backtest.analysis.walk_forward import provenance
    from backtest.runner.outputs import ResultsError

    try:
        folder = Path(from_)
        sym = detect_symbol([folder], symbol)
        panel = load_panel(folder, sym)
        rob = analyse(
            panel, rank_by, int(min_trades), require_prop_ok, int(blocks), int(samples), int(seed)
        )
        settings = {
            "rank_by": rank_by,
            "min_trades": int(min_trades),
            "require_prop_ok": require_prop_ok,
            "blocks": int(blocks),
            "samples": int(samples),
            "seed": int(seed),
        }
        paths = write_robustness(folder, sym, rob, provenance(panel, settings))
    except (ValueError, ResultsError, OSError) as exc:
        raise error(exc) from None
    _print_robustness(rob, paths)
    refresh_report(folder, sym)


@task(
    auto_shortflags=False,
    help={
        "from_": "a results directory (results_full_{SYMBOL}.json)",
        "rank_by": "metric to rank by: total_r (default), sharpe, profit_factor, r_over_dd, "
        "avg_r, winrate",
        **RANK_HELP,
        "top": "how many rows to print and write (default 20)",
        "symbol": "symbol (needed only when the directory holds several)",
    },
)
def rank(c, from_, rank_by="total_r", min_trades=0, require_prop_ok=False, top=20, symbol=None):
    """Rank every combination of a run by any metric, with filters; writes ranking_{SYMBOL}.csv."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.ranking import rank_run
    from backtest.runner.outputs import ResultsError

    try:
        folder = Path(from_)
        sym = detect_symbol([folder], symbol)
        path, rows = rank_run(folder, sym, rank_by, int(min_trades), require_prop_ok, int(top))
    except (ValueError, ResultsError, OSError) as exc:
        raise error(exc) from None
    print(
        f"{len(rows)} combinations by {rank_by} (min trades {min_trades}"
        f"{', prop limits kept' if require_prop_ok else ''}):"
    )
    for n, row in enumerate(rows, start=1):
        value = "" if rank_by == "total_r" else f"{rank_by}={row[rank_by]:.4g}, "
        print(
            f"  {n}. {row['group_id']} combo {row['combo']}: {value}"
            f"total_r={row['total_r']:.4g}, trades={row['trades']}, prop_ok={row['prop_ok']}"
        )
    print(f"  -> {path}")


def _print_windows(done: dict) -> None:
    """The windows, the stitched out-of-sample result and the files."""
    result = done["result"]
    print(f"{result['windows_note']}; over {done['output_dir']}:")
    for row in result["windows"]:
        chosen = (
            f"{row['group_id']} combo {row['combo']}" if row["group_id"] else "nothing qualified"
        )
        tried = f" (of {row['evaluated']} evaluated)" if "evaluated" in row else ""
        test_r = row["test_metrics"]["total_r"] if row["test_metrics"] else 0.0
        print(f"  {row['test_start']}..{row['test_end']}: {chosen}{tried}, test R {test_r:.2f}")
    stitched, wfe = result["stitched"], result["walk_forward_efficiency"]
    print(
        f"out-of-sample: {stitched['total_r']:.2f} R, {stitched['trades']} trades, sharpe "
        f"{stitched['sharpe']:.2f}; walk-forward efficiency "
        f"{'n/a (in-sample R not positive)' if wfe is None else f'{wfe:.2f}'}; "
        f"choice changed {result['choice_changes']} times"
    )
    for key in ("csv", "json", "png"):
        print(f"  {done['paths'][key]}")


def _search_walk_forward(settings, searched, space, groups_file, from_, output_dir, run_options):
    """``--search``: each train window searched (backtest.search.walk_forward)."""
    from backtest.core.config import REPO_ROOT
    from backtest.runner.execute import RunCrashed
    from backtest.runner.exit_codes import CRASHED
    from backtest.search.optimize import optimize_errors
    from backtest.search.walk_forward import WindowSearch, run_search_walk_forward

    search, trials = searched["sampler"], searched["trials"]
    if search is None or trials is None:
        raise Exit("error: --search and --trials go together (a search of N trials per window)", 2)
    if from_ is not None or (space is None) == (groups_file is None):
        raise Exit("error: --search: give --space or --groups-file (not --from)", code=2)
    try:
        window_search = WindowSearch(
            search, int(trials), int(searched["batch"]), int(searched["seed"]), searched["trial"]
        )
    except ValueError:
        raise Exit("error: --trials, --batch and --seed take whole numbers", code=2) from None
    stem = Path(space or groups_file).stem
    out = output_dir or REPO_ROOT / "backtest" / "output" / f"{stem}_walk_forward_{search}"
    try:
        done = run_search_walk_forward(
            space,
            groups_file,
            {**run_options, "output_dir": out},
            settings,
            window_search,
        )
    except optimize_errors() + (ValueError,) as exc:
        raise error(exc) from None
    except RunCrashed as exc:
        raise error(exc, code=CRASHED) from None
    if "interrupted" in done:
        raise Exit(
            f"interrupted ({done['interrupted']}); re-run the same command to resume", code=130
        )
    _print_windows(done)
    found = done["result"]["search"]
    dsr = found["dsr"]
    print(
        f"searches: {found['trials_run']} trials, {found['evaluated']} combinations evaluated; "
        + (
            "stitched out-of-sample DSR n/a (too few days or trials)"
            if dsr is None
            else f"stitched out-of-sample DSR {dsr['dsr']:.3f} (N = {dsr['n_trials']} evaluated)"
        )
    )
    print(f"  PBO {found['pbo']}")
