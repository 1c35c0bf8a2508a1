"""Per-group charts (PNG, headless): the best combination's equity curve and
a total-R heatmap over the group's two most varied parameters.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas,
never through pyplot, so nothing stays open between groups and no display is
needed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

CHART_KINDS = ("equity", "heatmap")
SIZE_IN = (12.0, 7.0)
DPI = 100  # 1200 × 700 px
ANNOTATE_MAX_CELLS = 120
MAX_TICKS = 25
# Fixed margins (fractions of 1200 × 700 px): constrained layout would double the draw time.
MARGINS = {"left": 0.085, "right": 0.985, "top": 0.93, "bottom": 0.08}


def chart_path(charts_dir: Path, group_id: str, kind: str) -> Path:
    """``charts/{group_id}_{kind}.png`` (kind: equity or heatmap)."""
    return Path(charts_dir) / f"{group_id}_{kind}.png"


def best_index(combos: list[dict[str, Any]]) -> int:
    """Highest ``total_r``; ties go to the lower index (architecture reading 5)."""
    totals = [float((c.get("metrics") or {}).get("total_r") or 0.0) for c in combos]
    return int(np.argmax(totals)) if totals else 0


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return value if isinstance(value, str) else json.dumps(value)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    FigureCanvasAgg(fig)
    fig.savefig(tmp, format="png", dpi=DPI)
    tmp.replace(path)
    return path


def equity_chart(
    path: Path,
    group_id: str,
    symbol: str,
    metrics: dict[str, Any],
    trades: list[dict[str, Any]],
    account_size: float,
) -> Path:
    """Cumulative R (top) and balance (bottom) by exit time, drawdowns shaded."""
    fig = Figure(figsize=SIZE_IN, dpi=DPI, layout=None)
    title = (
        f"{group_id} · {symbol} · best combination: total R {_fmt(metrics.get('total_r'))}, "
        f"trades {_fmt(metrics.get('trades'))}, win rate "
        f"{_fmt(100 * (metrics.get('winrate') or 0.0), 1)} %, PF "
        f"{_fmt(metrics.get('profit_factor'))}, max DD {_fmt(metrics.get('max_dd_r'))} R"
    )
    fig.suptitle(title, fontsize=11)
    ax_r, ax_money = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    fig.subplots_adjust(**MARGINS, hspace=0.06)
    if not trades:
        ax_r.text(0.5, 0.5, "no trades", ha="center", va="center", transform=ax_r.transAxes)
    else:
        exits = pd.to_datetime([t["exit_time"] for t in trades], utc=True).tz_localize(None)
        order = np.argsort(exits.to_numpy(), kind="stable")
        first = pd.to_datetime(min(t["entry_time"] for t in trades), utc=True).tz_localize(None)
        times = np.concatenate([[first.to_datetime64()], exits.to_numpy()[order]])
        cum_r = np.concatenate([[0.0], np.cumsum(np.array([t["r"] for t in trades], float)[order])])
        balance = account_size + np.concatenate(
            [[0.0], np.cumsum(np.array([t["pnl_money"] for t in trades], float)[order])]
        )
        for ax, curve, start, colour in (
            (ax_r, cum_r, 0.0, "tab:blue"),
            (ax_money, balance, account_size, "tab:green"),
        ):
            peak = np.maximum.accumulate(np.concatenate([[start], curve]))[1:]
            ax.step(times, curve, where="post", color=colour, linewidth=1.2)
            ax.fill_between(
                times,
                curve,
                peak,
                step="post",
                linewidth=0,
                color="tab:red",
                alpha=0.3,
                label="drawdown from running peak",
            )
            ax.axhline(start, color="grey", linewidth=0.8)
        ax_r.legend(loc="upper left", fontsize=9)
    ax_r.set_ylabel("cumulative R (R)")
    ax_money.set_ylabel(f"balance (account currency, start {account_size:,.0f})")
    ax_money.set_xlabel("exit time (UTC)")
    ax_money.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    for ax in (ax_r, ax_money):
        ax.grid(True, alpha=0.3)
    return _save(fig, path)


def _varied(combos: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """Parameters with more than one value across combos, most values first."""
    seen: dict[str, dict[str, Any]] = {}
    for combo in combos:
        for name, value in (combo.get("params") or {}).items():
            seen.setdefault(name, {})[json.dumps(value, sort_keys=True)] = value
    varied = [(name, list(values.values())) for name, values in seen.items() if len(values) > 1]
    varied.sort(key=lambda nv: -len(nv[1]))  # stable: ties keep parameter order

    def ordered(values: list[Any]) -> list[Any]:
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        return sorted(values) if numeric else sorted(values, key=_label)

    return [(name, ordered(values)) for name, values in varied]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def heatmap_chart(
    path: Path, group_id: str, symbol: str, combos: list[dict[str, Any]]
) -> Path | None:
    """Total R over the two most varied parameters (max over the others); a bar
    chart when one parameter varies; None (no file) when none does."""
    varied = _varied(combos)
    if not varied:
        return None
    others = [name for name, _ in varied[2:]]
    named = ", ".join(others) if len(others) <= 3 else f"{len(others)} other parameters"
    how = f" (max over {named})" if others else ""
    fig = Figure(figsize=SIZE_IN, dpi=DPI, layout=None)
    ax = fig.subplots()
    fig.subplots_adjust(**MARGINS)
    totals = [float((c.get("metrics") or {}).get("total_r") or 0.0) for c in combos]
    if len(varied) == 1:
        name, values = varied[0]
        best = {_key(v): -math.inf for v in values}
        for combo, total in zip(combos, totals):
            k = _key(combo["params"][name])
            best[k] = max(best[k], total)
        heights = [best[_key(v)] for v in values]
        bars = ax.bar(
            [_label(v) for v in values],
            heights,
            color=["tab:green" if h >= 0 else "tab:red" for h in heights],
        )
        if len(values) <= ANNOTATE_MAX_CELLS // 4:
            ax.bar_label(bars, fmt="%.1f", fontsize=9)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xlabel(name)
        ax.set_ylabel("total R (R)")
        ax.set_title(f"{group_id} · {symbol} · total R by {name}{how}")
        return _save(fig, path)
    (x_name, x_values), (y_name, y_values) = varied[0], varied[1]
    x_pos = {_key(v): i for i, v in enumerate(x_values)}
    y_pos = {_key(v): i for i, v in enumerate(y_values)}
    grid = np.full((len(y_values), len(x_values)), -np.inf)
    for combo, total in zip(combos, totals):
        i, j = y_pos[_key(combo["params"][y_name])], x_pos[_key(combo["params"][x_name])]
        grid[i, j] = max(grid[i, j], total)
    cells = np.ma.masked_invalid(np.where(np.isinf(grid), np.nan, grid))
    lo, hi = (float(cells.min()), float(cells.max())) if cells.count() else (0.0, 0.0)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=min(lo, -1e-9), vmax=max(hi, 1e-9))
    image = ax.imshow(cells, cmap="RdYlGn", norm=norm, aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label="total R (R)")
    for set_ticks, values in ((ax.set_xticks, x_values), (ax.set_yticks, y_values)):
        every = max(1, math.ceil(len(values) / MAX_TICKS))  # thin out crowded labels
        set_ticks(range(0, len(values), every), [_label(v) for v in values[::every]])
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    ax.set_title(f"{group_id} · {symbol} · total R by {x_name} × {y_name}{how}")
    if cells.size <= ANNOTATE_MAX_CELLS:
        for i in range(cells.shape[0]):
            for j in range(cells.shape[1]):
                if cells.mask is np.ma.nomask or not cells.mask[i, j]:
                    text = f"{grid[i, j]:.1f}".replace("-0.0", "0.0")
                    dark = abs(float(norm(grid[i, j])) - 0.5) > 0.35  # white on deep colours
                    ax.text(
                        j,
                        i,
                        text,
                        ha="center",
                        va="center",
                        fontsize=9,
                        color="white" if dark else "black",
                    )
    return _save(fig, path)


def write_group_charts(
    charts_dir: Path,
    group_id: str,
    combos: list[dict[str, Any]],
    best_trades: list[dict[str, Any]],
    account_size: float,
    symbol: str,
) -> list[Path]:
    """The group's equity chart and, where parameters vary, its heatmap."""
    if not combos:
        return []
    charts_dir = Path(charts_dir)
    metrics = combos[best_index(combos)].get("metrics") or {}
    written = [
        equity_chart(
            chart_path(charts_dir, group_id, "equity"),
            group_id,
            symbol,
            metrics,
            best_trades,
            account_size,
        )
    ]
    heatmap = heatmap_chart(chart_path(charts_dir, group_id, "heatmap"), group_id, symbol, combos)
    return written + ([heatmap] if heatmap else [])
