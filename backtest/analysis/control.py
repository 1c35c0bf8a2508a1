"""Re-run the best in-sample combinations on the control period, side by side.

The top ``N%`` of the in-sample combinations by ``--rank-by`` (default ``total_r``; at
least ``min_count``, at most all; the ranking filters ``--min-trades`` and
``--require-prop-ok`` apply) are run again over the ``control`` period with everything the
in-sample run recorded: risk, account, limits, news file, ``server_tz``,
``drop_invalid``, engine, costs and execution model (``symbol_settings``). Data:
``--data-file``, else the configured control file; after a run on real data, never the
built-in sample data. The control dates must not share a trading day with the in-sample
period (whatever the files: a control inside it is in-sample data). The result is
``control_vs_in_sample_{SYMBOL}.csv`` (one row per combination: in-sample ``is_`` and
control ``ctl_`` metrics, R per trade on both sides and their difference, the t
statistic of the control daily R, a flag below ``min_control_trades`` trades, the
prop-firm view), ``.npz`` (the rows' compact trades and the control trading days: the
figures can be recomputed from them, :func:`row_figures`) and ``.json`` with the same rows
and the provenance of both periods, written last.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from backtest.analysis.sql import connect_table, in_rows, qualifying, ranked_rows, rows_of
from backtest.analysis.table import RunTable
from backtest.core.config import DEFAULTS, SymbolSpec, period
from backtest.core.settings import RunSettings
from backtest.data.bars import day_date, day_number
from backtest.engines.run import run_combos_compact
from backtest.strategy.daily import CompactTrades, concat_compact, select_compact
from backtest.strategy.metrics import METRIC_KEYS, SQRT_252
from backtest.strategy.metrics_nb import metrics_dict, window_metrics
from backtest.strategy.params import PARAM_NAMES, resolve_params

# Side-by-side metric order: the ranking ones first, then the rest of spec section 6.
COLUMN_METRICS = (
    "total_r",
    "trades",
    "avg_r",
    "winrate",
    "profit_factor",
    "max_dd_r",
    "sharpe",
    *(
        k
        for k in METRIC_KEYS
        if k not in ("total_r", "trades", "avg_r", "winrate", "profit_factor", "max_dd_r", "sharpe")
    ),
)


# Below this many control trades a row is flagged: too few to judge (docs/ANALYSIS.md).
MIN_CONTROL_TRADES = 30


class ControlError(ValueError):
    """A control comparison that cannot be made; the message says why."""


def control_path(directory: Path, symbol: str) -> Path:
    return Path(directory) / f"control_vs_in_sample_{symbol}.csv"


def control_json_path(directory: Path, symbol: str) -> Path:
    return Path(directory) / f"control_vs_in_sample_{symbol}.json"


def control_trades_path(directory: Path, symbol: str) -> Path:
    """The rows' compact trades (``.npz``, the runner's ``daily/`` format,
    :func:`backtest.runner.rundir.read_daily`), in row order."""
    return Path(directory) / f"control_vs_in_sample_{symbol}.npz"


def in_sample_days(meta: dict[str, Any], days: np.ndarray) -> np.ndarray:
    """The trading days (day numbers) of ``days`` that lie inside the in-sample period
    ``meta`` records: a control period must have none."""
    lo, hi = day_number(meta["start_date"]), day_number(meta["end_date"])
    return days[(days >= lo) & (days <= hi)]


def overlap_text(meta: dict[str, Any], inside: np.ndarray) -> str:
    """What :func:`in_sample_days` found, in words."""
    return (
        f"{len(inside)} control trading day(s) ({day_date(int(inside[0]))}.."
        f"{day_date(int(inside[-1]))}) inside the in-sample period {meta['start_date']}.."
        f"{meta['end_date']}: that is in-sample data, not a control"
    )


def row_figures(
    compact: CompactTrades, days: np.ndarray, row: int, settings: RunSettings
) -> dict[str, Any]:
    """Row ``row``'s section-6 metrics recomputed from its trades over the control days
    ``days`` (as the sweep scores them)."""
    cols = window_metrics(
        select_compact(compact, [row]),
        int(days[0]) if len(days) else 0,
        int(days[-1]) if len(days) else -1,
        len(days),
        settings.account_size,
        settings.daily_loss_limit_pct,
        settings.max_loss_limit_pct,
    )
    return metrics_dict(cols, 0)


def top_count(top: str | int | float, n: int, min_count: int) -> int:
    """How many of ``n`` combinations to take: ``"10%"`` (rounded up) or a
    count, at least ``min_count``, at most ``n``."""
    text = str(top).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1])
            if not 0 < share <= 100:
                raise ValueError
            wanted = math.ceil(round(share * n / 100, 9))
        else:
            wanted = int(text)
            if wanted < 1:
                raise ValueError
    except ValueError:
        raise ControlError(
            f"top {top!r}: expected a share like '10%' (0-100] or a count >= 1"
        ) from None
    if min_count < 0:
        raise ControlError(f"min_count {min_count}: must be >= 0")
    return min(n, max(wanted, min_count))


def select_top(
    table: RunTable,
    top: str | int,
    min_count: int,
    rank_by: str = "total_r",
    min_trades: int = 0,
    require_prop_ok: bool = False,
) -> list[dict[str, Any]]:
    """The best combinations of the run's ok groups by ``rank_by`` (higher is better; ties
    in group and combination order), among those with ``trades >= min_trades`` (and inside
    the prop limits if required): ``group_id``, ``combo``, ``params``, ``metrics``. The
    ranking reads its columns only; records are made for the selected rows."""
    if not len(table):
        raise ControlError("the in-sample results have no successful combination")
    con = connect_table(table)
    count = qualifying(con, rank_by, min_trades, require_prop_ok)
    if count == 0:
        raise ControlError(
            f"no in-sample combination qualifies (--min-trades {min_trades}"
            f"{', --require-prop-ok' if require_prop_ok else ''})"
        )
    limit = top_count(top, count, min_count)
    return table.records(ranked_rows(con, rank_by, min_trades, require_prop_ok, limit))


def select_only(table: RunTable, only: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """The combinations ``only`` (group id, index) that rank by ``total_r`` (they have
    trades), in ranking order, as :func:`select_top` gives them."""
    if not len(table):
        return []
    con = connect_table(table)
    wanted = [w for w in rows_of(con, only) if w is not None]
    return table.records(ranked_rows(con, "total_r", where=in_rows(wanted)))


def _settings(meta: dict[str, Any], news_ns: np.ndarray) -> RunSettings:
    """The in-sample run's risk, account and limits, as recorded (never a default)."""
    from backtest.analysis.panel import settings_of

    return replace(settings_of(meta), news_ns=news_ns)


