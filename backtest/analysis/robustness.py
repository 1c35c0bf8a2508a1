"""Is the best combination of a run distinguishable from luck? Overfitting statistics.

For a finished run with compact trades (``--save-daily``; walk-forward always has them):
the Probability of Backtest Overfitting over the days × combinations matrix of daily R,
the Deflated Sharpe Ratio of the selected combination against the number of
combinations tried, parameter stability over the grid (a plateau ranking beside the raw
one) and a bootstrap of the selected combination's days against the prop-firm limits.
The statistics themselves, with their sources, are in :mod:`backtest.analysis.overfitting`;
this module applies them to a run and states a verdict by a documented rule
(docs/ANALYSIS.md, "Robustness").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.analysis.overfitting import (
    bootstrap_days,
    daily_sharpe_moments,
    deflated_sharpe_ratio,
    neighbour_stability,
    pbo_cscv,
)
from backtest.analysis.panel import Panel, settings_of
from backtest.analysis.ranking import caption, objective_values, ranking
from backtest.analysis.stress import TOP, cost_stress
from backtest.core.atomic import atomic_write, atomic_write_text

# The verdict's rule: both must hold for "distinguishable from luck".
DSR_MIN = 0.95  # deflated Sharpe ratio: P(true Sharpe > 0) after N trials, at least
PBO_MAX = 0.25  # probability of backtest overfitting, at most


class RobustnessError(ValueError):
    """A robustness analysis that cannot be made; the message says why."""


def robustness(
    panel: Panel,
    rank_by: str = "total_r",
    min_trades: int = 0,
    require_prop_ok: bool = False,
    n_blocks: int = 16,
    n_samples: int = 10_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Every statistic of the module doc for the run's period, and the verdict."""
    meta = panel.metadata
    settings = settings_of(meta)
    start, end = meta["start_date"], meta["end_date"]
    frame = panel.metrics(start, end, settings)
    order = ranking(frame, rank_by, min_trades, require_prop_ok)
    if len(order) == 0:
        raise RobustnessError(
            f"no combination qualifies (--min-trades {min_trades}"
            f"{', --require-prop-ok' if require_prop_ok else ''}): nothing to judge"
        )
    selected = int(order[0])
    daily = panel.daily_r(start, end)
    n_obs, n_trials = daily.shape
    blocks = min(n_blocks, n_obs - n_obs % 2)
    pbo_objective = rank_by if rank_by in ("total_r", "sharpe") else "sharpe"
    pbo = pbo_cscv(daily, blocks, pbo_objective)
    sr, skew, kurt, _ = daily_sharpe_moments(daily[:, selected].astype(np.float64))
    trial_sr = _column_sharpes(daily)
    var_sr = float(np.var(trial_sr, ddof=1)) if len(trial_sr) > 1 else 0.0
    dsr = deflated_sharpe_ratio(sr, trials_tried(meta, n_trials), var_sr, n_obs, skew, kurt)
    stability = _stability(panel, frame, rank_by)
    day_r, day_money, day_low = _selected_days(panel, selected, panel.days_between(start, end))
    boot = bootstrap_days(
        day_r,
        day_money,
        day_low,
        settings.account_size,
        settings.daily_loss_limit_pct,
        settings.max_loss_limit_pct,
        n_samples=n_samples,
        seed=seed,
    )
    distinguishable = bool(dsr.dsr >= DSR_MIN and pbo.pbo <= PBO_MAX)
    top = [(str(panel.group_id[i]), int(panel.combo[i])) for i in order[:TOP]]
    stress = _cost_stress(panel, top)
    return {
        "selected": {
            "group_id": str(panel.group_id[selected]),
            "combo": int(panel.combo[selected]),
            "params": panel.params[selected],
            "rank_by": rank_by,
            rank_by: _number(frame[rank_by].iloc[selected]),
            "trades": int(frame["trades"].iloc[selected]),
            "total_r": float(frame["total_r"].iloc[selected]),
            "sharpe": float(frame["sharpe"].iloc[selected]),
        },
        "pbo": {
            "pbo": pbo.pbo,
            "n_blocks": pbo.n_blocks,
            "n_splits": pbo.n_splits,
            "n_trials": pbo.n_trials,
            "n_obs": pbo.n_obs,
            "objective": pbo.objective,
            "logit_median": float(np.median(pbo.logits)),
        },
        "dsr": {
            "dsr": dsr.dsr,
            "sharpe_daily": dsr.sr,
            "sharpe_annual": dsr.sr * np.sqrt(252),
            "benchmark_sharpe_daily": dsr.sr_benchmark,
            "n_trials": dsr.n_trials,
            "var_trial_sharpe": dsr.var_sharpe,
            "n_obs": dsr.n_obs,
            "skew": dsr.skew,
            "kurtosis": dsr.kurtosis,
        },
        **search_note(meta, n_trials),
        "bootstrap": _plain(boot),
        "plateau_best": stability.iloc[0][["group_id", "combo", "objective", "plateau"]].to_dict(),
        "verdict": {
            "distinguishable_from_luck": distinguishable,
            "rule": f"DSR >= {DSR_MIN} and PBO <= {PBO_MAX}",
            "text": (
                "the selected combination is distinguishable from luck"
                if distinguishable
                else "the selected combination is NOT distinguishable from luck: do not trade it "
                "on this evidence"
            ),
            "cost_stress": stress.get("text") or f"cost stress MISSING: {stress['missing']}",
        },
        "cost_stress": stress,
        "_pbo_result": pbo,
        "_stability": stability,
        "_boot": boot,
    }


