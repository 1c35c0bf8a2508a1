"""Walk-forward analysis over one run's panel: choose on train, judge on the test after it.

The sweep runs once over the whole span (the normal runner with ``--save-daily``, so the
farm and resume work as for any run); every window is then a slice of the panel
(:mod:`backtest.analysis.panel`). For each window the best combination on the train part
(by the objective, with the filters) is recorded and scored on the test part that
follows. The out-of-sample test parts stitched together are what the method promised:
how the *choosing* would have done (Pardo, "The Evaluation and Optimization of Trading
Strategies", 2nd ed. 2008, ch. 11; walk-forward efficiency there as annualised
out-of-sample over annualised in-sample return).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.analysis.panel import Panel, settings_of
from backtest.analysis.ranking import analysis_provenance, caption, choose
from backtest.core.atomic import atomic_write, atomic_write_text
from backtest.strategy.metrics import max_dd_r, sharpe
from backtest.strategy.metrics_nb import metrics_dict

TRADING_DAYS_PER_YEAR = 252
_DURATION = re.compile(r"^\s*(\d+)\s*([DWMY])\s*$", re.IGNORECASE)


class WalkForwardError(ValueError):
    """Walk-forward settings that cannot be used; the message names the option."""


@dataclass(frozen=True)
class Window:
    """One train/test pair of calendar dates (inclusive)."""

    index: int
    train_start: dt.date
    train_end: dt.date
    test_start: dt.date
    test_end: dt.date


def parse_duration(text: str, option: str) -> pd.DateOffset:
    """``"12M"``, ``"3M"``, ``"2W"``, ``"90D"``, ``"1Y"`` as a calendar offset."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise WalkForwardError(f"{option} {text!r}: expected a length like 12M, 3M, 2W, 90D or 1Y")
    n, unit = int(match.group(1)), match.group(2).upper()
    return {
        "D": pd.DateOffset(days=n),
        "W": pd.DateOffset(weeks=n),
        "M": pd.DateOffset(months=n),
        "Y": pd.DateOffset(years=n),
    }[unit]


def make_windows(
    start: dt.date,
    end: dt.date,
    train: str,
    test: str,
    step: str | None = None,
    anchored: bool = False,
) -> list[Window]:
    """Train/test windows inside ``start..end``: the k-th train part starts at
    ``start + k × step`` (anchored: always at ``start``, ending ``k × step`` later), its
    test part follows it; only windows whose test part ends by ``end`` are kept."""
    train_len = parse_duration(train, "--train")
    test_len = parse_duration(test, "--test")
    step_len = parse_duration(step, "--step") if step else test_len
    one_day = dt.timedelta(days=1)
    windows: list[Window] = []
    base = pd.Timestamp(start)
    for k in range(10_000):
        first = base if anchored else base + step_len * k
        train_end = (
            base + train_len + step_len * k if anchored else first + train_len
        ).date() - one_day
        test_end = (pd.Timestamp(train_end + one_day) + test_len).date() - one_day
        if test_end > end:
            break
        windows.append(Window(k, first.date(), train_end, train_end + one_day, test_end))
    if not windows:
        raise WalkForwardError(
            f"--train {train} + --test {test} do not fit in {start}..{end}: no window"
        )
    return windows


def windows_note(
    windows: list[Window], end: dt.date, train: str, test: str, step: str | None, anchored: bool
) -> str:
    """Why there are this many windows: their shape, and where the next one would end."""
    shape = (
        f"train from the start growing by {step or test}" if anchored else f"{train} train"
    ) + f" + {test} test, moved by {step or test}"
    far = windows[-1].test_end + dt.timedelta(days=366 * 20)  # room for one more of any length
    nxt = make_windows(windows[0].train_start, far, train, test, step, anchored)[len(windows)]
    return (
        f"{len(windows)} window{'s' if len(windows) != 1 else ''} ({shape}): the next "
        f"would end on {nxt.test_end}, after the span's end {end}"
    )


def window_row(w: Window, train_days: int, test_days: int, objective: str) -> dict[str, Any]:
    """A window's row before its choice: its dates, trading days and objective."""
    return {
        "window": w.index,
        "train_start": w.train_start.isoformat(),
        "train_end": w.train_end.isoformat(),
        "test_start": w.test_start.isoformat(),
        "test_end": w.test_end.isoformat(),
        "train_days": train_days,
        "test_days": test_days,
        "objective": objective,
    }


