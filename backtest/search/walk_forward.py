"""Walk-forward with a search per window (``invoke walk-forward --search tpe --trials N``;
``--trial entry-rule``: each trial an entry rule with its whole exit sub-grid, as in
``invoke optimize``).

The windows are those of :mod:`backtest.analysis.walk_forward` (calendar train/test pairs
over the span); each window's in-sample choice is made by a search of ``N`` trials over its
train dates (:func:`backtest.search.optimize.run_optimize`, a study of its own in
``OUT/window_KK/``, resumable) instead of a sweep of the whole grid: the best qualifying
evaluated trial. The choice is then run by the fast kernel over the test dates that follow
(the test metrics, the daily R of the stitched out-of-sample series) and over its train
dates (its daily R for the deflated Sharpe ratio). Stitched result, walk-forward efficiency
and choice changes as in the sweep's walk-forward (Pardo 2008, ch. 11).

Every trial counts: each window says how many trials its search ran and evaluated, and the
deflated Sharpe ratio (Bailey & López de Prado, "The Deflated Sharpe Ratio", JPM 40(5),
2014, eq. (2); :func:`backtest.analysis.overfitting.deflated_sharpe_ratio`) is given

- per window, of the train choice: N = the distinct combinations its search evaluated (with
  ``--trial entry-rule`` every combination of every trial's sub-grid), V =
  the variance of their per-day Sharpe ratios over the train dates;
- for the stitched out-of-sample series: N = every combination evaluated by every window's
  search (their sum), V = the variance of all those per-day Sharpe ratios: the walk-forward's
  result must beat what the best of everything tried would show by luck (conservative:
  the series is out of sample).

PBO is not computed: a search keeps no daily series of its trials (``robustness.pbo`` says so).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backtest.analysis.walk_forward import (
    WalkForwardError,
    WalkForwardSettings,
    choice_changes,
    efficiency,
    make_windows,
    stitched,
    window_row,
    windows_note,
    write_walk_forward,
)
from backtest.runner.run_log import log
from backtest.search.samplers import SAMPLERS
from backtest.search.setup import TRIALS, OptimizeOptions, setup
from backtest.strategy.metrics_nb import metrics_dict

SQRT_252 = math.sqrt(252.0)


@dataclass(frozen=True)
class WindowSearch:
    """How each window's train part is searched (``--search``, ``--trials``, ``--batch``,
    ``--seed``, ``--trial``: the optimize options of the same names)."""

    sampler: str
    trials: int
    batch: int = 256
    seed: int = 0
    trial: str = "combination"

    def check(self) -> None:
        if self.sampler not in SAMPLERS:
            raise WalkForwardError(f"--search {self.sampler!r}: one of {', '.join(SAMPLERS)}")
        if self.trials < 1:
            raise WalkForwardError(f"--trials {self.trials}: must be >= 1")
        if self.trial not in TRIALS:
            raise WalkForwardError(f"--trial {self.trial!r}: one of {', '.join(TRIALS)}")


def run_search_walk_forward(
    space: str | Path | None,
    groups_file: str | Path | None,
    run: dict[str, Any],
    settings: WalkForwardSettings,
    search: WindowSearch,
) -> dict[str, Any]:
    """Every window searched (resumed where done), chosen, tested; the files written.
    ``run``: the run options (``output_dir`` the walk-forward's folder). Returns
    ``{"result", "paths", "output_dir"}``, or ``{"interrupted": SIGNAL}`` when a window's
    search was stopped (the same command resumes)."""
    from backtest.runner.execute import run_metadata
    from backtest.search.optimize import run_optimize

    settings.check()
    search.check()
    whole = setup(_options(space, groups_file, run, settings, search))  # data and span
    plan = whole.plan
    out_dir = plan.out_dir
    start = dt.date.fromisoformat(str(plan.start_date))
    end = dt.date.fromisoformat(str(plan.end_date))
    s = settings
    windows = make_windows(start, end, s.train, s.test, s.step, s.anchored)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows, oos_daily, oos_r, train_rates, sharpes = [], [], [], [], []
    workers = 0  # the most a window's search ran on (its own metadata has its own)
    for w in windows:
        folder = out_dir / f"window_{w.index:02d}"
        window_run = {
            **run,
            "start_date": w.train_start.isoformat(),
            "end_date": w.train_end.isoformat(),
            "output_dir": folder,
            "no_report": True,
            "save_daily": False,
        }
        log.info(
            f"window {w.index}: {search.sampler} search of {search.trials} trials "
            f"({search.trial}) over {w.train_start}..{w.train_end} -> {folder}"
        )
        report = run_optimize(_options(space, groups_file, window_run, settings, search))
        if report.interrupted:
            return {"interrupted": report.interrupted, "output_dir": out_dir}
        workers = max(workers, int(report.summary["this_run"]["workers"]))
        row, daily, trade_r, window_sharpes = _window(whole, w, folder, report.summary)
        rows.append(row)
        oos_daily.append(daily)
        sharpes.append(window_sharpes)
        if trade_r is not None:
            oos_r.append(trade_r)
            train_rates.append(row["train_metrics"]["total_r"] / max(1, row["train_days"]))
    result: dict[str, Any] = {
        "windows": rows,
        "stitched": stitched(oos_daily, oos_r),
        "walk_forward_efficiency": efficiency(oos_daily, train_rates),
        "choice_changes": choice_changes(rows),
        "windows_note": windows_note(windows, end, s.train, s.test, s.step, s.anchored),
    }
    result["search"] = _search_block(search, rows, oos_daily, sharpes)
    metadata = run_metadata(plan, workers, started)
    metadata.update(groups_file=whole.space.source, engine="fast", save_trades=False)
    recorded = {**asdict(s), "step": s.step or s.test, "search": asdict(search)}
    from backtest.analysis.ranking import analysis_provenance

    provenance = analysis_provenance(out_dir, metadata, recorded)
    paths = write_walk_forward(out_dir, plan.symbol, result, provenance)
    return {"result": result, "paths": paths, "output_dir": out_dir, "symbol": plan.symbol}


def _options(
    space: str | Path | None,
    groups_file: str | Path | None,
    run: dict[str, Any],
    settings: WalkForwardSettings,
    search: WindowSearch,
) -> OptimizeOptions:
    return OptimizeOptions(
        space=space,
        groups_file=groups_file,
        sampler=search.sampler,
        trials=search.trials,
        trial=search.trial,
        objective=settings.objective,
        min_trades=settings.min_trades,
        require_prop_ok=settings.require_prop_ok,
        seed=search.seed,
        batch=search.batch,
        study_name="window",
        run=dict(run),
    )


def _window(
    whole: Any, w: Any, folder: Path, summary: dict[str, Any]
) -> tuple[dict[str, Any], np.ndarray, np.ndarray | None, np.ndarray]:
    """One window's row (as the sweep's walk-forward writes it, with the search's counts),
    its out-of-sample daily R, its trades' R (None: nothing qualified) and the per-day
    Sharpe ratios of the trials its search evaluated."""
    plan = whole.plan
    test_bars = plan.bars.between(w.test_start, w.test_end)
    train_bars = plan.bars.between(w.train_start, w.train_end)
    table = _window_rows(folder, plan.symbol)
    sharpes = _per_day_sharpes(table)
    row = window_row(
        w,
        len(train_bars.trading_days()),
        len(test_bars.trading_days()),
        whole.objectives.names[0],
    )
    row.update(trials=summary["trials"], evaluated=summary["evaluated"], folder=folder.name)
    best = summary["best"][0] if summary["best"] else None
    empty = {
        "group_id": None,
        "combo": None,
        "trial": None,
        "params": None,
        "train_objective": None,
        "train_metrics": None,
        "test_metrics": None,
        "train_dsr": None,
    }
    if best is None:
        row.update(empty)
        return row, np.zeros(len(test_bars.trading_days())), None, sharpes
    params, train_metrics = _chosen(table, best, plan.symbol, plan.cfg)
    test_daily, test_metrics, trade_r = _score(test_bars, params, plan.settings)
    train_daily, _, _ = _score(train_bars, params, plan.settings)
    row.update(
        group_id=best["group_id"],
        combo=best["combo"],
        trial=best["trial"],
        params=params,
        train_objective=_finite(float(best["values"][0])),
        train_metrics=train_metrics,
        test_metrics=test_metrics,
        train_dsr=_dsr(train_daily, max(1, int(summary["evaluated"])), sharpes),
    )
    return row, test_daily, trade_r, sharpes


def _window_rows(folder: Path, symbol: str) -> Any:
    import pandas as pd

    return pd.read_parquet(folder / f"results_combos_{symbol}.parquet")


def _chosen(
    table: Any, best: dict[str, Any], symbol: str, cfg: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chosen trial's parameters (resolved, as the kernel takes them) and train metrics,
    from its row of the window's results."""
    import pyarrow as pa

    from backtest.runner import store
    from backtest.strategy.params import resolve_params

    hit = table[(table["group_id"] == best["group_id"]) & (table["combo"] == best["combo"])]
    if len(hit) != 1:
        raise WalkForwardError(
            f"trial {best['trial']}: its row ({best['group_id']} combo {best['combo']}) is "
            "not in the window's results"
        )
    record = store.table_records(pa.Table.from_pandas(hit, preserve_index=False))[0]
    params = resolve_params(symbol, record["params"], cfg=cfg)
    return params, record["metrics"]


def _score(bars: Any, params: dict[str, Any], settings: Any) -> tuple[np.ndarray, dict, Any]:
    """One combination over ``bars``: its daily R (every trading day), metrics, trades' R."""
    from backtest.engines.run import score_batch
    from backtest.strategy.daily import daily_r_matrix

    scored = score_batch(bars, [params], settings, "fast")
    daily = daily_r_matrix(scored.compact, bars.trading_days(), np.float64)[:, 0]
    return daily, metrics_dict(scored.metrics, 0), np.asarray(scored.compact.r, np.float64)


def _per_day_sharpes(table: Any) -> np.ndarray:
    """Per-day Sharpe ratios of a window's evaluated trials that traded (the ``sharpe``
    column is per-day × √252 over every trading day, spec section 6)."""
    traded = table[(table["trades"] > 0) & np.isfinite(table["sharpe"])]
    return np.asarray(traded["sharpe"], dtype=np.float64) / SQRT_252


def _dsr(daily: np.ndarray, n_trials: int, sharpes: np.ndarray) -> dict[str, Any] | None:
    """The deflated Sharpe ratio of ``daily`` against ``n_trials`` trials whose per-day
    Sharpe ratios are ``sharpes`` (None when fewer than 2 days or trials)."""
    from backtest.analysis.overfitting import daily_sharpe_moments, deflated_sharpe_ratio

    if len(daily) < 2 or len(sharpes) < 2:
        return None
    sr, skew, kurtosis, n_obs = daily_sharpe_moments(daily)
    var = float(np.var(sharpes, ddof=1))
    result = deflated_sharpe_ratio(sr, n_trials, var, n_obs, skew, kurtosis)
    return {k: float(v) if isinstance(v, float) else v for k, v in asdict(result).items()}


def _search_block(
    search: WindowSearch,
    rows: list[dict[str, Any]],
    oos_daily: list[np.ndarray],
    sharpes: list[np.ndarray],
) -> dict[str, Any]:
    """What the searches tried, and the stitched out-of-sample series' DSR with N = every
    trial they evaluated."""
    evaluated = sum(int(r["evaluated"]) for r in rows)
    daily = np.concatenate(oos_daily) if oos_daily else np.zeros(0)
    pooled = np.concatenate(sharpes) if sharpes else np.zeros(0)
    return {
        **asdict(search),
        "trials_run": sum(int(r["trials"]) for r in rows),
        "evaluated": evaluated,
        "dsr": _dsr(daily, max(1, evaluated), pooled),
        "pbo": "not computed: a search keeps no daily series of its trials",
        "note": "DSR of the stitched out-of-sample series with N = every combination the "
        "windows' searches evaluated and V = the variance of their per-day Sharpe ratios over "
        "their train dates; each window's train_dsr with its own search's N "
        "(docs/ANALYSIS.md, Walk-forward)",
    }


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None