def _news(
    spec: SymbolSpec,
    combos: list[dict[str, Any]],
    news_file: str | None,
    meta: dict[str, Any],
) -> tuple[np.ndarray, str | None]:
    if not any(c["news_filter"] for c in combos):
        return np.zeros(0, dtype=np.int64), None
    path = news_file or meta.get("news_file")
    if not path or not Path(path).is_file():
        raise ControlError(
            "selected combinations use news_filter: give a news file "
            f"covering the control period (in-sample run's: {meta.get('news_file')})"
        )
    from backtest.data.news import event_times, load_news

    return event_times(load_news(path), spec.currencies), str(path)


def _run_chunks(
    bars, combos: list[dict[str, Any]], settings: RunSettings, engine: str, workers: int
) -> tuple[list[dict[str, Any]], CompactTrades]:
    """Metrics per combination, in order, and their compact trades; chunks over a process
    pool when ``workers > 1``."""
    size = math.ceil(len(combos) / workers) if workers > 1 else len(combos)
    chunks = [combos[i : i + size] for i in range(0, len(combos), size)]
    if len(chunks) == 1:
        parts = [run_combos_compact(bars, combos, settings, engine)]
    else:
        with ProcessPoolExecutor(max_workers=len(chunks)) as pool:
            parts = list(
                pool.map(
                    run_combos_compact,
                    [bars] * len(chunks),
                    chunks,
                    [settings] * len(chunks),
                    [engine] * len(chunks),
                )
            )
    metrics = [r.metrics for results, _ in parts for r in results]
    return metrics, concat_compact([compact for _, compact in parts])


