"""The edge under cost stress: does the selected combination still make money when the
market costs more than the run assumed?

The selected combination and the next best (the top 20 of the same ranking) are re-run
on the run's own data and settings (:func:`backtest.analysis.rerun.rerun_combos`) at
heavier costs: every cost × 1, 1.5 and 2 (the fixed spread, the data's spread through
its unit, slippage and commission), and slippage + 1 point. A combination *survives*
a level when its R per trade and its total R both stay above 0 there. The verdict line
is "survives 1.5× costs: yes/no" (issue 20; docs/ANALYSIS.md, "Cost stress").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from backtest.core.config import SymbolSpec
from backtest.data.bars import Bars

TOP = 20
SURVIVAL_FACTOR = 1.5  # the level the verdict and `invoke promote` ask for


@dataclass(frozen=True)
class StressLevel:
    label: str
    factor: float  # every cost × factor
    extra_slippage_points: int = 0


LEVELS = (
    StressLevel("costs x1", 1.0),
    StressLevel("costs x1.5", 1.5),
    StressLevel("costs x2", 2.0),
    StressLevel("slippage +1 point", 1.0, 1),
)


def stressed(spec: SymbolSpec, level: StressLevel) -> SymbolSpec:
    """``spec`` with its costs scaled by the level (the data's spread scales through
    ``spread_unit``) and its slippage raised by the level's extra points."""
    k = level.factor
    return replace(
        spec,
        spread=spec.spread * k,
        commission=spec.commission * k,
        spread_unit=spec.unit_of_spread * k,
        slippage=spec.slippage * k + level.extra_slippage_points * spec.point,
    )


def survives(metrics: dict[str, Any]) -> bool:
    """R per trade and total R both above 0 (no trades: does not survive)."""
    return int(metrics["trades"]) > 0 and metrics["avg_r"] > 0 and metrics["total_r"] > 0


def cost_stress(
    out_dir: Path, symbol: str, wanted: list[tuple[str, int]], cfg: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The stress table of ``wanted`` (group id, combination; the selected one first)
    of the run in ``out_dir``: one row per level with the selected combination's
    figures and how many of the others survive, and the verdict at 1.5× costs."""
    from backtest.analysis.rerun import rerun
    from backtest.analysis.table import RunTable

    table = RunTable.read(Path(out_dir), symbol)
    base_runs, bars = rerun(out_dir, symbol, wanted, cfg=cfg, table=table)
    rows: list[dict[str, Any]] = []
    for level in LEVELS:
        level_bars: Bars = replace(bars, symbol=stressed(bars.symbol, level))
        same = level.factor == 1.0 and not level.extra_slippage_points
        runs = (
            base_runs
            if same
            else rerun(out_dir, symbol, wanted, cfg=cfg, bars=level_bars, table=table)[0]
        )
        metrics = [r.result.metrics for r in runs]
        total = np.array([m["total_r"] for m in metrics], dtype=np.float64)
        spec = level_bars.symbol
        rows.append(
            {
                "level": level.label,
                "factor": level.factor,
                "extra_slippage_points": level.extra_slippage_points,
                "spread": spec.spread,
                "spread_unit": spec.unit_of_spread,
                "slippage": spec.slippage,
                "commission": spec.commission,
                "selected": {
                    k: metrics[0][k] for k in ("trades", "total_r", "avg_r", "profit_factor")
                }
                | {"survives": survives(metrics[0])},
                "top_n": len(metrics),
                "top_surviving": int(sum(survives(m) for m in metrics)),
                "top_median_total_r": float(np.median(total)),
            }
        )
    at = next(r for r in rows if r["factor"] == SURVIVAL_FACTOR and not r["extra_slippage_points"])
    ok = bool(at["selected"]["survives"])
    return {
        "combinations": [{"group_id": g, "combo": k} for g, k in wanted],
        "execution": bars.symbol.execution(),
        "levels": rows,
        "survives_1_5x": ok,
        "rule": "R per trade > 0 and total R > 0 at every cost x 1.5",
        "text": f"survives {SURVIVAL_FACTOR:g}x costs: {'yes' if ok else 'no'}",
    }


def stress_lines(stress: dict[str, Any]) -> list[str]:
    """The table as text lines (what the tasks print)."""
    out = [f"cost stress ({stress['execution']['spread_model']}, the selected combination):"]
    for row in stress["levels"]:
        sel = row["selected"]
        out.append(
            f"  {row['level']:<18} spread {row['spread']:g} slippage {row['slippage']:g}: "
            f"{sel['trades']} trades, total R {sel['total_r']:.2f}, R/trade {sel['avg_r']:.3f}"
            f"; top {row['top_n']}: {row['top_surviving']} survive"
        )
    out.append(f"  {stress['text']}")
    return out
