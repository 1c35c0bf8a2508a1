"""Ranking combinations by any metric, with the filters every ranking command shares.

``--rank-by`` (any objective below; higher is better), ``--min-trades N`` and
``--require-prop-ok``: the same rule in the control re-run, walk-forward, robustness and
``invoke rank``. Ties go to the lower index, i.e. to the earlier group and combination
of the groups file, as in the results summary. Over a whole run the rule runs as SQL
(:func:`backtest.analysis.sql.ranked_rows`, DuckDB, memory bounded); over the frames of
a window (walk-forward, robustness) as :func:`ranking`; a differential test holds them
equal (tests/analysis/test_sql_differential.py).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from backtest.analysis.table import RunTable
from backtest.core.config import execution_text, recorded_execution

# Higher is better for every objective; see docs/ANALYSIS.md for the null cases.
OBJECTIVES = ("total_r", "sharpe", "profit_factor", "r_over_dd", "avg_r", "winrate")


class RankError(ValueError):
    """A ranking option that cannot be used; the message names it."""


def r_over_dd(total: np.ndarray, max_dd: np.ndarray) -> np.ndarray:
    """``total_r / max_dd_r``; with no drawdown: +inf for a gain, 0 otherwise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            max_dd > 0, total / np.where(max_dd > 0, max_dd, 1.0), np.where(total > 0, np.inf, 0.0)
        )


def objective_values(frame: pd.DataFrame, objective: str) -> np.ndarray:
    """The objective per row, higher is better; NaN where it is undefined (never chosen).

    ``profit_factor`` is null in the spec when no trade lost: +inf with a gain, NaN
    without trades. Every objective is NaN for a combination without trades.
    """
    check_objective(objective)
    values = frame[objective].to_numpy(dtype=np.float64).copy()
    if objective == "profit_factor":
        values = np.where(np.isnan(values) & (frame["total_r"].to_numpy() > 0), np.inf, values)
    values[frame["trades"].to_numpy() == 0] = np.nan
    return values


def choose(
    frame: pd.DataFrame, objective: str, min_trades: int = 0, require_prop_ok: bool = False
) -> int | None:
    """The best row by ``objective`` among those with ``trades >= min_trades`` (and
    ``prop_ok`` if required); ties go to the lower index; None when no row qualifies."""
    order = ranking(frame, objective, min_trades, require_prop_ok)
    return int(order[0]) if len(order) else None


def ranking(
    frame: pd.DataFrame, rank_by: str, min_trades: int = 0, require_prop_ok: bool = False
) -> np.ndarray:
    """Row indices of the qualifying rows, best first (ties: lower index first)."""
    values = objective_values(frame, rank_by)
    eligible = ~np.isnan(values) & (frame["trades"].to_numpy() >= min_trades)
    if require_prop_ok:
        eligible &= frame["prop_ok"].to_numpy(dtype=bool)
    rows = np.flatnonzero(eligible)
    return rows[np.argsort(-values[rows], kind="stable")]


def check_objective(objective: str) -> None:
    """RankError naming the options when ``objective`` is not one of :data:`OBJECTIVES`."""
    if objective not in OBJECTIVES:
        raise RankError(f"--rank-by/--objective {objective!r}: one of {', '.join(OBJECTIVES)}")


def run_frame(table: RunTable, rank_by: str, require_prop_ok: bool = False) -> pd.DataFrame:
    """The metric columns :func:`ranking` by ``rank_by`` needs, of every combination of
    the run in run order (``r_over_dd`` computed): read column-wise, a few numbers per
    combination whatever the run's size."""
    check_objective(rank_by)
    names = ["total_r", "trades"]
    names += ["max_dd_r"] if rank_by == "r_over_dd" else [rank_by] if rank_by not in names else []
    names += ["prop_ok"] if require_prop_ok else []
    frame = table.frame(names)
    if rank_by == "r_over_dd":
        frame["r_over_dd"] = r_over_dd(
            frame["total_r"].to_numpy(np.float64), frame["max_dd_r"].to_numpy(np.float64)
        )
    return frame