def t_statistic(sharpe_annual: float, n_days: int) -> float:
    """One-sample t statistic of the mean daily R against 0 (Student, "The probable error
    of a mean", Biometrika 6(1), 1908): ``mean / (s / sqrt(n)) = sharpe_daily * sqrt(n)``,
    with ``sharpe_daily = sharpe / sqrt(252)`` and the spec's sharpe over the ``n`` trading
    days (0 R on days without a trade, ddof 1). 0 where the spec's sharpe is 0."""
    return float(sharpe_annual / SQRT_252 * math.sqrt(n_days)) if n_days >= 2 else 0.0


def comparison_rows(
    selected: list[dict[str, Any]],
    control: list[dict[str, Any]],
    control_days: int,
    min_control_trades: int = MIN_CONTROL_TRADES,
) -> list[dict[str, Any]]:
    """The side-by-side rows (see module doc and docs/ANALYSIS.md for every column)."""
    rows = []
    for sel, ctl in zip(selected, control):
        ins = sel["metrics"]
        row: dict[str, Any] = {"group_id": sel["group_id"], "combo": sel["combo"]}
        row.update({name: sel["params"].get(name) for name in PARAM_NAMES})
        for key in COLUMN_METRICS:
            row[f"is_{key}"] = ins.get(key)
            row[f"ctl_{key}"] = ctl.get(key)
        row["is_r_per_trade"] = ins["avg_r"]
        row["ctl_r_per_trade"] = ctl["avg_r"]
        row["r_per_trade_diff"] = ctl["avg_r"] - ins["avg_r"]
        t = t_statistic(ctl["sharpe"], control_days)
        row["ctl_days"] = control_days
        row["ctl_t_stat"] = t
        row["ctl_p_value"] = float(student_t.sf(t, control_days - 1)) if control_days >= 2 else None
        row["few_control_trades"] = bool(ctl["trades"] < min_control_trades)
        row["control_loses_money"] = bool(ctl["total_pnl"] < 0)
        row["breaks_prop_limits"] = not ctl["prop_ok"]
        rows.append(row)
    return rows


def _control_data(
    symbol: str, data_file: str | None, meta: dict[str, Any], cfg: dict[str, Any]
) -> tuple[Path, bool]:
    """The control data file and whether it is sample data; never sample data after a run
    on real data."""
    from backtest.data.loaders import resolve_data_file

    if data_file is None and not in_sample_was_sample(meta, cfg):
        configured = period("control", cfg).data_path(symbol)
        if not configured.is_file():
            raise ControlError(
                f"the in-sample run used real data ({meta.get('data_file')}) and there is no "
                f"control data file {configured}: pass --data-file (never sample data here)"
            )
    return resolve_data_file(symbol, "control", data_file, cfg)


def in_sample_was_sample(meta: dict[str, Any], cfg: dict[str, Any]) -> bool:
    """Whether a run's metadata says it ran on built-in sample data."""
    data = meta.get("data")
    if isinstance(data, dict) and data.get("source") in ("sample", "file"):
        return data["source"] == "sample"
    path = meta.get("data_file")
    if not path:
        return False
    sample_dir = Path(cfg["run"]["sample_dir"])
    if not sample_dir.is_absolute():
        from backtest.core.config import REPO_ROOT

        sample_dir = REPO_ROOT / sample_dir
    return Path(path).resolve().is_relative_to(sample_dir.resolve())


