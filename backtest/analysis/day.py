"""One day of one combination, drawn (``invoke day``): MT5's "visual mode" after the fact.

The combination is re-run with the run's recorded data and settings
(:func:`backtest.analysis.rerun.rerun`: the data file checked by its sha256, the recorded
costs and execution model, risk, news file, engine), and the chosen trading day is drawn
in the symbol's session time zone: its M1 candles (bid), the IB window shaded and the IB
box (IBL..IBH), both entry levels the combination's ``direction`` allows (``entry_buffer``
beyond the IB), each entry and exit, each trade's SL and TP, the news blocks when
``news_filter`` is on, and in the ``bid_ask`` execution model the ask band (each bar's low
and high + its spread, :meth:`backtest.data.bars.Bars.bar_spread`: the engine's ask lows
and highs).

The day's IB, levels and distances are not recomputed here: they are the fast engine's own
day tables (:class:`backtest.engines.sweep.SweepData`: ``window`` runs
:func:`backtest.engines.kernel_nb.ib_window_nb`, ``distance`` the spec's
``dist(m) = floor(m × IB + 0.5)``), built on the day's bars; the levels are ``IBH + dist``
and ``IBL - dist`` as the kernel forms them.

Two files per (group, combination, date), under stable names (:func:`day_paths`):
``OUT/days/{group}_combo{K}_{YYYY-MM-DD}.png`` (matplotlib, Agg) and ``.html`` (plotly,
inlined, offline, under the report's Content-Security-Policy). From the report (which sits
in OUT) the page is ``days/{group}_combo{K}_{YYYY-MM-DD}.html`` (:func:`day_link`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.analysis.rerun import (
    Rerun,
    RerunError,
    pick,
    recorded_bars,
    recorded_settings,
    rerun,
)
from backtest.analysis.table import RunTable
from backtest.core.config import load_config
from backtest.data.bars import Bars, day_date, day_number
from backtest.strategy.params import TIME_PARAMS, compile_params
from backtest.strategy.risk_manager import lot_size
from backtest.strategy.trades import trade_records

DAYS_DIR = "days"
TEMPLATE = "day.html.j2"
SCRIPT = "day.js"
STYLE = "day.css"
MARGIN_MIN = 30  # minutes shown before ib_start and after close_time in the PNG
PNG_SIZE_IN = (18.0, 9.0)  # 1800 × 900 px at the charts' 100 dpi
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class DayError(ValueError):
    """A day that cannot be drawn; the message names the option and says why."""


def day_stem(group_id: str, combo: int, date: dt.date) -> str:
    """``{group}_combo{K}_{YYYY-MM-DD}``: the stable name of one drawn day."""
    return f"{group_id}_combo{combo}_{date.isoformat()}"


def day_paths(out_dir: Path, group_id: str, combo: int, date: dt.date) -> dict[str, Path]:
    """``OUT/days/{stem}.png`` and ``.html`` (:func:`day_stem`)."""
    stem = Path(out_dir) / DAYS_DIR / day_stem(group_id, combo, date)
    return {"png": stem.with_suffix(".png"), "html": stem.with_suffix(".html")}


def day_link(group_id: str, combo: int, date: dt.date | str) -> str:
    """The day page relative to the report (``OUT/report_{SYMBOL}.html``): what a link
    from a trade of the report points to (the page exists once ``invoke day`` wrote it)."""
    when = date if isinstance(date, dt.date) else parse_date(date)
    return f"{DAYS_DIR}/{day_stem(group_id, combo, when)}.html"


def day_command(out_dir: Path, group_id: str, combo: int, date: dt.date | str) -> str:
    """The command that writes the day's files."""
    return f"invoke day --from {out_dir} --group {group_id} --combo {combo} --date {date}"


