"""Per-group charts (PNG, headless): the best combination's equity curve and
a total-R heatmap over the group's two most varied parameters.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas,
never through pyplot, so nothing stays open between groups and no display is
needed.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import StrMethodFormatter

from backtest.core.atomic import atomic_write
from backtest.runner.columns import encoded

# An ok group record -> its combinations as an Arrow table (backtest.runner.outputs.Rows).
Rows = Callable[[dict[str, Any]], Any]

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
    """Highest ``total_r``; ties go to the lower index (docs/READINGS.md, reading 5)."""
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


def params_text(params: dict[str, Any], width: int = 180) -> str:
    """``name=value`` pairs of a combination, wrapped for a chart's subtitle."""
    return "\n".join(textwrap.wrap(", ".join(f"{k}={_label(v)}" for k, v in params.items()), width))


def save_png(fig: Figure, path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Draw ``fig`` into ``path`` through :func:`backtest.core.atomic.atomic_write`: a
    ``tempfile`` name in the target folder (no fixed, guessable name), opened with
    ``O_NOFOLLOW`` so that a symlink planted there is never written through.
    ``metadata``: PNG text chunks (key -> text) besides matplotlib's ``Software``."""
    FigureCanvasAgg(fig)

    def draw(tmp: Path) -> None:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
        with os.fdopen(fd, "wb") as handle:
            fig.savefig(handle, format="png", dpi=DPI, metadata=metadata)

    return atomic_write(path, draw)


_save = save_png


def equity_chart(
    path: Path,
    group_id: str,
    symbol: str,
    metrics: dict[str, Any],
    trades: list[dict[str, Any]],
    account_size: float,
    params: dict[str, Any] | None = None,
) -> Path:
    """Cumulative R (top) and balance (bottom) by exit time, drawdowns shaded; under the
    title, the ``params`` of the combination shown."""
    fig = Figure(figsize=SIZE_IN, dpi=DPI, layout=None)
    title = (
        f"{group_id} · {symbol} · best combination: total R {_fmt(metrics.get('total_r'))}, "
        f"trades {_fmt(metrics.get('trades'))}, win rate "
        f"{_fmt(100 * (metrics.get('winrate') or 0.0), 1)} %, PF "
        f"{_fmt(metrics.get('profit_factor'))}, max DD {_fmt(metrics.get('max_dd_r'))} R"
    )
    fig.suptitle(title, fontsize=11)
    ax_r, ax_money = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    fig.subplots_adjust(**{**MARGINS, "top": 0.88 if params else MARGINS["top"]}, hspace=0.06)
    if params:
        fig.text(0.5, 0.945, params_text(params), ha="center", va="top", fontsize=8.5)
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
    return _most_varied(seen)


def _most_varied(seen: dict[str, dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """Of each parameter's distinct values (by key), those with more than one, most values
    first (ties in parameter order), each's values in order (numbers by value)."""
    varied = [(name, list(values.values())) for name, values in seen.items() if len(values) > 1]
    varied.sort(key=lambda nv: -len(nv[1]))  # stable: ties keep parameter order

    def ordered(values: list[Any]) -> list[Any]:
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        return sorted(values) if numeric else sorted(values, key=_label)

    return [(name, ordered(values)) for name, values in varied]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def symmetric_norm(values: np.ndarray) -> Normalize:
    """A colour scale centred on 0 with equal halves (±max |value|): +5.9 R is drawn as
    pale as -5.9 R, never as dark as -71.5 R."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    bound = max(float(np.abs(finite).max()) if finite.size else 0.0, 1e-9)
    return Normalize(vmin=-bound, vmax=bound)


def _grid_image(
    fig: Figure,
    ax: Any,
    grid: np.ndarray,
    x: tuple[str, list[Any]],
    y: tuple[str, list[Any]],
    best: tuple[int, int] | None,
) -> None:
    """``grid`` (rows y, columns x; NaN = no combination) as a heatmap on a symmetric
    scale, cells annotated when few, the ``best`` cell outlined in black."""
    cells = np.ma.masked_invalid(grid)
    norm = symmetric_norm(grid)
    image = ax.imshow(cells, cmap="RdYlGn", norm=norm, aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label="total R (R), scale symmetric around 0")
    for set_ticks, values in ((ax.set_xticks, x[1]), (ax.set_yticks, y[1])):
        every = max(1, math.ceil(len(values) / MAX_TICKS))  # thin out crowded labels
        set_ticks(range(0, len(values), every), [_label(v) for v in values[::every]])
    ax.set_xlabel(x[0])
    ax.set_ylabel(y[0])
    if grid.size <= ANNOTATE_MAX_CELLS:
        for i, j in zip(*np.nonzero(np.isfinite(grid))):
            text = f"{grid[i, j]:.1f}".replace("-0.0", "0.0")
            dark = abs(float(norm(grid[i, j])) - 0.5) > 0.35  # white on deep colours
            colour = "white" if dark else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color=colour)
    if best is not None:
        i, j = best
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", lw=3))
        ax.annotate(
            "best",
            (j, i + 0.5),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            fontweight="bold",
        )


def _cell_grid(
    combos: list[dict[str, Any]],
    totals: list[float],
    x: tuple[str, list[Any]],
    y: tuple[str, list[Any]],
) -> tuple[np.ndarray, tuple[int, int] | None]:
    """Total R per (y, x) cell, max over the combinations in a cell (NaN where none),
    and the best cell (highest; ties: the first combination)."""
    x_pos = {_key(v): i for i, v in enumerate(x[1])}
    y_pos = {_key(v): i for i, v in enumerate(y[1])}
    grid = np.full((len(y[1]), len(x[1])), np.nan)
    best, best_total = None, -math.inf
    for combo, total in zip(combos, totals):
        i, j = y_pos[_key(combo["params"][y[0]])], x_pos[_key(combo["params"][x[0]])]
        if not total <= grid[i, j]:  # NaN compares False: the first combination of a cell
            grid[i, j] = total
        if total > best_total:
            best, best_total = (i, j), total
    return grid, best


def heatmap_chart(
    path: Path, group_id: str, symbol: str, combos: list[dict[str, Any]]
) -> Path | None:
    """Total R over the two most varied parameters (max over the others); a bar
    chart when one parameter varies; None (no file) when none does. The colour scale
    is symmetric around 0 and the best cell (bar) is outlined."""
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
        top = int(np.argmax(heights))
        bars = ax.bar(
            [_label(v) for v in values],
            heights,
            color=["tab:green" if h >= 0 else "tab:red" for h in heights],
            edgecolor=["black" if i == top else "none" for i in range(len(values))],
            linewidth=2.5,
        )
        if len(values) <= ANNOTATE_MAX_CELLS // 4:
            ax.bar_label(bars, fmt="%.1f", fontsize=9)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xlabel(name)
        ax.set_ylabel("total R (R)")
        ax.set_title(f"{group_id} · {symbol} · total R by {name}{how}; best outlined")
        return _save(fig, path)
    x, y = varied[0], varied[1]
    grid, best_cell = _cell_grid(combos, totals, x, y)
    _grid_image(fig, ax, grid, x, y, best_cell)
    ax.set_title(f"{group_id} · {symbol} · total R by {x[0]} × {y[0]}{how}; best outlined")
    return _save(fig, path)


def run_heatmap_path(charts_dir: Path, symbol: str, x_name: str, y_name: str) -> Path:
    """``charts/whole_run_{SYMBOL}_{x}_x_{y}.png``."""
    return Path(charts_dir) / f"whole_run_{symbol}_{x_name}_x_{y_name}.png"


def run_heatmap_charts(
    charts_dir: Path,
    symbol: str,
    groups: list[dict[str, Any]],
    max_params: int = 3,
    rows: Rows | None = None,
) -> list[Path]:
    """Heatmaps of total R over the WHOLE run (every ok group): one per pair of the
    ``max_params`` most varied parameters, every other parameter fixed at the best
    combination's value (a slice through the best, not the best over the others: a
    lucky spike then stands out against its neighbours).

    ``rows(record)`` gives an ok group's combinations as an Arrow table (default: its
    inline ``combos``). Read column-wise, two passes of one group at a time: the
    distinct values and the best combination, then the cells of the slices; memory
    holds the few combinations of the slices, whatever the run's size."""
    from backtest.runner.store import PARAM_TYPES, records_table

    def table_of(group: dict[str, Any]) -> Any:
        return rows(group) if rows else records_table(group["group_id"], group["combos"])

    ok = [g for g in groups if g.get("status") == "ok"]
    seen: dict[str, dict[str, Any]] = {name: {} for name in PARAM_TYPES}
    count, best_total, best = 0, -math.inf, None
    for group in ok:
        table = table_of(group)
        for name in PARAM_TYPES:
            for value in encoded(table.column(name))[0]:
                seen[name].setdefault(_key(value), value)
        totals = _totals(table)
        if len(totals) and totals.max() > best_total:
            at = int(np.argmax(totals))
            best_total = float(totals[at])
            best = {name: table.column(name)[at].as_py() for name in PARAM_TYPES}
        count += table.num_rows
    all_varied = _most_varied(seen)
    varied = all_varied[:max_params]
    if len(varied) < 2 or best is None:
        return []
    slices = _slices(ok, table_of, all_varied, varied, best)
    varied_names = {name for name, _ in all_varied}
    written = []
    for (a, x), (b, y) in itertools.combinations(enumerate(varied), 2):
        inside = np.ones(len(slices["total_r"]), dtype=bool)
        for c, (name, values) in enumerate(varied):
            if c not in (a, b):
                inside &= slices[name] == [_key(v) for v in values].index(_key(best[name]))
        grid, best_cell = _slice_grid(
            slices[x[0]][inside], slices[y[0]][inside], slices["total_r"][inside], x, y
        )
        fig = Figure(figsize=SIZE_IN, dpi=DPI, layout=None)
        ax = fig.subplots()
        fig.subplots_adjust(**{**MARGINS, "top": 0.88})
        _grid_image(fig, ax, grid, x, y, best_cell)
        held = {k: best[k] for k in best if k in varied_names and k not in (x[0], y[0])}
        fig.suptitle(
            f"{symbol} · whole run ({count} combinations) · total R by {x[0]} × {y[0]}; "
            "best cell outlined",
            fontsize=11,
        )
        fig.text(
            0.5,
            0.935,
            "others fixed at the best combination's: " + (params_text(held) or "none vary"),
            ha="center",
            va="top",
            fontsize=8.5,
        )
        written.append(_save(fig, run_heatmap_path(charts_dir, symbol, x[0], y[0])))
    return written


def _totals(table: Any) -> np.ndarray:
    """``total_r`` of each row (null as 0, as :func:`best_index` counts it)."""
    column = table.column("total_r").to_numpy(zero_copy_only=False).astype(np.float64)
    return np.nan_to_num(column, nan=0.0)


def _slices(
    groups: list[dict[str, Any]],
    table_of: Callable[[dict[str, Any]], Any],
    all_varied: list[tuple[str, list[Any]]],
    varied: list[tuple[str, list[Any]]],
    best: dict[str, Any],
) -> dict[str, np.ndarray]:
    """The combinations whose varied parameters other than the ``varied`` (charted) ones
    are the best's: each charted parameter as the index of its value, and ``total_r``."""
    charted = [name for name, _ in varied]
    held = [name for name, _ in all_varied if name not in charted]
    pieces: dict[str, list[np.ndarray]] = {name: [] for name in [*charted, "total_r"]}
    for group in groups:
        table = table_of(group)
        keep = np.ones(table.num_rows, dtype=bool)
        for name in held:
            values, codes = encoded(table.column(name))
            same = [k for k, v in enumerate(values) if _key(v) == _key(best[name])]
            keep &= np.isin(codes, same)
        for name, ordered in varied:
            values, codes = encoded(table.column(name))
            where = {_key(v): i for i, v in enumerate(ordered)}
            pieces[name].append(np.array([where[_key(v)] for v in values], np.int64)[codes][keep])
        pieces["total_r"].append(_totals(table)[keep])
    return {name: np.concatenate(parts) for name, parts in pieces.items()}


def _slice_grid(
    xs: np.ndarray,
    ys: np.ndarray,
    totals: np.ndarray,
    x: tuple[str, list[Any]],
    y: tuple[str, list[Any]],
) -> tuple[np.ndarray, tuple[int, int] | None]:
    """:func:`_cell_grid` of combinations given as value indices: the max total R per
    (y, x) cell (NaN where none) and the best cell (highest; ties: the first)."""
    grid = np.full((len(y[1]), len(x[1])), np.nan)
    np.fmax.at(grid, (ys, xs), totals)
    if not len(totals):
        return grid, None
    at = int(np.argmax(totals))
    return grid, (int(ys[at]), int(xs[at]))


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
    best = combos[best_index(combos)]
    written = [
        equity_chart(
            chart_path(charts_dir, group_id, "equity"),
            group_id,
            symbol,
            best.get("metrics") or {},
            best_trades,
            account_size,
            best.get("params"),
        )
    ]
    heatmap = heatmap_chart(chart_path(charts_dir, group_id, "heatmap"), group_id, symbol, combos)
    return written + ([heatmap] if heatmap else [])
