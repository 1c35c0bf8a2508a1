"""Ranking combinations by any metric, with the filters every ranking command shares.

``--rank-by`` (any objective below; higher is better), ``--min-trades N`` and
``--require-prop-ok``: the same rule in the control re-run, walk-forward, robustness and
``invoke rank``. Ties go to the lower index, i.e. to the earlier group and combination
of the groups file, as in the results summary.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

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
    if objective not in OBJECTIVES:
        raise RankError(f"--rank-by/--objective {objective!r}: one of {', '.join(OBJECTIVES)}")
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


def results_table(results: dict[str, Any]) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """The ok groups' combinations of a ``results_full`` document: ``group_id``, ``combo``,
    ``params``, ``metrics`` per row, and their metrics as a frame (with ``r_over_dd``)."""
    rows = [
        {"group_id": g["group_id"], "combo": i, "params": c["params"], "metrics": c["metrics"]}
        for g in results.get("groups") or []
        if g.get("status") == "ok"
        for i, c in enumerate(g.get("combos") or [])
    ]
    frame = pd.DataFrame([r["metrics"] for r in rows])
    if rows:
        frame["profit_factor"] = frame["profit_factor"].astype(float)
        frame["r_over_dd"] = r_over_dd(frame["total_r"].to_numpy(), frame["max_dd_r"].to_numpy())
    return rows, frame


def analysis_provenance(
    run_dir: Any, metadata: dict[str, Any], analysis: dict[str, Any]
) -> dict[str, Any]:
    """What produced an analysis: the run's own metadata (data, costs, settings, code)
    plus the analysis settings and the code version that computed it."""
    from backtest.core.version import code_version

    data = metadata.get("data")
    return {
        "run_dir": str(run_dir),
        "run": metadata,
        "analysis": analysis,
        "analysis_code_version": code_version(),
        "data_source": data.get("source") if isinstance(data, dict) else metadata.get("data_file"),
        "code_version": metadata.get("code_version"),
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
    from backtest.runner.outputs import _csv_text, read_results

    if top < 1:
        raise RankError(f"--top {top}: must be >= 1")
    results = read_results(Path(out_dir), symbol)
    rows, frame = results_table(results)
    if not rows:
        raise RankError(f"{out_dir}: no successful combination to rank")
    order = ranking(frame, rank_by, min_trades, require_prop_ok)[:top]
    table = [
        {
            "rank": n,
            "group_id": rows[i]["group_id"],
            "combo": rows[i]["combo"],
            **rows[i]["metrics"],
            "r_over_dd": float(frame["r_over_dd"].iloc[i]),
            **rows[i]["params"],
        }
        for n, i in enumerate(order, start=1)
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
        "metadata": analysis_provenance(out_dir, results["metadata"], settings),
        "rows": table,
    }
    atomic_write_text(path.with_suffix(".json"), json.dumps(document, indent=1, default=str) + "\n")
    atomic_write_text(path, _csv_text(columns, table))
    return path, table