def walk_forward(
    panel: Panel,
    windows: list[Window],
    objective: str = "total_r",
    min_trades: int = 0,
    require_prop_ok: bool = False,
) -> dict[str, Any]:
    """Per window: the train choice, its train metric and its test metrics; then the
    stitched out-of-sample result, walk-forward efficiency and how often the choice changed.
    """
    settings = settings_of(panel.metadata)
    rows: list[dict[str, Any]] = []
    oos_daily: list[np.ndarray] = []
    oos_r: list[np.ndarray] = []
    train_rates: list[float] = []
    for w in windows:
        train = panel.metrics(w.train_start, w.train_end, settings)
        chosen = choose(train, objective, min_trades, require_prop_ok)
        test_days = panel.days_between(w.test_start, w.test_end)
        train_days = len(panel.days_between(w.train_start, w.train_end))
        row = window_row(w, train_days, len(test_days), objective)
        if chosen is None:
            row.update(
                group_id=None,
                combo=None,
                params=None,
                train_objective=None,
                train_metrics=None,
                test_metrics=None,
            )
            oos_daily.append(np.zeros(len(test_days)))
            rows.append(row)
            continue
        test = panel.metrics(w.test_start, w.test_end, settings, rows=[chosen])
        row.update(
            group_id=str(panel.group_id[chosen]),
            combo=int(panel.combo[chosen]),
            params=panel.params[chosen],
            train_objective=_finite(float(train[objective].iloc[chosen])),
            train_metrics=metrics_dict({k: train[k].to_numpy() for k in train.columns}, chosen),
            test_metrics=metrics_dict({k: test[k].to_numpy() for k in test.columns}, 0),
        )
        rows.append(row)
        oos_daily.append(panel.daily_r(w.test_start, w.test_end, [chosen])[:, 0].astype(np.float64))
        oos_r.append(_trade_r(panel, chosen, test_days))
        train_rates.append(row["train_metrics"]["total_r"] / max(1, row["train_days"]))
    return {
        "windows": rows,
        "stitched": stitched(oos_daily, oos_r),
        "walk_forward_efficiency": efficiency(oos_daily, train_rates),
        "choice_changes": choice_changes(rows),
    }


def _trade_r(panel: Panel, i: int, days: np.ndarray) -> np.ndarray:
    c = panel.compact
    day, r = c.day[c.offsets[i] : c.offsets[i + 1]], c.r[c.offsets[i] : c.offsets[i + 1]]
    if len(days) == 0:
        return r[:0]
    return r[(day >= days[0]) & (day <= days[-1])]


def stitched(oos_daily: list[np.ndarray], oos_r: list[np.ndarray]) -> dict[str, Any]:
    """Out-of-sample days of every window in order, as one series (spec section 6 rules)."""
    daily = np.concatenate(oos_daily) if oos_daily else np.zeros(0)
    r = np.concatenate(oos_r) if oos_r else np.zeros(0)
    traded = daily[daily != 0]
    return {
        "days": int(len(daily)),
        "trades": int(len(r)),
        "total_r": float(r.sum()),
        "avg_r": float(r.mean()) if len(r) else 0.0,
        "max_dd_r": max_dd_r(r),
        "sharpe": sharpe(traded, len(daily)),
        "annual_r": float(daily.sum() / len(daily) * TRADING_DAYS_PER_YEAR) if len(daily) else 0.0,
        "equity_r": np.cumsum(daily).tolist(),
    }


def efficiency(oos_daily: list[np.ndarray], train_rates: list[float]) -> float | None:
    """Annualised out-of-sample R over the mean annualised in-sample R of the choices;
    None when the in-sample rate is not positive (the ratio's sign would mean nothing)."""
    days = sum(len(d) for d in oos_daily)
    if not train_rates or days == 0:
        return None
    in_rate = float(np.mean(train_rates))
    if in_rate <= 0:
        return None
    return float(sum(d.sum() for d in oos_daily) / days) / in_rate


def choice_changes(rows: list[dict[str, Any]]) -> int:
    """Windows whose chosen parameters differ from the previous window's."""
    chosen = [json.dumps(r["params"], sort_keys=True) for r in rows]
    return sum(1 for a, b in zip(chosen, chosen[1:]) if a != b)


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def write_walk_forward(
    out_dir: Path, symbol: str, result: dict[str, Any], provenance: dict[str, Any]
) -> dict[str, Path]:
    """``walk_forward_{SYMBOL}.csv`` / ``.json`` / ``.png`` into ``out_dir``."""
    from backtest.runner.outputs import csv_text

    paths = {
        "csv": out_dir / f"walk_forward_{symbol}.csv",
        "json": out_dir / f"walk_forward_{symbol}.json",
        "png": out_dir / f"walk_forward_{symbol}.png",
    }
    flat = [_flat_row(r) for r in result["windows"]]
    columns = list(dict.fromkeys(k for row in flat for k in row))
    atomic_write_text(paths["csv"], csv_text(columns, flat))
    document = {"metadata": provenance, **result}
    atomic_write_text(paths["json"], json.dumps(_json_safe(document), indent=1) + "\n")
    atomic_write(paths["png"], lambda tmp: _equity_png(tmp, symbol, result, provenance))
    return paths


