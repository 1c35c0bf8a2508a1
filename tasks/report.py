"""invoke tasks (see the results): the HTML report of a run, one combination's trades."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from invoke import Exit, task

from backtest.runner.options import EXECUTION_OPTIONS
from tasks.edge import error
from tasks.options import run_option_task


def _whole(value: object, option: str) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise Exit(f"error: {option}: {value!r} is not a whole number >= 0", code=2)
    return int(text)


@task(
    auto_shortflags=False,
    help={
        "from_": "a results directory (results_full_{SYMBOL}.json)",
        "symbol": "symbol (needed only when the directory holds several)",
        "rank_by": "metric the page ranks by at first and that chooses the combinations "
        "whose trades are embedded (default total_r)",
        "rows": "table rows shown at once (default 1000)",
        "detail": "how many of the best combinations get their trades embedded (default 50)",
        "report_rows": "combinations the page embeds at most: the best by --rank-by, plus the "
        "ones the analyses selected (default 20000); heatmaps and distributions cover all",
    },
)
def report(c, from_, symbol=None, rank_by="total_r", rows="1000", detail="50", report_rows="20000"):
    """Write the run's self-contained offline HTML report OUT/report_{SYMBOL}.html."""
    from backtest.analysis.report import write_report
    from backtest.runner.outputs import ResultsError

    try:
        path = write_report(
            Path(from_),
            symbol,
            rank_by,
            _whole(rows, "--rows"),
            _whole(detail, "--detail"),
            report_rows=_whole(report_rows, "--report-rows"),
        )
    except (ValueError, ResultsError, OSError) as exc:
        raise error(exc) from None
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB); open it in a browser, offline")


@run_option_task(
    EXECUTION_OPTIONS,
    help={
        "from_": "a results directory (results_full_{SYMBOL}.json)",
        "group": "group id of the combination (as in results_combos_{SYMBOL}.csv)",
        "combo": "index of the combination in its group (the combo column)",
        "server_tz": "broker clock for the broker-time columns: an IANA zone or broker:NY+H "
        "(default: the run's --server-tz, else broker:NY+7)",
        "symbol": "symbol (needed only when the directory holds several)",
    },
)
def trades(c, from_, group, combo, server_tz=None, symbol=None, **execution):
    """Re-run one combination; write its trades CSV, equity PNG and monthly R table.

    As recorded, or with other execution settings (--spread-model, --spread-source,
    --slippage): then into files of their own, and its metrics differ by design."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.rerun import (
        DEFAULT_BROKER_TZ,
        execution_tag,
        monthly_r,
        recorded_bars,
        rerun,
        write_combo_files,
    )
    from backtest.core.config import load_config
    from backtest.data.files import DataError
    from backtest.data.server_tz import check_server_tz
    from backtest.runner.outputs import ResultsError, read_results
    from backtest.runner.plan import execution_overrides

    index = _whole(combo, "--combo")
    try:
        folder = Path(from_)
        sym = detect_symbol([folder], symbol)
        if server_tz is not None:
            check_server_tz(server_tz, "--server-tz")
        meta = read_results(folder, sym, combos=False)["metadata"]
        cfg = load_config()
        recorded = recorded_bars(meta, cfg)
        spec = recorded.symbol.with_execution(execution_overrides(execution), "option")
        bars = replace(recorded, symbol=spec)
        tag = execution_tag(spec, recorded.symbol)
        (again,), _ = rerun(folder, sym, [(group, index)], cfg=cfg, bars=bars)
        tz = server_tz or meta.get("server_tz") or DEFAULT_BROKER_TZ
        paths = write_combo_files(folder, sym, again, bars, tz, float(meta["account_size"]), tag)
    except (ValueError, ResultsError, DataError, OSError) as exc:
        raise error(exc) from None
    metrics = again.result.metrics
    print(
        f"{group} combo {index}: {metrics['trades']} trades, total R {metrics['total_r']:.4f}, "
        f"sharpe {metrics['sharpe']:.3f}; broker time {tz}"
    )
    for kind, path in paths.items():
        print(f"  {kind}: {path}")
    print(monthly_r(again, bars).round(2).to_string())
    if tag:
        print(
            f"re-run with {tag} instead of the run's own execution settings: its metrics "
            "differ from the recorded ones by design"
        )
    elif again.differences:
        lines = [f"  {k}: recorded {a!r}, re-run {b!r}" for k, (a, b) in again.differences.items()]
        raise Exit(
            "error: the re-run's metrics differ from the recorded ones:\n" + "\n".join(lines),
            code=1,
        )
    print("metrics equal the recorded ones (every metric, exactly)")