def ratio_of(metrics: dict[str, Any]) -> float:
    """``r_over_dd`` of one combination's metrics (a missing drawdown counts as none)."""
    dd = metrics.get("max_dd_r")
    total = np.array([float(metrics["total_r"])])
    return float(r_over_dd(total, np.array([np.nan if dd is None else float(dd)]))[0])


def analysis_provenance(
    run_dir: Any, metadata: dict[str, Any], analysis: dict[str, Any]
) -> dict[str, Any]:
    """What produced an analysis: the run's own metadata (data, costs, settings, code)
    plus the analysis settings and the code version that computed it."""
    from backtest.core.version import code_version, git_commit

    data = metadata.get("data")
    return {
        "run_dir": str(run_dir),
        "run": metadata,
        "analysis": analysis,
        "analysis_code_version": code_version(),
        "analysis_git_commit": git_commit(),
        "data_source": data.get("source") if isinstance(data, dict) else metadata.get("data_file"),
        "code_version": metadata.get("code_version"),
        "execution": recorded_execution(metadata.get("symbol_settings")),
    }


def caption(provenance: dict[str, Any]) -> str:
    """The line a picture carries: where its numbers came from (data, its checksum, code)."""
    run = provenance.get("run") or {}
    found = run.get("data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    checksum = str(data.get("checksum") or run.get("data_checksum") or "")[:12]
    return (
        f"data: {provenance.get('data_source')} {data.get('path') or run.get('data_file') or ''} "
        f"sha256 {checksum}  period {run.get('start_date')}..{run.get('end_date')}  "
        f"execution: {execution_text(recorded_execution(run.get('symbol_settings')))}  "
        f"code: {provenance.get('code_version')}"
    )


def rank_run(
    out_dir: Any,
    symbol: str,
    rank_by: str = "total_r",
    min_trades: int = 0,
    require_prop_ok: bool = False,
    top: int = 20,
) -> tuple[Any, list[dict[str, Any]]]:
    """``ranking_{SYMBOL}.csv`` in ``out_dir``: the best ``top`` combinations of the run by
    ``rank_by`` with the filters (the results summary stays by ``total_r``, as the
    io-contract says), and ``ranking_{SYMBOL}.json`` with the same rows and their
    provenance; the CSV's path and the rows."""
    from pathlib import Path

    from backtest.core.atomic import atomic_write_text
    from backtest.runner.outputs import csv_text

    if top < 1:
        raise RankError(f"--top {top}: must be >= 1")
    from backtest.analysis.sql import connect_table, ranked_rows

    runs = RunTable.read(Path(out_dir), symbol)
    if not len(runs):
        raise RankError(f"{out_dir}: no successful combination to rank")
    check_objective(rank_by)
    order = ranked_rows(connect_table(runs), rank_by, min_trades, require_prop_ok, top)
    table = [
        {
            "rank": n,
            "group_id": row["group_id"],
            "combo": row["combo"],
            **row["metrics"],
            "r_over_dd": ratio_of(row["metrics"]),
            **row["params"],
        }
        for n, row in enumerate(runs.records(order), start=1)
    ]
    path = Path(out_dir) / f"ranking_{symbol}.csv"
    columns = list(dict.fromkeys(k for row in table for k in row)) or ["rank"]
    settings = {
        "rank_by": rank_by,
        "min_trades": min_trades,
        "require_prop_ok": require_prop_ok,
        "top": top,
    }
    document = {
        "metadata": analysis_provenance(out_dir, runs.results["metadata"], settings),
        "rows": table,
    }
    atomic_write_text(path.with_suffix(".json"), json.dumps(document, indent=1, default=str) + "\n")
    atomic_write_text(path, csv_text(columns, table))
    return path, table