def trials_tried(metadata: dict[str, Any], columns: int) -> int:
    """N of the deflated Sharpe ratio: every combination the run tried. A sweep's are its
    combinations (the panel's columns); an optimize run (``invoke optimize``) tried every
    trial its search evaluated, wherever it ran (``metadata.optimize.evaluated``, the
    distinct combinations of the study), which a folder may hold only some of."""
    search = metadata.get("optimize")
    evaluated = search.get("evaluated") if isinstance(search, dict) else None
    if isinstance(evaluated, int) and not isinstance(evaluated, bool) and evaluated > columns:
        return evaluated
    return columns


def search_note(metadata: dict[str, Any], columns: int) -> dict[str, Any]:
    """For an optimize run, what its statistics count (empty for a sweep): the DSR's N is
    every evaluated trial; PBO and the variance of the trials' Sharpe ratios are over the
    evaluated trials held here, which a search concentrates near its optimum
    (docs/ANALYSIS.md, "Optimize", honest statistics)."""
    search = metadata.get("optimize")
    if not isinstance(search, dict):
        return {}
    return {
        "search": {
            "sampler": search.get("sampler"),
            "trials": search.get("trials"),
            "evaluated": trials_tried(metadata, columns),
            "columns": columns,
            "note": "DSR: N counts every trial the search evaluated; PBO is computed over the "
            "evaluated trials only, which the search concentrated near its optimum using every "
            "day of the period: it measures the in-sample best against its near neighbours, "
            "not against the space (docs/ANALYSIS.md, Optimize)",
        }
    }


def _cost_stress(panel: Panel, top: list[tuple[str, int]]) -> dict[str, Any]:
    """:func:`backtest.analysis.stress.cost_stress` of the run's top combinations, or
    what is missing for it (the run's data file gone or changed): never a silent pass."""
    from backtest.analysis.rerun import RerunError

    try:
        return cost_stress(panel.out_dir, panel.symbol, top)
    except (RerunError, OSError, ValueError) as exc:
        return {
            "missing": " ".join(str(exc).split()),
            "command": f"invoke robustness --from {panel.out_dir} on the machine that has the "
            "run's data file",
        }


def _column_sharpes(daily: np.ndarray) -> np.ndarray:
    """Per-period Sharpe ratio of every column (mean / std ddof 1); constant columns dropped."""
    mean = daily.mean(axis=0, dtype=np.float64)
    std = daily.std(axis=0, ddof=1, dtype=np.float64)
    ok = std > 0
    return mean[ok] / std[ok]


