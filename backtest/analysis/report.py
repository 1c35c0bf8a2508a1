"""One self-contained, offline HTML report of a run: ``OUT/report_{SYMBOL}.html``.

The page embeds everything it shows: plotly.js (from the pinned ``plotly`` package,
inline, no CDN), at most ``report_rows`` combinations as compact columns (the best by
the ranking, plus the ones an analysis selected), whole-run aggregates that DuckDB
computes over every combination (:mod:`backtest.analysis.aggregates`), and the trades
of the best ``detail`` combinations. Its size is bounded whatever the run's. Nothing
is fetched: no script, font, map or image leaves the file (tested in a real headless
Chromium). jinja2 renders the template ``templates/report.html.j2`` (autoescaped; the
data goes in as JSON).

What it shows (docs/ANALYSIS.md, "Report"): the header (symbol, period, data source
and checksum, a red banner on sample data, costs, risk, code version, runtime); an
MT5-style table of the embedded combinations (sortable, filterable, ranked by any
metric, the first ``rows`` shown); a heatmap and a 3D surface of a metric over any two
parameters: over the whole run (each cell's best, the other parameters free) or over the
embedded rows (the other parameters fixed at the selected row's values); each metric's
distribution over the whole run; for the selected combination its equity in R and
money with drawdown, its trades, a monthly R table and the prop-firm view; and, when
their files are in OUT, the control comparison, walk-forward and robustness sections.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from backtest.analysis.aggregates import (
    REPORT_ROWS,
    ordered_values,
    take,
    top_rows,
    whole_run,
)
from backtest.analysis.pages import PageError, prepare_pages, render_page
from backtest.analysis.report_sections import (
    control_section,
    reconcile_section,
    robustness_section,
    selected_pairs,
    short_floats,
    shorts,
    walk_forward_section,
)
from backtest.analysis.sql import connect_table, rows_of
from backtest.analysis.table import RunInHand, RunTable
from backtest.core.atomic import atomic_write_text
from backtest.core.config import load_config
from backtest.runner.columns import encoded
from backtest.runner.outputs import LEAD_METRICS, table_columns
from backtest.runner.reading import NUMBER, TEXT, Fields, check, maybe
from backtest.runner.rundir import DAILY_DIR, report_path, result_paths

if TYPE_CHECKING:
    from backtest.analysis.panel import Panel
    from backtest.data.bars import Bars

TEMPLATE = "report.html.j2"
SCRIPT = "report.js"  # the page's code, inlined as it is (its hash in the policy)
STYLE = "report.css"
ROWS = 1000  # table rows shown at once (of every combination embedded)
DETAIL = 50  # combinations whose trades are embedded (the best by rank_by)
MAX_DETAIL_TRADES = 250_000  # and at most this many trades over all of them
# How each metric is coloured and ranked: "high"/"low" is better; a centre makes the
# colour scale diverging and symmetric around it (equal halves), None sequential.
METRIC_STYLE: dict[str, tuple[str, float | None]] = {
    "total_r": ("high", 0.0),
    "avg_r": ("high", 0.0),
    "sharpe": ("high", 0.0),
    "total_pnl": ("high", 0.0),
    "worst_day_r": ("high", 0.0),
    "profit_factor": ("high", 1.0),
    "winrate": ("high", None),
    "trades": ("high", None),
    "prop_ok": ("high", None),
    "max_dd_r": ("low", None),
    "max_losing_streak": ("low", None),
    "skipped": ("low", None),
    "max_daily_loss_pct": ("low", None),
    "max_drawdown_pct": ("low", None),
    "recovery_factor": ("high", 0.0),
    "expected_payoff": ("high", 0.0),
}
# Columns of MT5's tester report the page computes from the run's metrics (the table's
# header says how, in its title).
MT5_COLUMNS = {
    "recovery_factor": "total_r / max_dd_r: MT5's recovery factor (net profit / maximal "
    "drawdown), here both in R of closed trades, as the run records its drawdown (at a "
    "fixed risk per trade, money differs from R only by the lots' rounding); empty without "
    "trades, or without a drawdown",
    "expected_payoff": "total_pnl / trades: MT5's expected payoff, the net profit per trade "
    "in the account's money; empty without trades",
}
# What the header shows of the metadata besides what the results reader checks already
# (backtest.runner.outputs.METADATA): the execution settings and the git commit.
META_SHOWN = Fields(
    {
        "symbol_settings": Fields(
            {
                **dict.fromkeys(("spread_model", "spread_source"), maybe(TEXT)),
                **dict.fromkeys(("spread_unit", "slippage"), maybe(NUMBER)),
            },
            optional=True,
        ),
        "git_commit": maybe(TEXT),
    }
)
_log = logging.getLogger("backtest.report")


class ReportError(PageError):
    """A results directory that cannot be reported; the message says why."""


def _finite(value: Any) -> Any:
    """Non-finite floats to None (JSON has no NaN); everything else unchanged."""
    return None if isinstance(value, float) and not np.isfinite(value) else value


def _runtime(meta: dict[str, Any]) -> str | None:
    try:
        start = dt.datetime.fromisoformat(meta["start_time"])
        end = dt.datetime.fromisoformat(meta["end_time"])
    except (KeyError, TypeError, ValueError):
        return None
    return f"{(end - start).total_seconds():.0f} s"


def _sample(meta: dict[str, Any]) -> bool:
    data = meta.get("data")
    if isinstance(data, dict) and "source" in data:
        return data["source"] == "sample"
    from backtest.analysis.control import in_sample_was_sample  # scipy: only when needed

    return in_sample_was_sample(meta, load_config())


def _costs(meta: dict[str, Any], symbol: str) -> dict[str, Any]:
    """The symbol's costs as the run recorded them; for results written before they were
    recorded, the configured ones, marked as such."""
    if isinstance(meta.get("symbol_settings"), dict):
        return meta["symbol_settings"]
    from dataclasses import asdict

    from backtest.core.config import ConfigError, symbol_spec

    try:
        return {**asdict(symbol_spec(symbol, load_config())), "from_config": True}
    except ConfigError:
        return {
            k: None
            for k in (
                "spread",
                "commission",
                "point",
                "value_per_point",
                "volume_min",
                "volume_step",
                "timezone",
            )
        }


def _columns(shown: pa.Table, run_varied: Sequence[str] = ()) -> dict[str, Any]:
    """The combinations as columns: metrics, and each varied parameter (among these rows,
    or in the whole run: ``run_varied``) as an index into its sorted distinct values;
    fixed parameters apart. Computed per column: the distinct values of a parameter are
    few, whatever the number of rows."""
    metric_names, param_names = table_columns()
    distinct: dict[str, list[Any]] = {}
    codes: dict[str, np.ndarray] = {}
    for name in param_names:
        distinct[name], codes[name] = encoded(shown.column(name))
    varied = [n for n in param_names if len(distinct[n]) > 1 or n in run_varied]
    fixed = {n: distinct[n][0] for n in param_names if n not in varied}

    order = {name: ordered_values(distinct[name]) for name in varied}
    rank = {name: np.argsort(order[name]) for name in varied}
    return {
        "metrics": metric_names,
        "params": varied,
        "fixed": fixed,
        "values": {n: [distinct[n][k] for k in order[n]] for n in varied},
        # full precision: the page ranks exactly as the result files do
        "metric": {n: _finite_list(shown.column(n)) for n in metric_names},
        "param": {n: rank[n][codes[n]].tolist() for n in varied},
    }


def _finite_list(column: pa.ChunkedArray) -> list[Any]:
    """A metric column as JSON values: non-finite floats and nulls as None."""
    from backtest.runner.store import pylist

    out = pylist(column)
    if pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            out[i] = None
    return out


# The fields of a trade record (spec section 7) the page shows.
TRADE_SHOWN = (
    *("entry_time", "exit_time", "direction", "entry_price", "exit_price", "sl", "tp"),
    *("lots", "r", "pnl_money", "exit_reason"),
)


def _trade_columns(columns: dict[str, Any], days: list[str]) -> dict[str, list[Any]]:
    """The shown fields of trades given column by column (lists of record values, or
    :func:`~backtest.strategy.trades.trade_columns`' arrays), numbers as :func:`short`
    gives them, with each trade's trading day."""
    out: dict[str, list[Any]] = {"day": days}
    for name in TRADE_SHOWN:
        column = columns[name]
        out[name] = short_floats(column) if isinstance(column, np.ndarray) else shorts(column)
    return out


def _details(
    table: RunTable,
    chosen: list[int],
    rerun_data: bool,
    panel: Callable[[], Panel | None],
    bars: Bars | None = None,
) -> tuple[dict[str, Any], str]:
    """Trades of the ``chosen`` combinations (run-order rows of ``table``), from the first
    source that has them: trades saved in results_full (``--save-trades``), the compact
    trades in OUT/daily (``--save-daily``: day, R and money per trade), or a re-run
    with the recorded data (when the data file is there unchanged); and what was used."""
    details: dict[str, Any] = {}
    budget = MAX_DETAIL_TRADES
    missing = {}
    for i, record in zip(chosen, table.records(chosen)):
        saved = record.get("trades")
        if saved is None:
            missing[i] = record
            continue
        if len(saved) > budget:
            break
        budget -= len(saved)
        details[str(i)] = {
            "source": "results_full (--save-trades)",
            "trades": _trade_columns(
                {name: [t.get(name) for t in saved] for name in TRADE_SHOWN},
                [t["entry_time"][:10] for t in saved],
            ),
        }
    if not missing:
        return details, "results_full"
    used = _daily_details(panel(), list(missing), details, budget)
    if used or not rerun_data:
        return details, "daily" if used else "none"
    return details, _rerun_details(table, missing, details, budget, bars)


def _iso_days(days: np.ndarray) -> list[str]:
    """Day numbers (``Bars.day``: days since 1970-01-01) as ISO dates, vectorized."""
    return np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]")).tolist()


