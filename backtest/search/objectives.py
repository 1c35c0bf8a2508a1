"""What a search optimises: one objective (``--objective``) or several (``--objectives``).

An objective is a metric of spec section 6 (or ``r_over_dd``), with its direction: the
ranking objectives of :mod:`backtest.analysis.ranking` and a few other metrics are
maximised, the drawdown and loss metrics minimised. A trial's values follow the ranking's
rule (:func:`backtest.analysis.ranking.objective_values`: undefined without trades,
``profit_factor`` +inf for a gain without a losing trade). A combination *qualifies* when
it has at least ``max(--min-trades, 1)`` trades (and ``prop_ok`` with
``--require-prop-ok``) and a defined value; one that does not is told the worst value of
each objective (-inf when maximised, +inf when minimised): every sampler ranks it last,
and it is still an evaluated trial (a row of the results, counted for the deflated
Sharpe ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtest.analysis.ranking import OBJECTIVES, objective_values, r_over_dd

MAXIMISED = (*OBJECTIVES, "trades", "worst_day_r", "total_pnl")
MINIMISED = ("max_dd_r", "max_drawdown_pct", "max_daily_loss_pct", "max_losing_streak")


class ObjectiveError(ValueError):
    """An objective option that cannot be used; the message names it."""


@dataclass(frozen=True)
class Objectives:
    names: tuple[str, ...]
    min_trades: int = 0
    require_prop_ok: bool = False

    @property
    def directions(self) -> list[str]:
        """Optuna's study directions, one per objective."""
        return ["minimize" if n in MINIMISED else "maximize" for n in self.names]

    @property
    def study_directions(self) -> list[Any]:
        """:attr:`directions` as Optuna's StudyDirection values."""
        from optuna.study import StudyDirection

        return [StudyDirection[d.upper()] for d in self.directions]

    def describe(self) -> dict[str, Any]:
        return {
            "objectives": list(self.names),
            "directions": self.directions,
            "min_trades": self.min_trades,
            "require_prop_ok": self.require_prop_ok,
        }

    def values(self, metrics: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(values, qualifies)``: an ``n × k`` array of every combination's objective
        values (the worst value where it does not qualify) and the qualifying mask."""
        frame = pd.DataFrame({k: np.asarray(v) for k, v in metrics.items()})
        frame["r_over_dd"] = r_over_dd(
            frame["total_r"].to_numpy(np.float64), frame["max_dd_r"].to_numpy(np.float64)
        )
        trades = frame["trades"].to_numpy()
        ok = trades >= max(self.min_trades, 1)
        if self.require_prop_ok:
            ok &= frame["prop_ok"].to_numpy(dtype=bool)
        columns = []
        for name in self.names:
            if name in OBJECTIVES:
                values = objective_values(frame, name)
            else:
                values = frame[name].to_numpy(np.float64).copy()
                values[trades == 0] = np.nan
            ok &= ~np.isnan(values)
            columns.append(values)
        out = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
        worst = np.array([np.inf if d == "minimize" else -np.inf for d in self.directions])
        out[~ok] = worst
        return out, ok


def objectives_option(
    objective: str | None, objectives: str | None, min_trades: Any, require_prop_ok: bool
) -> Objectives:
    """The checked ``--objective`` / ``--objectives`` (the latter wins), ``--min-trades``."""
    known = (*MAXIMISED, *MINIMISED)
    if objectives is not None and str(objectives).strip():
        names = tuple(n.strip() for n in str(objectives).split(",") if n.strip())
        option = "--objectives"
    else:
        names = (str(objective or "total_r").strip(),)
        option = "--objective"
    for name in names:
        if name not in known:
            raise ObjectiveError(f"{option}: {name!r} is not one of {', '.join(known)}")
    if len(set(names)) < len(names):
        raise ObjectiveError(f"{option}: {','.join(names)} names an objective twice")
    try:
        count = int(str(min_trades))
    except ValueError:
        count = -1
    if count < 0:
        raise ObjectiveError(f"--min-trades: {min_trades!r} must be a whole number >= 0")
    return Objectives(names, count, bool(require_prop_ok))