def compare_control(
    in_sample_dir: Path,
    top: str = "10%",
    min_count: int = 10,
    output_dir: Path | None = None,
    data_file: str | None = None,
    cfg: dict[str, Any] | None = None,
    engine: str | None = None,
    workers: int = 1,
    symbol: str | None = None,
    news_file: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    server_tz: str | None = None,
    rank_by: str = "total_r",
    min_trades: int = 0,
    require_prop_ok: bool = False,
    min_control_trades: int = MIN_CONTROL_TRADES,
    only: list[tuple[str, int]] | None = None,
) -> Path:
    """Write ``control_vs_in_sample_{SYMBOL}.npz``, ``.json`` (its provenance) and ``.csv``
    for the run in ``in_sample_dir``; the CSV's path.

    Everything the in-sample run recorded is reused (risk, account, limits, news file,
    ``server_tz``, ``drop_invalid``, engine, costs and execution model) unless given here.
    Control dates that share a trading day with the in-sample period: ControlError.
    ``only``: re-run exactly these ``(group_id, combo)`` instead of the top ones
    (``invoke promote``).
    """
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.rerun import recorded_spec
    from backtest.core.atomic import atomic_write_text
    from backtest.core.checksum import file_checksum
    from backtest.core.version import code_version
    from backtest.data.loaders import load_bars
    from backtest.runner.rundir import write_daily

    cfg = cfg or DEFAULTS
    in_sample_dir = Path(in_sample_dir)
    symbol = detect_symbol([in_sample_dir], symbol)
    table = RunTable.read(in_sample_dir, symbol)
    meta = table.results["metadata"]
    if meta.get("period") == "control":
        raise ControlError(f"{in_sample_dir}: these are control-period results already")
    if only is None:
        selected = select_top(table, top, min_count, rank_by, min_trades, require_prop_ok)
    else:
        selected = select_only(table, only)
        if not selected:
            raise ControlError(f"{in_sample_dir}: none of {only} is an ok in-sample combination")
    combos = [
        resolve_params(symbol, s["params"], f"{s['group_id']} combo {s['combo']}", cfg)
        for s in selected
    ]
    spec = recorded_spec(meta, cfg)
    news_ns, news_path = _news(spec, combos, news_file, meta)
    settings = _settings(meta, news_ns)
    span = period("control", cfg)
    start, end = start_date or span.start_date, end_date or span.end_date
    tz = server_tz if server_tz is not None else meta.get("server_tz")
    path, is_sample = _control_data(symbol, data_file, meta, cfg)
    loaded = load_bars(path, spec, tz, bool(meta.get("drop_invalid")))
    bars = loaded.between(start, end)
    if len(bars) == 0:
        raise ControlError(f"{path}: no bars of {symbol} between {start} and {end}")
    inside = in_sample_days(meta, bars.trading_days())
    if len(inside):
        raise ControlError(f"control dates {start}..{end}: {overlap_text(meta, inside)}")
    engine = engine or meta.get("engine") or "fast"
    days = len(bars.trading_days())
    metrics, compact = _run_chunks(bars, combos, settings, engine, workers)
    rows = comparison_rows(selected, metrics, days, min_control_trades)
    out = Path(output_dir or in_sample_dir)
    trades = write_daily(control_trades_path(out, symbol), compact, bars.trading_days())
    provenance = {
        "symbol": symbol,
        "in_sample_dir": str(in_sample_dir),
        "in_sample": {
            k: meta.get(k)
            for k in ("start_date", "end_date", "data_file", "data_checksum", "code_version")
        },
        "control": {
            "start_date": start,
            "end_date": end,
            "trading_days": days,
            "data": {
                "source": "sample" if is_sample else "file",
                "path": str(path),
                "checksum": loaded.checksum,
            },
            "server_tz": tz,
            "drop_invalid": bool(meta.get("drop_invalid")),
            "news_file": news_path,
            "engine": engine,
            "trades": {"file": trades.name, "sha256": file_checksum(trades)},
        },
        "symbol_settings": spec.as_dict(),
        "settings": {
            "risk": settings.risk,
            "account_size": settings.account_size,
            "daily_loss_limit_pct": settings.daily_loss_limit_pct,
            "max_loss_limit_pct": settings.max_loss_limit_pct,
            "top": str(top),
            "min_count": min_count,
            "rank_by": rank_by,
            "min_trades": min_trades,
            "require_prop_ok": require_prop_ok,
            "min_control_trades": min_control_trades,
        },
        "code_version": code_version(),
    }
    atomic_write_text(
        control_json_path(out, symbol),
        json.dumps({"metadata": provenance, "rows": rows}, indent=1, default=str) + "\n",
    )
    return atomic_write_text(control_path(out, symbol), _csv(rows))


def _csv(rows: list[dict[str, Any]]) -> str:
    """CSV text in the style of the results tables (same cell formatting)."""
    from backtest.runner.outputs import csv_text

    return csv_text(list(rows[0]), rows)