def _daily_details(
    panel: Panel | None,
    wanted: list[int],
    details: dict[str, Any],
    budget: int,
) -> bool:
    if panel is None:
        return False
    c = panel.compact
    for i in wanted:
        lo, hi = int(c.offsets[i]), int(c.offsets[i + 1])
        if hi - lo > budget:
            break
        budget -= hi - lo
        details[str(i)] = {
            "source": "OUT/daily (--save-daily): trading day, R and money per trade",
            "trades": {
                "day": _iso_days(c.day[lo:hi]),
                "r": short_floats(c.r[lo:hi]),
                "pnl_money": short_floats(c.pnl[lo:hi]),
            },
        }
    return True


def _rerun_details(
    table: RunTable,
    wanted: dict[int, dict[str, Any]],
    details: dict[str, Any],
    budget: int,
    bars: Bars | None = None,
) -> str:
    """The trades of ``wanted`` (run-order row: its record, as :meth:`RunTable.records`
    gives it) re-run with the recorded data into ``details``; the source's name."""
    from backtest.analysis.rerun import Pick, RerunError, rerun_picks
    from backtest.data.files import DataError

    picks = [Pick(r["group_id"], r["combo"], r["params"], r["metrics"]) for r in wanted.values()]
    try:
        # The fast engine whatever the run used: both engines give identical trades
        # (tests/kernel/test_differential.py), and each re-run is checked below.
        done, bars = rerun_picks(table, picks, engine="fast", bars=bars)
    except (RerunError, DataError, OSError) as exc:
        _log.info(f"report: no trades re-run ({' '.join(str(exc).split())})")
        return "none"
    from backtest.strategy.trades import trade_columns, trade_values

    for i, again in zip(wanted, done):
        trades = again.result.trades
        if len(trades) > budget:
            break
        budget -= len(trades)
        days = _iso_days(trade_values(trades, bars)["day"])
        details[str(i)] = {
            "source": "re-run with the recorded data file (checksum verified)",
            "differences": {k: list(v) for k, v in again.differences.items()},
            "trades": _trade_columns(trade_columns(trades, bars), days),
        }
    return "rerun"