def parse_date(text: str) -> dt.date:
    """``--date`` as a calendar date (``YYYY-MM-DD``)."""
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise DayError(f"--date {text!r}: not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class DayView:
    """Everything one drawn day shows. Times are the session time zone's wall clock
    (``YYYY-MM-DD HH:MM``), prices in price units (points × point, the symbol's digits)."""

    symbol: str
    timezone: str
    group_id: str
    combo: int
    date: dt.date
    params: dict[str, Any]
    spread_model: str
    times: list[str]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    ask_low: np.ndarray | None  # bid_ask only: each bar's low + its spread
    ask_high: np.ndarray | None
    window: dict[str, str]  # ib_start, ib_end, trade_end, close_time on this date
    ib: dict[str, Any] | None  # high, low, size, first (first IB bar), end (ib_end)
    levels: dict[str, float | None]  # long (buy stop L), short (sell stop S)
    trades: list[dict[str, Any]]
    news: list[dict[str, str]]
    note: str | None  # why the day has no trade, when it has none
    data: dict[str, Any]  # source path, checksum, sample flag, first/last bar (UTC), bars
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """JSON-ready, for the page."""

        def prices(values: np.ndarray | None) -> list[float] | None:
            return None if values is None else [float(v) for v in values]

        return {
            "symbol": self.symbol,
            "timezone": self.timezone,
            "group_id": self.group_id,
            "combo": self.combo,
            "date": self.date.isoformat(),
            "weekday": WEEKDAYS[self.date.weekday()],
            "params": self.params,
            "params_text": [f"{k}={_label(v)}" for k, v in self.params.items()],
            "spread_model": self.spread_model,
            "times": self.times,
            "open": prices(self.open),
            "high": prices(self.high),
            "low": prices(self.low),
            "close": prices(self.close),
            "ask_low": prices(self.ask_low),
            "ask_high": prices(self.ask_high),
            "window": self.window,
            "ib": self.ib,
            "levels": self.levels,
            "trades": self.trades,
            "news": self.news,
            "note": self.note,
            "data": self.data,
            "differences": {k: list(v) for k, v in self.differences.items()},
            "frame": list(frame(self)),
        }


def _label(value: Any) -> str:
    """A parameter value as the charts write it (``0.5``, ``09:00``, ``[0, 1, 2]``, ``true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _local(time_ns: np.ndarray, zone: str) -> list[str]:
    """UTC ns as the session zone's wall clock, ``YYYY-MM-DD HH:MM``."""
    index = pd.DatetimeIndex(np.asarray(time_ns, dtype="datetime64[ns]"), tz="UTC")
    return [str(t) for t in index.tz_convert(zone).strftime("%Y-%m-%d %H:%M")]


def _day_slice(bars: Bars, date: dt.date, meta: dict[str, Any]) -> slice:
    """The bars of trading day ``date``; DayError naming the nearest trading days when
    there are none (a weekend, a holiday, a gap in the data)."""
    number = day_number(date)
    lo = int(np.searchsorted(bars.day, number, side="left"))
    hi = int(np.searchsorted(bars.day, number, side="right"))
    if lo < hi:
        return slice(lo, hi)
    before = day_date(int(bars.day[lo - 1])).isoformat() if lo > 0 else None
    after = day_date(int(bars.day[lo])).isoformat() if lo < len(bars) else None
    near = ", ".join(f"{w} {d}" for w, d in (("before:", before), ("after:", after)) if d)
    raise DayError(
        f"--date {date}: no bars on that trading day ({WEEKDAYS[date.weekday()]}) in "
        f"{meta.get('data_file') or 'the run data'}; nearest trading days {near or 'none'}"
    )


def _engine_day(bars: Bars, params: dict[str, Any]) -> dict[str, Any]:
    """The day's IB, walk start and distances from the fast engine's own day tables
    (``bars`` is one trading day)."""
    from backtest.engines.sweep import SweepData

    data = SweepData(bars)
    cp = compile_params(params, bars.symbol)
    window = data.window(cp)
    rows = data.windows.rows
    distance = data.dist.table
    return {
        "cp": cp,
        "has_ib": bool(rows["has_ib"][window][0]),
        "ib_high": int(rows["ib_high"][window][0]),
        "ib_low": int(rows["ib_low"][window][0]),
        "walk_start": int(rows["walk_start"][window][0]),
        "buffer": int(distance[data.distance(window, cp.entry_buffer)][0]),
        "stop": int(distance[data.distance(window, cp.sl_mult)][0]),
        # the ask path's lows and highs the buy stop and a short's exits trigger on
        "ask_low": np.asarray(data.ask_low),
        "ask_high": np.asarray(data.ask_high),
    }


def _why_no_trade(day: Bars, engine: dict[str, Any], params: dict[str, Any], risk: float) -> str:
    """Why a day without a trade had none (the engine's day conditions, spec 3.1-3.2)."""
    cp = engine["cp"]
    if not cp.weekday_mask[int(day.weekday[0])]:
        return f"weekday not traded (weekdays {params['weekdays']}, 0 = Monday)"
    if not engine["has_ib"]:
        return f"no bar in the IB window {params['ib_start']}..{params['ib_end']}"
    ib = engine["ib_high"] - engine["ib_low"]
    price = day.symbol.point
    if ib <= 0:
        return "the IB is 0 points"
    if ib < cp.min_ib or (cp.max_ib > 0 and ib > cp.max_ib):
        return (
            f"IB {ib * price:g} outside min_ib {params['min_ib']} .. max_ib "
            f"{params['max_ib'] or 'none'}"
        )
    if engine["stop"] < 1:
        return "the stop distance rounds to less than 1 point"
    if lot_size(engine["stop"], day.symbol, risk) == 0.0:
        return "lots below volume_min: skipped at the first level reached"
    return "no entry level reached in the entry window (or the news filter blocked it)"


def _news_blocks(
    day: Bars, params: dict[str, Any], events_ns: np.ndarray, zone: str
) -> list[dict[str, str]]:
    """The news blocks ``[event - news_before, event + news_after]`` that overlap the day,
    when the combination filters news."""
    if not params.get("news_filter") or len(events_ns) == 0:
        return []
    cp = compile_params(params, day.symbol)
    first, last = int(day.time_ns[0]), int(day.time_ns[-1])
    events = np.asarray(events_ns, dtype=np.int64)
    near = events[(events - cp.news_before_ns <= last) & (events + cp.news_after_ns >= first)]
    starts = _local(near - cp.news_before_ns, zone)
    ends = _local(near + cp.news_after_ns, zone)
    return [
        {"event": e, "start": s, "end": x}
        for e, s, x in zip(_local(near, zone), starts, ends, strict=True)
    ]


def _trades_of_day(again: Rerun, bars: Bars, number: int, zone: str) -> list[dict[str, Any]]:
    """The re-run's trades entered on trading day ``number`` (trades never span days),
    with their entry/exit times on the session clock."""
    trades = again.result.trades
    mine = trades[bars.day[trades["entry_bar"]] == number]
    records = trade_records(mine, bars)
    entries = _local(bars.time_ns[mine["entry_bar"]], zone)
    exits = _local(bars.time_ns[mine["exit_bar"]], zone)
    out = []
    for n, (record, entry, exit_) in enumerate(zip(records, entries, exits, strict=True), 1):
        out.append({"trade": n, "entry_local": entry, "exit_local": exit_, **record})
    return out


def day_view(
    out_dir: Path,
    symbol: str,
    group_id: str,
    combo: int,
    date: dt.date | str,
    cfg: dict[str, Any] | None = None,
) -> DayView:
    """Re-run combination ``combo`` of ``group_id`` from the run in ``out_dir`` as
    recorded and gather what its trading day ``date`` shows. Errors (DayError,
    RerunError, both ValueError) name the option: a group or combination the run does
    not have, a date that is not one, outside the run's period or without bars, a data
    file gone or changed."""
    cfg = cfg or load_config()
    when = date if isinstance(date, dt.date) else parse_date(date)
    table = RunTable.read(Path(out_dir), symbol)
    meta = table.results["metadata"]
    chosen = pick(table, group_id, combo)  # the cheap checks first: no data loaded yet
    start, end = str(meta["start_date"]), str(meta["end_date"])
    if not start <= when.isoformat() <= end:
        raise DayError(f"--date {when}: outside the run's period {start}..{end}")
    bars = recorded_bars(meta, cfg)
    piece = _day_slice(bars, when, meta)
    (again,), _ = rerun(Path(out_dir), symbol, [(group_id, combo)], cfg=cfg, bars=bars, table=table)
    spec = bars.symbol
    zone = spec.timezone
    day = bars.take(piece)
    params = chosen.params
    engine = _engine_day(day, params)
    cp = engine["cp"]
    price = day.price
    ib = None
    levels: dict[str, float | None] = {"long": None, "short": None}
    if engine["has_ib"]:
        in_ib = np.flatnonzero(day.minute[: engine["walk_start"]] >= cp.ib_start)
        ib = {
            "high": float(price(engine["ib_high"])),
            "low": float(price(engine["ib_low"])),
            "size": float(price(engine["ib_high"] - engine["ib_low"])),
            "first": _local(day.time_ns[in_ib[:1]], zone)[0],
            "last": _local(day.time_ns[in_ib[-1:]], zone)[0],
            "bars": int(len(in_ib)),
        }
        if cp.allow_long:  # L = IBH + dist(entry_buffer), S = IBL - dist(entry_buffer)
            levels["long"] = float(price(engine["ib_high"] + engine["buffer"]))
        if cp.allow_short:
            levels["short"] = float(price(engine["ib_low"] - engine["buffer"]))
    ask_low = ask_high = None
    if spec.bid_ask:  # each bar's low and high + its spread (Bars.bar_spread)
        ask_low, ask_high = price(engine["ask_low"]), price(engine["ask_high"])
    settings = recorded_settings(meta, [chosen], spec)
    trades = _trades_of_day(again, bars, day_number(when), zone)
    data = meta.get("data") if isinstance(meta.get("data"), dict) else {}
    first_utc = pd.Timestamp(int(day.time_ns[0]), tz="UTC").isoformat()
    last_utc = pd.Timestamp(int(day.time_ns[-1]), tz="UTC").isoformat()
    return DayView(
        symbol=symbol,
        timezone=zone,
        group_id=group_id,
        combo=combo,
        date=when,
        params=params,
        spread_model=spec.spread_model,
        times=_local(day.time_ns, zone),
        open=price(day.open),
        high=price(day.high),
        low=price(day.low),
        close=price(day.close),
        ask_low=ask_low,
        ask_high=ask_high,
        window={k: f"{when.isoformat()} {params[k]}" for k in TIME_PARAMS},
        ib=ib,
        levels=levels,
        trades=trades,
        news=_news_blocks(day, params, settings.news_ns, zone),
        note=None if trades else _why_no_trade(day, engine, params, settings.risk),
        data={
            "path": data.get("path") or meta.get("data_file"),
            "checksum": meta.get("data_checksum"),
            "sample": data.get("source") == "sample",
            "bars": len(day),
            "first_bar_utc": first_utc,
            "last_bar_utc": last_utc,
        },
        differences=again.differences,
    )


# --- the PNG -----------------------------------------------------------------------------


def frame(view: DayView) -> tuple[str, str, float, float]:
    """What both drawings show at first: from ``ib_start`` - 30 min to ``close_time`` +
    30 min (within the day's bars), and the prices of the bars there with the levels, the
    ask band and the trades' SL/TP: ``(x0, x1, y0, y1)``."""
    step = pd.Timedelta(minutes=MARGIN_MIN)
    times = pd.to_datetime(view.times)
    x0 = max(times[0], pd.Timestamp(view.window["ib_start"]) - step)
    x1 = min(times[-1] + pd.Timedelta(minutes=1), pd.Timestamp(view.window["close_time"]) + step)
    if x1 <= x0:
        x0, x1 = times[0], times[-1] + pd.Timedelta(minutes=1)
    shown = np.asarray((times >= x0) & (times <= x1))
    if not shown.any():
        shown[:] = True
    values = [float(view.high[shown].max()), float(view.low[shown].min())]
    if view.ask_high is not None:
        values.append(float(view.ask_high[shown].max()))
    values += [v for v in view.levels.values() if v is not None]
    values += [t[k] for t in view.trades for k in ("sl", "tp") if t[k] is not None]
    pad = max((max(values) - min(values)) * 0.04, 1e-6)
    return (
        x0.strftime("%Y-%m-%d %H:%M"),
        x1.strftime("%Y-%m-%d %H:%M"),
        min(values) - pad,
        max(values) + pad,
    )


def _png_summary(view: DayView) -> dict[str, Any]:
    """What the PNG was drawn from, stored in its ``ibsweep`` text chunk (so a reader can
    check the bars, the IB and the trades it shows)."""
    return {
        "symbol": view.symbol,
        "group_id": view.group_id,
        "combo": view.combo,
        "date": view.date.isoformat(),
        "timezone": view.timezone,
        "bars": len(view.times),
        "first_bar": view.times[0],
        "last_bar": view.times[-1],
        "high": float(view.high.max()),
        "low": float(view.low.min()),
        "ib": view.ib,
        "levels": view.levels,
        "entries": [[t["entry_local"], t["entry_price"]] for t in view.trades],
        "exits": [[t["exit_local"], t["exit_price"]] for t in view.trades],
        "news_blocks": len(view.news),
        "ask_band": view.ask_high is not None,
    }


def day_png(view: DayView, path: Path) -> Path:
    """The day as a PNG (1800 × 900 px): candles from ``ib_start`` - 30 min to
    ``close_time`` + 30 min (the day's other bars are outside the axes), the IB window and
    box, the levels, the trades with their SL and TP, the news blocks and the ask band."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from backtest.runner.charts import DPI, params_text, save_png

    x = mdates.date2num(pd.to_datetime(view.times).to_pydatetime())
    minute = 1.0 / 1440.0

    def at(text: str) -> float:
        return float(mdates.date2num(pd.Timestamp(text).to_pydatetime()))

    fig = Figure(figsize=PNG_SIZE_IN, dpi=DPI, layout=None)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.06, right=0.985, top=0.88, bottom=0.07)
    title = (
        f"{view.symbol} {view.date} ({WEEKDAYS[view.date.weekday()]}) · {view.group_id} combo "
        f"{view.combo} · {len(view.trades)} trade(s) · times {view.timezone} · "
        f"{view.spread_model}"
    )
    fig.suptitle(title, fontsize=12)
    fig.text(0.5, 0.935, params_text(view.params, 220), ha="center", va="top", fontsize=8.5)
    window = {k: at(v) for k, v in view.window.items()}
    ax.axvspan(window["ib_start"], window["ib_end"], color="#fff3c4", zorder=0, label="IB window")
    ax.axvspan(
        window["ib_end"], window["trade_end"], color="#eef6ff", zorder=0, label="entry window"
    )
    for n, block in enumerate(view.news):
        ax.axvspan(
            at(block["start"]),
            at(block["end"]),
            color="#ffcc80",
            alpha=0.5,
            zorder=0.5,
            label="_nolegend_" if n else "news block",
        )
    if view.ask_high is not None and view.ask_low is not None:
        ax.fill_between(
            x,
            view.ask_low,
            view.ask_high,
            step="mid",
            color="#90caf9",
            alpha=0.45,
            linewidth=0,
            zorder=1,
            label="ask (low..high + spread)",
        )
    rising = view.close >= view.open
    colours = np.where(rising, "#2e7d32", "#c62828")
    ax.vlines(x, view.low, view.high, colors=colours.tolist(), linewidth=0.6, zorder=2)
    bottom = np.minimum(view.open, view.close)
    height = np.maximum(np.abs(view.close - view.open), 1e-9)
    ax.bar(x, height, bottom=bottom, width=0.7 * minute, color=colours, linewidth=0, zorder=3)
    if view.ib is not None:
        box = Rectangle(
            (at(view.ib["first"]), view.ib["low"]),
            window["ib_end"] - at(view.ib["first"]),
            view.ib["size"],
            fill=False,
            edgecolor="#6d4c41",
            linewidth=1.8,
            zorder=4,
            label=f"IB {view.ib['size']} (IBL {view.ib['low']} .. IBH {view.ib['high']})",
        )
        ax.add_patch(box)
        for level in (view.ib["high"], view.ib["low"]):
            ax.hlines(level, window["ib_end"], window["close_time"], colors="#6d4c41", lw=0.8)
    for side, colour in (("long", "#1565c0"), ("short", "#ad1457")):
        level = view.levels[side]
        if level is not None:
            name = "buy stop L" if side == "long" else "sell stop S"
            ax.hlines(
                level,
                window["ib_end"],
                window["trade_end"],
                colors=colour,
                linestyles="dashed",
                lw=1.2,
                zorder=4,
                label=f"{name} {level}",
            )
    for n, trade in enumerate(view.trades):
        x0, x1 = at(trade["entry_local"]), at(trade["exit_local"])
        first = n == 0  # one legend entry for each kind
        for key, colour in (("sl", "#d32f2f"), ("tp", "#388e3c")):  # a trade may have no TP
            if trade[key] is not None:
                label = key.upper() if first else "_nolegend_"
                ax.hlines(trade[key], x0, x1, colors=colour, lw=1.6, zorder=5, label=label)
        up = trade["direction"] == "long"
        ax.plot(
            x0,
            trade["entry_price"],
            "^" if up else "v",
            ms=11,
            color="black",
            zorder=6,
            label="entry (fill)" if first else "_nolegend_",
        )
        ax.plot(
            x1,
            trade["exit_price"],
            "X",
            ms=10,
            color="#ff6f00",
            zorder=6,
            label="exit" if first else "_nolegend_",
        )
        ax.annotate(
            f"#{trade['trade']} {trade['direction']} {trade['r']:+.2f} R ({trade['exit_reason']})",
            (x1, trade["exit_price"]),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=9,
        )
    if view.note:
        ax.text(0.01, 0.97, f"no trade: {view.note}", transform=ax.transAxes, va="top", fontsize=10)
    left, right, bottom_y, top_y = frame(view)
    ax.set_xlim(at(left), at(right))
    ax.set_ylim(bottom_y, top_y)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.xaxis.set_major_locator(mdates.MinuteLocator(byminute=[0, 30]))
    ax.set_xlabel(f"time ({view.timezone}, session clock)")
    ax.set_ylabel(f"{view.symbol} bid")
    ax.grid(True, alpha=0.25)
    ax.legend(loc="upper right", fontsize=8.5)
    return save_png(fig, Path(path), {"ibsweep": json.dumps(_png_summary(view))})


# --- the page ----------------------------------------------------------------------------


def day_html(view: DayView) -> str:
    """The day as one offline page: plotly.js inlined, the report's policy (nothing is
    fetched; only the page's own script and style elements run, by their sha256)."""
    from backtest.analysis.pages import render_page

    payload = view.payload()
    return render_page(TEMPLATE, SCRIPT, [STYLE], payload, v=payload)


def write_day(out_dir: Path, view: DayView) -> dict[str, Path]:
    """The day's PNG and page into ``OUT/days/`` (atomically); their paths."""
    from backtest.core.atomic import atomic_write_text

    paths = day_paths(out_dir, view.group_id, view.combo, view.date)
    paths["png"].parent.mkdir(parents=True, exist_ok=True)
    day_png(view, paths["png"])
    atomic_write_text(paths["html"], day_html(view))
    return paths


__all__ = [
    "DAYS_DIR",
    "DayError",
    "DayView",
    "RerunError",
    "day_command",
    "day_html",
    "day_link",
    "day_paths",
    "day_png",
    "day_stem",
    "day_view",
    "parse_date",
    "write_day",
]
