"""The io-contract files of a run, written atomically.

Every file is first written to a temporary file in the same directory and then
moved over the old one with ``os.replace``: an interrupted writer (Ctrl-C,
SIGKILL, a full disk) leaves either the old file or the new one, never half of
one. :func:`write_results` is a pure function of its inputs, so the runner, a
resumed run and ``backtest.analysis.merge`` all produce the same files from the same
groups.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from backtest.core.atomic import atomic_write, atomic_write_text
from backtest.strategy.params import PARAM_NAMES

FORMAT_VERSION = 1
# The summary's leading metric columns (io-contract.md); other metrics follow.
LEAD_METRICS = ("total_r", "sharpe", "trades", "winrate", "profit_factor", "max_dd_r")


class ResultsError(ValueError):
    """A results file that is missing or cannot be read."""


def result_paths(out_dir: Path, symbol: str) -> dict[str, Path]:
    """Where each io-contract file of ``symbol`` lives in ``out_dir``."""
    out_dir = Path(out_dir)
    return {
        "summary": out_dir / f"results_summary_{symbol}.csv",
        "combos": out_dir / f"results_combos_{symbol}.csv",
        "full": out_dir / f"results_full_{symbol}.json",
        "failed": out_dir / f"failed_groups_{symbol}.json",
    }


# CSV rounding of the results tables (docs/ANALYSIS.md, "CSV rounding"): R and money
# to 4 decimals, ratios and percentages to 4 significant digits; parameters, counts and
# results_full keep full precision.
CSV_DECIMALS = {name: 4 for name in ("total_r", "avg_r", "max_dd_r", "worst_day_r", "total_pnl")}
CSV_SIGNIFICANT = {
    name: 4
    for name in ("winrate", "profit_factor", "sharpe", "max_daily_loss_pct", "max_drawdown_pct")
}


def rounded(value: float, column: str) -> float:
    """``value`` as the results CSVs show it in ``column`` (unchanged for other columns)."""
    if not math.isfinite(value):
        return value
    if column in CSV_DECIMALS:
        return round(value, CSV_DECIMALS[column]) + 0.0  # + 0.0: no "-0.0"
    if column in CSV_SIGNIFICANT:
        return float(f"{value:.{CSV_SIGNIFICANT[column]}g}") + 0.0
    return value


def _cell(value: Any, column: str | None = None, rounding: bool = False) -> str:
    """One CSV cell: lists and booleans as JSON, null as empty, floats at full precision
    (with ``rounding``: as :func:`rounded` gives them for ``column``)."""
    if value is None:
        return ""
    if isinstance(value, (bool, list, dict)):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(rounded(value, column) if rounding and column else value)
    return str(value)


def _ordered_union(keys: Iterable[Iterable[str]], lead: Iterable[str]) -> list[str]:
    out = list(lead)
    seen = set(out)
    for group in keys:
        for key in group:
            if key not in seen:
                seen.add(key)
                out.append(key)
    return out


def _csv_text(columns: list[str], rows: list[dict[str, Any]], rounding: bool = False) -> str:
    """CSV text of ``rows``; ``rounding`` rounds the metric columns (:func:`rounded`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(col), col, rounding) for col in columns])
    return buffer.getvalue()


def _combo_row(group_id: str, index: int, combo: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": group_id, "combo": index, **combo["metrics"], **combo["params"]}


def _by_total_r(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Descending ``total_r``; ties keep their order (sorted is stable)."""
    return sorted(rows, key=lambda row: -float(row["total_r"]))


def table_columns(groups: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(metric columns, parameter columns) over every combination of ``groups``."""
    combos = [c for g in groups for c in g["combos"]]
    metrics = _ordered_union((c["metrics"] for c in combos), LEAD_METRICS)
    params = _ordered_union((c["params"] for c in combos), PARAM_NAMES)
    return metrics, params


def summary_rows(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per ok group (its best combination), best ``total_r`` first."""
    rows = [
        _combo_row(g["group_id"], g["best"], g["combos"][g["best"]])
        for g in groups
        if g.get("status") == "ok"
    ]
    return _by_total_r(rows)


def write_results(
    out_dir: Path,
    symbol: str,
    metadata: dict[str, Any],
    groups: list[dict[str, Any]],
    failed_raw_groups: list[dict[str, Any]],
) -> dict[str, Path]:
    """Write every io-contract file of one run into ``out_dir``; their paths by kind.

    ``groups`` are group records (``status`` ok or failed, see io-contract.md)
    in groups-file order; ``failed_raw_groups`` the failed groups as they stood
    in the groups file (an ``error`` key may explain each).
    """
    from backtest.runner.groups import write_groups_file

    paths = result_paths(Path(out_dir), symbol)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    ok = [g for g in groups if g.get("status") == "ok"]
    metric_cols, param_cols = table_columns(ok)

    summary = summary_rows(ok)
    atomic_write_text(
        paths["summary"], _csv_text(["group_id", *metric_cols, *param_cols], summary, True)
    )

    combos = _by_total_r(
        [_combo_row(g["group_id"], i, c) for g in ok for i, c in enumerate(g["combos"])]
    )
    atomic_write_text(
        paths["combos"], _csv_text(["group_id", "combo", *metric_cols, *param_cols], combos, True)
    )

    full = {"metadata": {"format_version": FORMAT_VERSION, **metadata}, "groups": groups}
    atomic_write_text(paths["full"], json.dumps(full, allow_nan=False) + "\n")

    atomic_write(paths["failed"], lambda tmp: write_groups_file(tmp, symbol, failed_raw_groups))
    return paths


def read_results(out_dir: Path, symbol: str) -> dict[str, Any]:
    """The ``results_full_{symbol}.json`` of ``out_dir``: ``{"metadata", "groups"}``."""
    path = result_paths(Path(out_dir), symbol)["full"]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: results file not found") from None
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: not a readable results file: {exc}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("groups"), list)
        or not isinstance(data.get("metadata"), dict)
    ):
        raise ResultsError(f"{path}: expected an object with 'metadata' and 'groups'")
    return data