def report_data(
    out_dir: Path,
    symbol: str,
    rank_by: str = "total_r",
    rows: int = ROWS,
    detail: int = DETAIL,
    rerun_data: bool = True,
    report_rows: int = REPORT_ROWS,
    held: RunInHand | None = None,
) -> dict[str, Any]:
    """Everything the page shows, JSON-ready (see the module doc): at most ``report_rows``
    combinations of the run (the best by ``rank_by``) and those an analysis selected;
    ``held``: the run's results and bars as the run holds them (else read from OUT)."""
    out_dir = Path(out_dir)
    table = held.table(out_dir, symbol) if held else RunTable.read(out_dir, symbol)
    results = table.results
    meta = results["metadata"]
    check(
        {"metadata": meta},
        Fields({"metadata": META_SHOWN}),
        str(result_paths(out_dir, symbol)["full"]),
    )
    ok = table.groups
    if not ok:
        raise ReportError(f"{out_dir}: no successful group to report")
    metric_names, param_names = table_columns()
    if rank_by not in metric_names:
        raise ReportError(f"--rank-by {rank_by!r}: one of {', '.join(metric_names)}")
    con = connect_table(table)
    higher = {m: METRIC_STYLE.get(m, ("high", None))[0] == "high" for m in metric_names}
    order = top_rows(con, rank_by, higher[rank_by], report_rows)
    selected = [r for r in rows_of(con, selected_pairs(out_dir, symbol)) if r is not None]
    kept = np.unique(np.concatenate([order, np.asarray(selected, dtype=np.int64)]))
    chosen = order[:detail].tolist()

    @cache
    def panel() -> Panel | None:
        """The run's compact trades (OUT/daily), read once if at all; None without them."""
        from backtest.analysis.panel import PanelError, load_panel

        if not (out_dir / DAILY_DIR).is_dir():  # none saved: not worth reading the run again
            return None
        try:
            return load_panel(out_dir, symbol)
        except (PanelError, OSError, ValueError):
            return None

    def trading_days(start: str, end: str) -> list[str] | None:
        run = panel()
        days = None if run is None else run.days_between(start, end)
        return None if days is None else _iso_days(days)

    bars = held.bars if held is not None else None
    # DuckDB's queries, one after the other (the connection's only user meanwhile; it
    # lets go of the GIL while it scans), beside the trades' re-run, on the other core.
    with ThreadPoolExecutor(1, thread_name_prefix="report-sql") as aside:
        taken = aside.submit(take, con, kept, ["group_id", "combo", *metric_names, *param_names])
        whole = aside.submit(whole_run, con, rank_by, higher)
        details, source = _details(table, chosen, rerun_data, panel, bars)
        shown, run = taken.result(), whole.result()
    group_ids = shown.column("group_id").to_pylist()
    combo_index = shown.column("combo").to_pylist()
    position = dict(zip(chosen, np.searchsorted(kept, chosen).tolist()))
    shown_at = [position[int(i)] for i in details]
    data = meta.get("data") if isinstance(meta.get("data"), dict) else {}
    columns = _columns(shown, run["varied"])
    columns["metric"].update(_mt5_columns(shown))
    columns["metrics"] += list(MT5_COLUMNS)
    return {
        "symbol": symbol,
        "meta": {
            "period": meta.get("period"),
            "start_date": meta.get("start_date"),
            "end_date": meta.get("end_date"),
            "data_path": data.get("path") or meta.get("data_file"),
            "data_checksum": meta.get("data_checksum"),
            "data_source": data.get("source"),
            "first_bar": data.get("first_bar"),
            "last_bar": data.get("last_bar"),
            "bars": data.get("bars"),
            "sample": _sample(meta),
            "costs": _costs(meta, symbol),
            "execution": _execution(meta),
            "risk": meta.get("risk"),
            "account_size": meta.get("account_size"),
            "daily_loss_limit_pct": meta.get("daily_loss_limit_pct"),
            "max_loss_limit_pct": meta.get("max_loss_limit_pct"),
            "code_version": meta.get("code_version"),
            "git_commit": meta.get("git_commit"),
            "engine": meta.get("engine"),
            "workers": meta.get("workers"),
            "host": meta.get("host"),
            "start_time": meta.get("start_time"),
            "end_time": meta.get("end_time"),
            "runtime": _runtime(meta),
            "warnings": meta.get("warnings") or [],
            "groups_ok": len(ok),
            "groups_failed": len(results["groups"]) - len(ok),
            "combinations": len(table),
            "embedded": shown.num_rows,
            "report_rows": report_rows,
            "selected_embedded": len(set(selected) - set(order.tolist())),
            "recovered": meta.get("recovered_from_checkpoint"),
            "news_file": meta.get("news_file"),
            "server_tz": meta.get("server_tz"),
        },
        "lead": [*(m for m in LEAD_METRICS if m in metric_names), *MT5_COLUMNS],
        "style": {m: METRIC_STYLE.get(m, ("high", None)) for m in columns["metrics"]},
        "definitions": MT5_COLUMNS,
        "groups": [g["group_id"] for g in ok],
        "group_index": group_ids,
        "combo_index": combo_index,
        "columns": columns,
        "run": run,
        "details": {str(position[int(i)]): d for i, d in details.items()},
        "day_pages": {
            str(at): _day_page(out_dir, group_ids[at], combo_index[at]) for at in shown_at
        },
        "detail_source": source,
        "limits": {"rows": rows, "detail": detail, "max_detail_trades": MAX_DETAIL_TRADES},
        "rank_by": rank_by,
        "control": control_section(out_dir, symbol),
        "walk_forward": walk_forward_section(out_dir, symbol, trading_days),
        "robustness": robustness_section(out_dir, symbol),
        "reconcile": reconcile_section(out_dir, symbol),
        "out_dir": str(out_dir),
        "invoke": _invoke_command(),
    }