def _stability(panel: Panel, frame: pd.DataFrame, rank_by: str) -> pd.DataFrame:
    """Neighbour means and the plateau ranking, one row per combination (plateau first)."""
    params = pd.DataFrame(
        [
            {k: json.dumps(v) if isinstance(v, list) else v for k, v in p.items()}
            for p in panel.params
        ]
    )
    numeric = [
        c
        for c in params.columns
        if pd.api.types.is_numeric_dtype(params[c])
        and not pd.api.types.is_bool_dtype(params[c])
        and params[c].nunique() > 1
    ]
    values = objective_values(frame, rank_by)
    finite = values[np.isfinite(values)]
    cap = float(finite.max()) if len(finite) else 0.0
    values = np.nan_to_num(values, nan=0.0, posinf=cap, neginf=0.0)
    table = neighbour_stability(params, values, numeric)
    out = pd.DataFrame({"group_id": panel.group_id, "combo": panel.combo, "objective": values})
    out = pd.concat([out, table.reset_index(drop=True), params.reset_index(drop=True)], axis=1)
    out["rank_raw"] = (-out["objective"]).rank(method="first").astype(int)
    out = out.sort_values(["plateau", "rank_raw"], ascending=[False, True], kind="stable")
    out.insert(3, "rank_plateau", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def _selected_days(panel: Panel, i: int, days: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per trading day of the period: the day's R, money and lowest intraday closed
    balance relative to the day's start (<= 0), of combination ``i``."""
    c = panel.compact
    lo, hi = c.offsets[i], c.offsets[i + 1]
    day_r, day_money, day_low = np.zeros(len(days)), np.zeros(len(days)), np.zeros(len(days))
    rows = np.searchsorted(days, c.day[lo:hi])
    for row, r, pnl in zip(rows, c.r[lo:hi], c.pnl[lo:hi]):
        if row >= len(days):
            continue
        day_r[row] += r
        day_money[row] += pnl
        day_low[row] = min(day_low[row], day_money[row])
    return day_r, day_money, day_low


def _number(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _plain(result: Any) -> dict[str, Any]:
    """A result dataclass as JSON-ready numbers (arrays of samples left out)."""
    out = {}
    for key, value in vars(result).items():
        if isinstance(value, np.ndarray):
            continue
        out[key] = value.item() if isinstance(value, np.generic) else value
    return out


def write_robustness(
    out_dir: Path, symbol: str, result: dict[str, Any], provenance: dict[str, Any]
) -> dict[str, Path]:
    """``robustness_{SYMBOL}.json`` / ``.csv`` and two PNGs into ``out_dir``."""
    paths = {
        "json": out_dir / f"robustness_{symbol}.json",
        "csv": out_dir / f"robustness_{symbol}.csv",
        "pbo_png": out_dir / f"robustness_pbo_{symbol}.png",
        "bootstrap_png": out_dir / f"robustness_bootstrap_{symbol}.png",
    }
    public = {k: v for k, v in result.items() if not k.startswith("_")}
    text = json.dumps({"metadata": provenance, **public}, indent=1, default=_default)
    atomic_write_text(paths["json"], text + "\n")
    atomic_write_text(paths["csv"], result["_stability"].to_csv(index=False, float_format="%.6g"))
    line = caption(provenance)
    atomic_write(paths["pbo_png"], lambda tmp: _pbo_png(tmp, symbol, result, line))
    atomic_write(paths["bootstrap_png"], lambda tmp: _bootstrap_png(tmp, symbol, result, line))
    return paths


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _pbo_png(path: Path, symbol: str, result: dict[str, Any], line: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pbo = result["_pbo_result"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.hist(pbo.logits, bins=40, color="tab:blue", alpha=0.8)
    left.axvline(0, color="tab:red", lw=1)
    left.set_title(f"logit of the IS-best's OOS rank; PBO = {pbo.pbo:.2f}", fontsize=10)
    left.set_xlabel("λ = ln(ω / (1 − ω)); left of 0: below the OOS median")
    right.scatter(pbo.is_objective, pbo.oos_objective, s=4, alpha=0.4)
    right.set_title(f"in-sample best vs its out-of-sample {pbo.objective}", fontsize=10)
    right.set_xlabel(f"in-sample {pbo.objective}")
    right.set_ylabel(f"out-of-sample {pbo.objective}")
    verdict = result["verdict"]
    fig.suptitle(f"{symbol}: {verdict['text']} ({verdict['rule']})", fontsize=10)
    fig.text(0.01, 0.01, line, fontsize=7)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def _bootstrap_png(path: Path, symbol: str, result: dict[str, Any], line: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    boot = result["_boot"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(boot.max_dd_r, bins=50, color="tab:orange", alpha=0.85)
    sel = result["selected"]
    ax.set_title(
        f"{symbol} {sel['group_id']} combo {sel['combo']}: bootstrap max drawdown (R); "
        f"P(breach a prop limit) = {result['bootstrap'].get('p_any_breach', float('nan')):.1%}",
        fontsize=9,
    )
    ax.set_xlabel("max drawdown of cumulative R over a resampled period")
    fig.text(0.01, 0.01, line, fontsize=7)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
