"""One combination of a finished run, again: its trades with the run's recorded data
and settings (``invoke trades``, and the HTML report's trade lists).

Everything comes from ``results_full``'s metadata: the data file (refused when it is
gone or its sha256 is not the recorded checksum), the period's dates, ``server_tz`` and
``drop_invalid``, the symbol's costs as they were (``symbol_settings``), risk, account,
prop limits, news file and engine. The re-run's metrics are then compared with the
recorded ones: equal, key by key, or the difference is reported.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.analysis.panel import settings_of
from backtest.analysis.table import RunTable
from backtest.core.checksum import file_checksum
from backtest.core.config import SymbolSpec, load_config, symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars, day_date
from backtest.data.loaders import load_bars
from backtest.data.server_tz import NEW_YORK, broker_offset_hours
from backtest.engines.run import ComboResult, run_combos
from backtest.runner.group_run import json_ready
from backtest.runner.outputs import combos_count
from backtest.strategy.trades import trade_records, trade_values

# A broker server clock when neither --server-tz nor the run names one: New York time
# + 7 h, the GMT+2 / GMT+3 (US daylight-saving dates) clock of most MT5 servers.
DEFAULT_BROKER_TZ = "broker:NY+7"
MONTHS = tuple(calendar.month_abbr[1:])


class RerunError(ValueError):
    """A combination that cannot be re-run as recorded; the message says why."""


@dataclass(frozen=True)
class Pick:
    """One combination of a run, by group id and index in its group."""

    group_id: str
    combo: int
    params: dict[str, Any]
    metrics: dict[str, Any]


@dataclass(frozen=True)
class Rerun:
    """A re-run combination: its result on ``bars``, the metrics it differs in, and its
    trade records (made when first asked for: a reader of its trades as columns,
    :func:`trade_columns`, never needs them)."""

    pick: Pick
    result: ComboResult
    bars: Bars
    differences: dict[str, tuple[Any, Any]]  # metric -> (recorded, re-run)

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        """The trade records (spec section 7, :func:`trade_records`)."""
        return trade_records(self.result.trades, self.bars)


def pick(table: RunTable, group_id: str, combo: int) -> Pick:
    """The combination ``combo`` of group ``group_id`` of the run; RerunError naming the
    option (``--group``, ``--combo``) when there is none. Only that row is read."""
    return picks(table, [(group_id, combo)])[0]


def picks(table: RunTable, wanted: list[tuple[str, int]]) -> list[Pick]:
    """:func:`pick` of each ``(group_id, combo)``, their rows read together (each group
    holding some once)."""
    groups = {g["group_id"]: g for g in table.results["groups"]}
    rows = [_row(table, groups, group_id, combo) for group_id, combo in wanted]
    return [
        Pick(group_id, combo, record["params"], record["metrics"])
        for (group_id, combo), record in zip(wanted, table.records(rows))
    ]


def _row(table: RunTable, groups: dict[str, Any], group_id: str, combo: int) -> int:
    """The run-order row of ``group_id``'s ``combo`` (``groups``: the run's group records by
    id, ok or not); RerunError naming the option if none."""
    if group_id not in groups:
        known = ", ".join(list(groups)[:5]) + (", ..." if len(groups) > 5 else "")
        raise RerunError(f"--group {group_id}: not in the results (groups: {known})")
    group = groups[group_id]
    if group.get("status") != "ok":
        raise RerunError(f"--group {group_id}: the group failed ({group.get('error')})")
    count = combos_count(group)
    if not 0 <= combo < count:
        raise RerunError(
            f"--combo {combo}: group {group_id} has {count} combinations (0..{count - 1})"
        )
    row = table.row(group_id, combo)
    assert row is not None, "the combination index was checked above"
    return row


def recorded_spec(meta: dict[str, Any], cfg: dict[str, Any]) -> SymbolSpec:
    """The symbol as the run saw it: ``metadata.symbol_settings`` (costs and execution
    model included; a run recorded before spec section 8 reads as the ``cost`` model),
    else the configured symbol (results written before the settings were recorded)."""
    saved = meta.get("symbol_settings")
    if not isinstance(saved, dict):
        return symbol_spec(meta["symbol"], cfg)
    return SymbolSpec.from_dict(meta["symbol"], saved)


def recorded_bars(meta: dict[str, Any], cfg: dict[str, Any]) -> Bars:
    """The period's bars from the run's data file, after checking it is the same file."""
    data = meta.get("data")
    named = (data.get("path") if isinstance(data, dict) else None) or meta.get("data_file")
    if not named:
        raise RerunError("the results name no data file (metadata.data_file)")
    path = Path(named)
    if not path.is_file():
        raise RerunError(f"{path}: the run's data file is gone; nothing can be re-run")
    checksum = file_checksum(path)
    if checksum != meta.get("data_checksum"):
        raise RerunError(
            f"{path}: sha256 {checksum[:16]} is not the run's {str(meta.get('data_checksum'))[:16]}"
            ": the file changed since the run; nothing can be re-run"
        )
    bars = load_bars(
        path, recorded_spec(meta, cfg), meta.get("server_tz"), bool(meta.get("drop_invalid"))
    )
    return bars.between(meta["start_date"], meta["end_date"])


def recorded_settings(meta: dict[str, Any], picks: list[Pick], symbol: SymbolSpec) -> RunSettings:
    """Risk, account and limits as recorded, with the news events when a pick uses them."""
    settings = settings_of(meta)
    if not any(p.params.get("news_filter") for p in picks):
        return settings
    from backtest.data.news import event_times, load_news

    news = meta.get("news_file")
    if not news or not Path(news).is_file():
        raise RerunError(f"{news}: the run's news file is gone (news_filter is on)")
    return replace(settings, news_ns=event_times(load_news(news), symbol.currencies))


def differences(recorded: dict[str, Any], metrics: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The metrics whose re-run value is not exactly the recorded one (as JSON values)."""
    again = json.loads(json.dumps(json_ready(metrics)))
    keys = list(dict.fromkeys([*recorded, *again]))
    return {k: (recorded.get(k), again.get(k)) for k in keys if recorded.get(k) != again.get(k)}