def _execution(meta: dict[str, Any]) -> str:
    """The run's execution settings as one line (:func:`execution_text`); a run recorded
    before execution models says so."""
    from backtest.core.config import execution_text, recorded_execution

    execution = recorded_execution(meta.get("symbol_settings"))
    if execution["spread_unit"] is None:  # neither a unit nor a point recorded
        execution["spread_unit"] = float("nan")
    return execution_text(execution)


def _mt5_columns(shown: pa.Table) -> dict[str, list[Any]]:
    """The :data:`MT5_COLUMNS` of every combination of ``shown`` (full precision; None
    where they are not defined)."""
    from backtest.analysis.ranking import r_over_dd

    def values(name: str) -> np.ndarray:  # nulls as NaN
        return shown.column(name).to_numpy(zero_copy_only=False).astype(np.float64)

    trades = values("trades")
    traded = trades > 0
    recovery = r_over_dd(values("total_r"), values("max_dd_r"))
    with np.errstate(divide="ignore", invalid="ignore"):
        payoff = values("total_pnl") / trades
    out = {}
    for name, column in (("recovery_factor", recovery), ("expected_payoff", payoff)):
        ok = traded & np.isfinite(column)
        out[name] = [float(v) if k else None for v, k in zip(column.tolist(), ok.tolist())]
    return out


