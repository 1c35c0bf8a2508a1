"""Re-run the best in-sample combinations on the control period, side by side.

The top ``N%`` of all in-sample combinations by ``total_r`` (at least
``min_count``, at most all) are run again, with the in-sample run's risk and
account settings, over the ``control`` period of the config (its dates, its
data file unless one is given). The result is
``control_vs_in_sample_{SYMBOL}.csv``: one row per combination, in-sample
(``is_``) and control (``ctl_``) metrics next to each other, sorted by
in-sample ``total_r`` descending.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from backtest.core.config import DEFAULTS, period
from backtest.core.settings import RunSettings
from backtest.engines.run import run_combos
from backtest.strategy.metrics import METRIC_KEYS
from backtest.strategy.params import PARAM_NAMES, resolve_params

# Side-by-side metric order: the ranking ones first, then the rest of spec section 6.
COLUMN_METRICS = (
    "total_r",
    "trades",
    "avg_r",
    "winrate",
    "profit_factor",
    "max_dd_r",
    "sharpe",
    *(
        k
        for k in METRIC_KEYS
        if k not in ("total_r", "trades", "avg_r", "winrate", "profit_factor", "max_dd_r", "sharpe")
    ),
)


class ControlError(ValueError):
    """A control comparison that cannot be made; the message says why."""


def control_path(directory: Path, symbol: str) -> Path:
    return Path(directory) / f"control_vs_in_sample_{symbol}.csv"


def top_count(top: str | int | float, n: int, min_count: int) -> int:
    """How many of ``n`` combinations to take: ``"10%"`` (rounded up) or a
    count, at least ``min_count``, at most ``n``."""
    text = str(top).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1])
            if not 0 < share <= 100:
                raise ValueError
            wanted = math.ceil(round(share * n / 100, 9))
        else:
            wanted = int(text)
            if wanted < 1:
                raise ValueError
    except ValueError:
        raise ControlError(
            f"top {top!r}: expected a share like '10%' (0-100] or a count >= 1"
        ) from None
    if min_count < 0:
        raise ControlError(f"min_count {min_count}: must be >= 0")
    return min(n, max(wanted, min_count))


def select_top(results: dict[str, Any], top: str | int, min_count: int) -> list[dict[str, Any]]:
    """The best combinations of the ok groups: ``group_id``, ``combo``, ``params``,
    ``metrics``; ``total_r`` descending, ties in group and combination order."""
    rows = [
        {"group_id": g["group_id"], "combo": i, "params": c["params"], "metrics": c["metrics"]}
        for g in results.get("groups") or []
        if g.get("status") == "ok"
        for i, c in enumerate(g.get("combos") or [])
    ]
    if not rows:
        raise ControlError("the in-sample results have no successful combination")
    rows.sort(key=lambda row: -float(row["metrics"]["total_r"]))
    return rows[: top_count(top, len(rows), min_count)]


def _settings(meta: dict[str, Any], cfg: dict[str, Any], news_ns: np.ndarray) -> RunSettings:
    run = cfg["run"]
    pick = {
        key: float(meta.get(key, run[key]))
        for key in ("risk", "account_size", "daily_loss_limit_pct", "max_loss_limit_pct")
    }
    return RunSettings(**pick, news_ns=news_ns)


def _news(
    symbol: str,
    combos: list[dict[str, Any]],
    news_file: str | None,
    meta: dict[str, Any],
    cfg: dict[str, Any],
) -> np.ndarray:
    if not any(c["news_filter"] for c in combos):
        return np.zeros(0, dtype=np.int64)
    path = news_file or meta.get("news_file")
    if not path or not Path(path).is_file():
        raise ControlError(
            "selected combinations use news_filter: give a news file "
            f"covering the control period (in-sample run's: {meta.get('news_file')})"
        )
    from backtest.core.config import symbol_spec
    from backtest.data.news import event_times, load_news

    return event_times(load_news(path), symbol_spec(symbol, cfg).currencies)


def _run_chunks(
    bars, combos: list[dict[str, Any]], settings: RunSettings, engine: str, workers: int
) -> list[dict[str, Any]]:
    """Metrics per combination, in order; chunks over a process pool when ``workers > 1``."""
    if workers <= 1 or len(combos) < 2:
        return [r.metrics for r in run_combos(bars, combos, settings, engine)]
    size = math.ceil(len(combos) / workers)
    chunks = [combos[i : i + size] for i in range(0, len(combos), size)]
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        parts = pool.map(
            run_combos,
            [bars] * len(chunks),
            chunks,
            [settings] * len(chunks),
            [engine] * len(chunks),
        )
        return [r.metrics for part in parts for r in part]


def comparison_rows(
    selected: list[dict[str, Any]], control: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The side-by-side rows (see module doc and docs/ANALYSIS.md for the flags)."""
    rows = []
    for sel, ctl in zip(selected, control):
        ins = sel["metrics"]
        row: dict[str, Any] = {"group_id": sel["group_id"], "combo": sel["combo"]}
        row.update({name: sel["params"].get(name) for name in PARAM_NAMES})
        for key in COLUMN_METRICS:
            row[f"is_{key}"] = ins.get(key)
            row[f"ctl_{key}"] = ctl.get(key)
        defined = ins.get("trades") and ctl.get("trades") and ins.get("avg_r")
        row["ratio_r_per_trade"] = ctl["avg_r"] / ins["avg_r"] if defined else None
        row["control_loses_money"] = bool(ctl["total_pnl"] < 0)
        row["breaks_prop_limits"] = not ctl["prop_ok"]
        rows.append(row)
    return rows


def compare_control(
    in_sample_dir: Path,
    top: str = "10%",
    min_count: int = 10,
    output_dir: Path | None = None,
    data_file: str | None = None,
    cfg: dict[str, Any] | None = None,
    engine: str = "fast",
    workers: int = 1,
    symbol: str | None = None,
    news_file: str | None = None,
) -> Path:
    """Write ``control_vs_in_sample_{SYMBOL}.csv`` for the run in ``in_sample_dir``; its path."""
    from backtest.analysis.merge import detect_symbol
    from backtest.core.atomic import atomic_write_text
    from backtest.data.loaders import load_period_bars
    from backtest.runner.outputs import read_results

    cfg = cfg or DEFAULTS
    in_sample_dir = Path(in_sample_dir)
    symbol = detect_symbol([in_sample_dir], symbol)
    results = read_results(in_sample_dir, symbol)
    meta = results["metadata"]
    if meta.get("period") == "control":
        raise ControlError(f"{in_sample_dir}: these are control-period results already")
    selected = select_top(results, top, min_count)
    combos = [
        resolve_params(symbol, s["params"], f"{s['group_id']} combo {s['combo']}", cfg)
        for s in selected
    ]
    settings = _settings(meta, cfg, _news(symbol, combos, news_file, meta, cfg))
    span = period("control", cfg)
    bars = load_period_bars(symbol, "control", data_file, cfg).between(
        span.start_date, span.end_date
    )
    if len(bars) == 0:
        raise ControlError(
            f"no bars of {symbol} between {span.start_date} and {span.end_date} in the control data"
        )
    rows = comparison_rows(selected, _run_chunks(bars, combos, settings, engine, workers))
    path = control_path(output_dir or in_sample_dir, symbol)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, _csv(rows))


def _csv(rows: list[dict[str, Any]]) -> str:
    """CSV text in the style of the results tables (same cell formatting)."""
    from backtest.runner.outputs import _csv_text

    return _csv_text(list(rows[0]), rows)