def rerun(
    out_dir: Path,
    symbol: str,
    wanted: list[tuple[str, int]],
    engine: str | None = None,
    cfg: dict[str, Any] | None = None,
    bars: Bars | None = None,
    table: RunTable | None = None,
) -> tuple[list[Rerun], Bars]:
    """Re-run ``wanted`` (group id, combination) of the run in ``out_dir`` with its
    recorded data and settings (``engine``: the recorded one unless given; ``table``:
    the run's combinations when already read)."""
    table = table or RunTable.read(Path(out_dir), symbol)
    return rerun_picks(table, picks(table, wanted), engine, cfg, bars)


def rerun_picks(
    table: RunTable,
    chosen: list[Pick],
    engine: str | None = None,
    cfg: dict[str, Any] | None = None,
    bars: Bars | None = None,
) -> tuple[list[Rerun], Bars]:
    """:func:`rerun` of combinations of ``table`` already read (``chosen``)."""
    cfg = cfg or load_config()
    meta = table.results["metadata"]
    spec = recorded_spec(meta, cfg)
    settings = recorded_settings(meta, chosen, spec)
    bars = bars if bars is not None else recorded_bars(meta, cfg)
    done = run_combos(
        bars, [p.params for p in chosen], settings, engine or meta.get("engine") or "fast"
    )
    return [
        Rerun(p, r, bars, differences(p.metrics, r.metrics)) for p, r in zip(chosen, done)
    ], bars


def server_times(utc_ns: np.ndarray, server_tz: str) -> list[str]:
    """UTC ns as the broker server's wall clock (``2024-03-04T11:12:00``, no offset, as
    MT5 shows it); ``server_tz`` is an IANA zone or ``broker:NY+H``."""
    hours = broker_offset_hours(server_tz)
    zone = NEW_YORK if hours is not None else server_tz
    local = pd.DatetimeIndex(np.asarray(utc_ns, dtype="datetime64[ns]"), tz="UTC").tz_convert(zone)
    wall = local.tz_localize(None) + pd.Timedelta(hours=hours or 0)
    return [t.isoformat() for t in wall]