def _day_page(out_dir: Path, group_id: str, combo: int) -> dict[str, list[str]]:
    """The drawn day of a trade of combination ``combo`` of ``group_id``: its page beside
    the report (:func:`backtest.analysis.day.day_link`) and the command that writes it
    (:func:`~backtest.analysis.day.day_command`), each as the text before and after the
    trade's date, which the page puts in."""
    from backtest.analysis.day import day_command, day_link

    at = "0001-01-01"
    link = day_link(group_id, combo, at).rsplit(at, 1)
    command = day_command(out_dir, group_id, combo, at).rsplit(at, 1)
    return {"link": link, "command": command}


def _invoke_command() -> str:
    """The project's own ``invoke`` (beside this interpreter) for the commands the page
    prints; plain ``invoke`` when there is none."""
    beside = Path(sys.executable).parent / "invoke"
    return str(beside) if beside.is_file() else "invoke"


def _fixed(value: float | None, digits: int) -> str:
    """A number with ``digits`` decimals for the page; "n/a" for none (NaN in a file)."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(payload: dict[str, Any]) -> str:
    """The page's HTML for ``payload`` (:func:`report_data`). The reconcile's document
    (when there is one) becomes its section's markup (escaped by
    :func:`backtest.analysis.reconcile_page.section`), not part of the JSON block."""
    import jinja2

    from backtest.analysis.reconcile_page import section

    reconcile = payload.get("reconcile")
    markup = jinja2.utils.markupsafe.Markup
    return render_page(
        TEMPLATE,
        SCRIPT,
        [STYLE],
        {k: v for k, v in payload.items() if k != "reconcile"},
        undefined=jinja2.ChainableUndefined,  # analysis files may lack optional keys
        filters={"fixed": _fixed},
        p=payload,
        reconcile_html=markup(section(reconcile["document"])) if reconcile else None,
    )


def write_report(
    out_dir: Path,
    symbol: str | None = None,
    rank_by: str = "total_r",
    rows: int = ROWS,
    detail: int = DETAIL,
    rerun_data: bool = True,
    report_rows: int = REPORT_ROWS,
    held: RunInHand | None = None,
) -> Path:
    """Write ``OUT/report_{SYMBOL}.html`` for the run in ``out_dir`` (at most
    ``report_rows`` combinations embedded, plus the selected ones; ``held``: see
    :func:`report_data`); its path."""
    from backtest.analysis.merge import detect_symbol

    out_dir = Path(out_dir)
    symbol = detect_symbol([out_dir], symbol)
    if rows < 1:
        raise ReportError(f"--rows: {rows} must be >= 1")
    if detail < 0:
        raise ReportError(f"--detail: {detail} must be >= 0")
    if report_rows < 1:
        raise ReportError(f"--report-rows: {report_rows} must be >= 1")
    payload = report_data(out_dir, symbol, rank_by, rows, detail, rerun_data, report_rows, held)
    return atomic_write_text(report_path(out_dir, symbol), render(payload))


def prepare_report() -> None:
    """Make ahead, beside a run, what its report needs whatever the run
    (:func:`backtest.analysis.pages.prepare_pages`): the run's end does not wait for it."""
    import jinja2

    import backtest.analysis.rerun  # noqa: F401  (the trades' re-run)

    prepare_pages([(TEMPLATE, SCRIPT, [STYLE], jinja2.ChainableUndefined, {"fixed": _fixed})])


