"""The PNG charts of a finished run, drawn again (``invoke charts``), from any run.

A group's equity chart needs its best combination's trades. A run saved with
``--save-trades`` has them; otherwise (the default) the best combinations are re-run with
the run's recorded data and settings, as ``invoke trades`` and the report do
(:func:`backtest.analysis.rerun.rerun`: data file checked by its sha256, recorded costs,
execution model, risk, news file, engine), which is what the runner itself does for its
charts at the end of a run. The whole-run heatmaps need no trades and are redrawn too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backtest.analysis.rerun import RerunError, rerun
from backtest.analysis.table import RunTable
from backtest.core.config import load_config
from backtest.data.files import DataError
from backtest.runner.charts import best_index, run_heatmap_charts, write_group_charts
from backtest.runner.outputs import RunRows, inline_combos, summary_rows
from backtest.runner.rundir import CHARTS_DIR


class RedrawError(ValueError):
    """Charts that cannot be drawn; the message says why."""


@dataclass
class Redrawn:
    """What :func:`redraw_charts` drew, and how."""

    charts_dir: Path
    saved: list[str] = field(default_factory=list)  # groups drawn from saved trades
    rerun: list[str] = field(default_factory=list)  # groups whose best combination re-ran
    differ: dict[str, list[str]] = field(default_factory=dict)  # re-runs off the record
    whole_run: list[Path] = field(default_factory=list)
    ok_groups: int = 0

    @property
    def groups(self) -> int:
        return len(self.saved) + len(self.rerun)


def _best(group: dict[str, Any], combos: list[dict[str, Any]]) -> int:
    return int(group.get("best", best_index(combos)))


def redraw_charts(
    out_dir: Path,
    symbol: str,
    count: int | None = None,
    cfg: dict[str, Any] | None = None,
) -> Redrawn:
    """Draw the group charts of the best ``count`` ok groups (None: all; the summary's
    order, best ``total_r`` first) and the whole-run heatmaps into ``OUT/charts``.
    RedrawError when a group has no saved trades and the run cannot be re-run (its data
    file gone or changed)."""
    out_dir = Path(out_dir)
    table = RunTable.read(out_dir, symbol)
    results = table.results
    meta = results["metadata"]
    ok = table.groups
    if not ok:
        raise RedrawError(f"{out_dir}: no successful group to draw")
    order = [row["group_id"] for row in summary_rows(ok)]
    chosen = [table.group(gid) for gid in (order if count is None else order[:count])]
    rows = RunRows(out_dir, symbol)
    combos = {g["group_id"]: inline_combos(g, rows) for g in chosen}
    trades: dict[str, list[dict[str, Any]]] = {}
    done = Redrawn(out_dir / CHARTS_DIR, ok_groups=len(ok))
    for group in chosen:
        gid = group["group_id"]
        saved = combos[gid][_best(group, combos[gid])].get("trades")
        if saved is not None:
            trades[gid] = saved
            done.saved.append(gid)
    missing = [(g["group_id"], _best(g, combos[g["group_id"]])) for g in chosen]
    missing = [(gid, k) for gid, k in missing if gid not in trades]
    if missing:
        try:
            again, _ = rerun(out_dir, symbol, missing, cfg=cfg or load_config(), table=table)
        except (RerunError, DataError, OSError) as exc:
            raise RedrawError(
                f"{out_dir}: {len(missing)} group(s) have no saved trades (--save-trades) and "
                f"their best combinations cannot be re-run: {exc}"
            ) from None
        for (gid, _), one in zip(missing, again, strict=True):
            trades[gid] = one.records
            done.rerun.append(gid)
            if one.differences:
                done.differ[gid] = sorted(one.differences)
    account = float(meta.get("account_size", 100000.0))
    for group in chosen:
        gid = group["group_id"]
        write_group_charts(done.charts_dir, gid, combos[gid], trades[gid], account, symbol)
    done.whole_run = run_heatmap_charts(done.charts_dir, symbol, ok, rows=rows)
    return done