def _flat_row(row: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in row.items() if k not in ("params", "train_metrics", "test_metrics")}
    for key, value in (row["params"] or {}).items():
        flat[key] = json.dumps(value) if isinstance(value, list) else value
    for prefix in ("train", "test"):
        for key, value in (row[f"{prefix}_metrics"] or {}).items():
            flat[f"{prefix}_{key}"] = value
    return flat


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _equity_png(
    path: Path, symbol: str, result: dict[str, Any], provenance: dict[str, Any]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    equity = np.asarray(result["stitched"]["equity_r"])
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(np.arange(len(equity)), equity, color="tab:blue", lw=1.2)
    at = 0
    for row in result["windows"]:
        ax.axvline(at, color="0.8", lw=0.6)
        at += row["test_days"]
    ax.axhline(0, color="0.5", lw=0.6)
    joined, wfe = result["stitched"], result["walk_forward_efficiency"]
    ax.set_title(
        f"{symbol} walk-forward, out-of-sample only: {joined['total_r']:.1f} R over "
        f"{joined['days']} days, {len(result['windows'])} windows, "
        f"WFE {'n/a' if wfe is None else f'{wfe:.2f}'}",
        fontsize=10,
    )
    ax.set_xlabel("out-of-sample trading day (grey lines: window starts)")
    ax.set_ylabel("cumulative R")
    fig.text(0.01, 0.01, caption(provenance), fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def provenance(panel: Panel, analysis: dict[str, Any]) -> dict[str, Any]:
    """What produced an analysis of ``panel``'s run (:func:`analysis_provenance`)."""
    return analysis_provenance(panel.out_dir, panel.metadata, analysis)


@dataclass(frozen=True)
class WalkForwardSettings:
    """What a walk-forward does with a run (the command line's options, plain and picklable)."""

    train: str = "12M"
    test: str = "3M"
    step: str | None = None  # default: the test length
    anchored: bool = False
    objective: str = "total_r"
    min_trades: int = 0
    require_prop_ok: bool = False
    with_robustness: bool = True

    def check(self) -> None:
        """Every option checked before anything runs (one line naming the option)."""
        from backtest.analysis.ranking import OBJECTIVES

        if self.objective not in OBJECTIVES:
            raise WalkForwardError(
                f"--objective {self.objective!r}: one of {', '.join(OBJECTIVES)}"
            )
        if self.min_trades < 0:
            raise WalkForwardError(f"--min-trades {self.min_trades}: must be >= 0")
        for value, option in (
            (self.train, "--train"),
            (self.test, "--test"),
            (self.step, "--step"),
        ):
            if value is not None:
                parse_duration(value, option)


def run_walk_forward(options: Any, settings: WalkForwardSettings) -> dict[str, Any]:
    """One sweep over the whole span (the runner, resumable, ``--save-daily``), then
    :func:`analyse_walk_forward` on it."""
    from dataclasses import replace

    from backtest.runner.execute import run_backtest

    settings.check()
    report = run_backtest(replace(options, save_daily=True))
    if report.exit_code != 0:
        return {"report": report, "paths": {}}
    return {"report": report, **analyse_walk_forward(report.output_dir, report.symbol, settings)}


def analyse_walk_forward(
    out_dir: Path, symbol: str, settings: WalkForwardSettings
) -> dict[str, Any]:
    """The windows over a finished run with compact trades (a local run or a farm run
    merged with ``fab collect``/``invoke merge``), then (by default) its robustness."""
    from backtest.analysis.panel import load_panel

    settings.check()
    panel = load_panel(Path(out_dir), symbol)
    meta = panel.metadata
    windows = make_windows(
        dt.date.fromisoformat(meta["start_date"]),
        dt.date.fromisoformat(meta["end_date"]),
        settings.train,
        settings.test,
        settings.step,
        settings.anchored,
    )
    s = settings
    result = walk_forward(panel, windows, s.objective, s.min_trades, s.require_prop_ok)
    result["windows_note"] = windows_note(
        windows, dt.date.fromisoformat(meta["end_date"]), s.train, s.test, s.step, s.anchored
    )
    recorded = {**asdict(s), "step": s.step or s.test}
    paths = write_walk_forward(panel.out_dir, symbol, result, provenance(panel, recorded))
    out: dict[str, Any] = {"result": result, "paths": paths, "output_dir": panel.out_dir}
    if s.with_robustness:
        from backtest.analysis.robustness import robustness, write_robustness

        rob = robustness(panel, s.objective, s.min_trades, s.require_prop_ok)
        rob_settings = {
            "rank_by": s.objective,
            "min_trades": s.min_trades,
            "require_prop_ok": s.require_prop_ok,
        }
        out["robustness"] = rob
        written = write_robustness(panel.out_dir, symbol, rob, provenance(panel, rob_settings))
        paths.update({f"robustness_{k}": v for k, v in written.items()})
    return out