def report_after_run(run: Any) -> Path | None:
    """The report at the end of a run (:class:`backtest.runner.execute.RunReport`); a
    failure is logged (the run's log), never fatal. It reads the run as held (RunInHand)."""
    warn = logging.getLogger("backtest.run").warning
    hand = RunInHand(run.results, run.bars) if run.results is not None else None
    return _write_aside(run.output_dir, run.symbol, warn, hand)


def refresh_report(out_dir: Path, symbol: str, create: bool = False) -> Path | None:
    """The report of the run in ``out_dir`` rewritten after an analysis added its file
    there: ``invoke walk-forward`` writes it (``create``: its sweep is a run, and every
    run ends with one), ``invoke robustness`` and ``invoke control`` rewrite it when there
    is one. A failure is a warning on stderr, never the command's: its own files are
    written. The report's path, or None."""
    if not create and not report_path(out_dir, symbol).is_file():
        return None

    def warn(text: str) -> None:
        print(f"warning: {text}", file=sys.stderr)

    return _write_aside(Path(out_dir), symbol, warn)


def _write_aside(
    out_dir: Path, symbol: str, warn: Callable[[str], None], held: RunInHand | None = None
) -> Path | None:
    """:func:`write_report` as a by-product of another command: its line printed (path,
    size, time), a failure handed to ``warn`` in one line."""
    started = dt.datetime.now(dt.UTC)
    try:
        path = write_report(out_dir, symbol, held=held)
    except Exception as exc:  # the report is a by-product of the command
        warn(f"report not written: {type(exc).__name__}: {' '.join(str(exc).split())}")
        return None
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB, {seconds:.1f} s)")
    return path