def trades_csv(again: Rerun, bars: Bars, server_tz: str) -> str:
    """The trades as CSV: UTC and broker times, then the spec's trade fields and each
    trade's maximum adverse and favourable excursion (``mae``, ``mfe``, price units)."""
    trades = again.result.trades
    entry_b = server_times(bars.time_ns[trades["entry_bar"]], server_tz)
    exit_b = server_times(bars.time_ns[trades["exit_bar"]], server_tz)
    days = trade_values(trades, bars)["day"]
    fields = [
        "entry_price",
        "exit_price",
        "sl",
        "tp",
        "lots",
        "r",
        "pnl_money",
        "exit_reason",
        "mae",
        "mfe",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "trade",
            "trading_day",
            "entry_time_utc",
            "exit_time_utc",
            "entry_time_broker",
            "exit_time_broker",
            "broker_tz",
            "direction",
            *fields,
        ]
    )
    for n, (rec, day, e_b, x_b) in enumerate(zip(again.records, days, entry_b, exit_b), start=1):
        writer.writerow(
            [
                n,
                day_date(int(day)).isoformat(),
                rec["entry_time"],
                rec["exit_time"],
                e_b,
                x_b,
                server_tz,
                rec["direction"],
                *("" if rec[f] is None else rec[f] for f in fields),
            ]
        )
    return buffer.getvalue()


def monthly_r(again: Rerun, bars: Bars) -> pd.DataFrame:
    """Sum of R per month (rows: years, columns Jan..Dec and the total), by each trade's
    trading day; months without a trade are 0."""
    values = trade_values(again.result.trades, bars)
    dates = pd.to_datetime([day_date(int(d)) for d in values["day"]])
    frame = pd.DataFrame({"year": dates.year, "month": dates.month, "r": values["r"]})
    years = range(int(day_date(int(bars.day[0])).year), int(day_date(int(bars.day[-1])).year) + 1)
    table = frame.pivot_table(index="year", columns="month", values="r", aggfunc="sum")
    table = table.reindex(index=list(years), columns=range(1, 13)).fillna(0.0)
    first, last = day_date(int(bars.day[0])), day_date(int(bars.day[-1]))
    for year in years:  # months outside the period are empty, not 0
        for month in range(1, 13):
            if (year, month) < (first.year, first.month) or (year, month) > (last.year, last.month):
                table.loc[year, month] = np.nan
    table.columns = list(MONTHS)
    table["total"] = table.sum(axis=1)
    table.index.name = "year"
    return table


TRADES_DIR = "trades"


def combo_paths(out_dir: Path, group_id: str, combo: int, tag: str = "") -> dict[str, Path]:
    """``OUT/trades/{group}_combo{K}[_{tag}]_{trades.csv, equity.png, monthly.csv}``
    (``tag``: the execution settings of a re-run that overrides the recorded ones)."""
    stem = Path(out_dir) / TRADES_DIR / f"{group_id}_combo{combo}{'_' + tag if tag else ''}"
    return {
        "trades": Path(f"{stem}_trades.csv"),
        "equity": Path(f"{stem}_equity.png"),
        "monthly": Path(f"{stem}_monthly.csv"),
    }


def execution_tag(spec: SymbolSpec, recorded: SymbolSpec) -> str:
    """``""`` when ``spec`` executes as the run recorded, else a file-name tag of its
    execution settings (``cost-fixed-slip0.5``)."""
    if spec.execution() == recorded.execution():
        return ""
    return f"{spec.spread_model}-{spec.spread_source}-slip{spec.slippage:g}"


def write_combo_files(
    out_dir: Path,
    symbol: str,
    again: Rerun,
    bars: Bars,
    server_tz: str,
    account_size: float,
    tag: str = "",
) -> dict[str, Path]:
    """The re-run combination's trades CSV, equity PNG and monthly R table into OUT/trades/."""
    from backtest.core.atomic import atomic_write_text
    from backtest.runner.charts import equity_chart

    paths = combo_paths(out_dir, again.pick.group_id, again.pick.combo, tag)
    paths["trades"].parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(paths["trades"], trades_csv(again, bars, server_tz))
    monthly = monthly_r(again, bars).round(4) + 0.0
    atomic_write_text(paths["monthly"], monthly.to_csv())
    equity_chart(
        paths["equity"],
        f"{again.pick.group_id} combo {again.pick.combo}",
        symbol,
        json_ready(again.result.metrics),
        again.records,
        account_size,
        again.pick.params,
    )
    return paths
