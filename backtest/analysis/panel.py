"""A finished run's combinations and their compact trades, sliced by windows of days.

A run made with ``--save-daily`` leaves ``OUT/daily/{group_id}.npz`` per group (the
compact trades of :mod:`backtest.strategy.daily`). :func:`load_panel` joins them, in the
order of ``results_full`` (groups in file order, combinations in combo order: the order
that breaks ties everywhere), with the parameters of every combination. Metrics of any
window are then :func:`backtest.strategy.metrics_nb.window_metrics` over the panel: no
bar is walked again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.analysis.ranking import r_over_dd
from backtest.analysis.table import ParamRows, RunTable
from backtest.core.settings import RunSettings
from backtest.data.bars import day_date, day_number
from backtest.runner.outputs import combos_count
from backtest.runner.rundir import daily_path, read_daily
from backtest.runner.store import PARAM_TYPES
from backtest.strategy.daily import (
    CompactTrades,
    concat_compact,
    daily_r_matrix,
    select_compact,
)
from backtest.strategy.metrics_nb import window_metrics


class PanelError(ValueError):
    """A run folder that cannot be analysed as a panel; the message says why and how."""


@dataclass(frozen=True)
class Panel:
    """Every combination of a run: identity, parameters, compact trades, trading days."""

    out_dir: Path
    symbol: str
    metadata: dict[str, Any]
    group_id: np.ndarray  # object, one per combination
    combo: np.ndarray  # int64 index inside its group
    params: Sequence[dict[str, Any]]  # ParamRows: dicts made when asked for
    compact: CompactTrades
    trading_days: np.ndarray  # int32 sorted day numbers of the run's period

    def __len__(self) -> int:
        return len(self.params)

    def days_between(self, start: dt.date | str, end: dt.date | str) -> np.ndarray:
        """The run's trading days inside ``start..end`` (inclusive)."""
        lo, hi = day_number(start), day_number(end)
        return self.trading_days[(self.trading_days >= lo) & (self.trading_days <= hi)]

    def metrics(
        self,
        start: dt.date | str,
        end: dt.date | str,
        settings: RunSettings,
        rows: list[int] | None = None,
    ) -> pd.DataFrame:
        """Section-6 metrics over ``start..end`` of every combination (one row each, in
        order), or of the combinations ``rows`` only (in that order)."""
        days = self.days_between(start, end)
        cols = window_metrics(
            self.compact if rows is None else select_compact(self.compact, rows),
            day_number(start),
            day_number(end),
            len(days),
            settings.account_size,
            settings.daily_loss_limit_pct,
            settings.max_loss_limit_pct,
        )
        frame = pd.DataFrame(cols)
        frame["r_over_dd"] = r_over_dd(frame["total_r"].to_numpy(), frame["max_dd_r"].to_numpy())
        return frame

    def daily_r(
        self, start: dt.date | str, end: dt.date | str, rows: list[int] | None = None
    ) -> np.ndarray:
        """Days × combinations float32 matrix of daily R over the window's trading days
        (of the combinations ``rows`` only, when given)."""
        compact = self.compact if rows is None else select_compact(self.compact, rows)
        return daily_r_matrix(compact, self.days_between(start, end))

    def label(self, i: int) -> str:
        return f"{self.group_id[i]} combo {int(self.combo[i])}"

    def span(self) -> tuple[dt.date, dt.date]:
        return day_date(int(self.trading_days[0])), day_date(int(self.trading_days[-1]))


def settings_of(metadata: dict[str, Any]) -> RunSettings:
    """The run's scoring settings as recorded in its metadata (no silent default)."""
    try:
        return RunSettings(
            risk=float(metadata["risk"]),
            account_size=float(metadata["account_size"]),
            daily_loss_limit_pct=float(metadata["daily_loss_limit_pct"]),
            max_loss_limit_pct=float(metadata["max_loss_limit_pct"]),
        )
    except KeyError as err:
        raise PanelError(f"results metadata has no {err.args[0]!r}") from None


def group_daily(path: Path) -> tuple[CompactTrades, np.ndarray]:
    """One group's compact trades and trading days from its ``daily/{group_id}.npz``
    (:func:`backtest.runner.rundir.read_daily`), else PanelError saying why."""
    try:
        return read_daily(path)
    except FileNotFoundError:
        raise PanelError(
            f"{path}: missing; the run needs its compact trades: re-run it with "
            "--save-daily (invoke walk-forward always saves them)"
        ) from None
    except (OSError, ValueError) as exc:  # ResultsError: not such a file
        raise PanelError(str(exc)) from None


def load_panel(out_dir: Path, symbol: str) -> Panel:
    """The panel of the run in ``out_dir`` (groups with status ok)."""
    out_dir = Path(out_dir)
    table = RunTable.read(out_dir, symbol)
    meta = table.results["metadata"]
    groups = table.groups
    if not groups:
        raise PanelError(f"{out_dir}: no successful group to analyse")
    parts: list[CompactTrades] = []
    gids: list[str] = []
    combos: list[int] = []
    days: np.ndarray | None = None
    for group in groups:
        gid = group["group_id"]
        path = daily_path(out_dir, gid)
        part, group_days = group_daily(path)
        if len(part) != combos_count(group):
            raise PanelError(f"{path}: {len(part)} combinations, results say {combos_count(group)}")
        if days is None:
            days = group_days
        elif not np.array_equal(days, group_days):
            raise PanelError(f"{path}: other trading days than the first group's")
        parts.append(part)
        gids.extend([gid] * len(part))
        combos.extend(range(len(part)))
    assert days is not None
    return Panel(
        out_dir=out_dir,
        symbol=symbol,
        metadata=meta,
        group_id=np.array(gids, dtype=object),
        combo=np.array(combos, dtype=np.int64),
        params=ParamRows(table.columns(list(PARAM_TYPES))),
        compact=concat_compact(parts),
        trading_days=days.astype(np.int32),
    )
