"""The run options, described once.

:class:`RunOptions` is the table: each field carries its default and, in its
metadata, the command-line help, its choices and how it is spelled on a command line.
The runner's argparse parser (:func:`build_parser`), the invoke tasks' options and help
(``tasks/options.py``) and the farm's runner command all read this one table, so an
option's name, default and help cannot differ between the commands that take it.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from backtest.core.config import SPREAD_MODELS, SPREAD_SOURCES
from backtest.engines import ENGINES

PERIODS = ("in_sample", "control")


def _opt(default: Any = None, help: str = "", **meta: Any) -> Any:
    """A run option: its default, its help and how a command line spells it
    (``flag``: a switch; ``choices``; ``metavar``; ``optional_value``: ``--x`` alone
    means True; ``number``: parsed as float)."""
    return field(default=default, metadata={"help": help, **meta})


@dataclass
class RunOptions:
    """Everything a run takes; the command line's options one to one."""

    groups_file: str | Path = field(
        metadata={"help": "groups file (JSON, io-contract format)", "required": True}
    )
    data_file: str | Path | None = _opt(
        help="M1 bars (Parquet/CSV/MT5 export); default: the period's configured file, "
        "else built-in sample data"
    )
    start_date: str | None = _opt(help="first trading day, YYYY-MM-DD (default: the period's)")
    end_date: str | None = _opt(help="last trading day, YYYY-MM-DD (default: the period's)")
    workers: int | str = _opt("auto", help="worker processes, or 'auto' (default)")
    output_dir: str | Path | None = _opt(
        help="where results go (default: backtest/output/{groups file stem}_{period})"
    )
    skip_charts: bool = _opt(False, help="no PNG charts (the same as --charts none)", flag=True)
    # True or "all", "top:N" (best N of each group), False
    save_trades: bool | str = _opt(
        False,
        help="store the trades of every combination (or of the best N of each group, "
        "top:N) in results_full_{SYMBOL}.json",
        metavar="top:N",
        optional_value=True,
    )
    charts: str = _opt(
        "top:10",
        help="PNG equity and heatmap charts for the best N groups (default top:10), all or "
        "none; whole-run heatmaps unless none",
        metavar="top:N|all|none",
    )
    no_report: bool = _opt(
        False,
        help="do not write the HTML report OUT/report_{SYMBOL}.html at the end",
        flag=True,
    )
    save_daily: bool = _opt(
        False,
        help="keep every combination's compact trades in OUT/daily/ (walk-forward, robustness)",
        flag=True,
    )
    period: str = _opt("in_sample", help="configured period (default in_sample)", choices=PERIODS)
    risk: float | None = _opt(
        help="money risked per trade (default from config: 1000)", number=True
    )
    account_size: float | None = _opt(
        help="account size for the prop-firm view (default from config: 100000)", number=True
    )
    news_file: str | Path | None = _opt(
        help="news CSV (time, currency, impact); required when news_filter is on"
    )
    engine: str = _opt("fast", help="fast sweep kernel (default) or the emulator", choices=ENGINES)
    config: str | Path | None = _opt(
        help="YAML config overriding the defaults (symbols, periods, run)"
    )
    server_tz: str | None = _opt(
        help="time zone of an MT5 export's broker server time: an IANA zone "
        "(Europe/Athens) or broker:NY+7 (New York time + 7 h, GMT+2/+3 on US dates)"
    )
    drop_invalid: bool = _opt(
        False, help="drop invalid/duplicate bars instead of failing", flag=True
    )
    ignore_clock_check: bool = _opt(
        False,
        help="run even when the data's cash-open volatility jump is an hour or more away "
        "from the symbol's cash_opens (a wrong --server-tz; see README, Data formats)",
        flag=True,
    )
    fresh: bool = _opt(False, help="replace an existing checkpoint instead of resuming", flag=True)
    symbol: str | None = _opt(help="symbol of a bare-list groups file whose groups name none")
    strict_data: bool = _opt(
        False,
        help="refuse data that leaves more than 5 weekdays of the period uncovered "
        "(at either end or in a gap) instead of warning",
        flag=True,
    )
    max_combinations: int | str | None = _opt(
        help="most combinations (before constraints) one run may hold "
        "(default: run.max_combinations of the config, 10000000)"
    )
    spread_model: str | None = _opt(
        help="bid_ask: buys trigger and fill on the ask (bid + the bar's spread), as MT5's "
        "tester; cost: everything on the bid, the fixed spread charged once per trade "
        "(default: the symbol's spread_model in the config, bid_ask; ib-strategy.md section 8)",
        choices=SPREAD_MODELS,
    )
    spread_source: str | None = _opt(
        help="fixed: the symbol's spread on every bar; data: each bar's spread column "
        "(MT5 <SPREAD>, in units of spread_unit) (default: the config's, fixed)",
        choices=SPREAD_SOURCES,
    )
    slippage: float | None = _opt(
        help="price units that worsen every stop fill, the entry and a stop-loss exit "
        "(default: the symbol's slippage in the config, 0)",
        number=True,
    )
    # tls://HOST:PORT of a Dask cluster (else the local pool)
    scheduler: str | None = _opt(
        help="run the groups on this Dask cluster (fab cluster-up) instead of local workers",
        metavar="tls://HOST:PORT",
    )
    scheduler_file: str | Path | None = _opt(
        help="the same, by the cluster's scheduler file (fab cluster-up writes "
        ".cluster/scheduler.json)"
    )
    tls_dir: str | Path | None = _opt(
        help="the cluster's ca.pem, client.pem, client-key.pem (default: the scheduler "
        "file's folder, else .cluster)"
    )


# The options that change what a combination's trades are, beside the data and the
# groups: a re-run (control, trades, walk-forward's sweep) may override them.
EXECUTION_OPTIONS = ("spread_model", "spread_source", "slippage")


def option_fields(names: tuple[str, ...] | None = None) -> list[Field]:
    """The table's rows, all of them or ``names`` in that order."""
    rows = {f.name: f for f in fields(RunOptions)}
    return list(rows.values()) if names is None else [rows[n] for n in names]


def option_default(row: Field) -> Any:
    return None if row.default is MISSING else row.default


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: ...``) and exit code 2,
    like every other bad input; ``--help`` still shows the full usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The runner's command line, from the table."""
    parser = _OneLineParser(
        prog="python -m backtest.run_parallel_backtest",
        description="Run every group of a groups file over one period, in parallel; "
        "resumable (re-run on the same --output-dir).",
    )
    for row in option_fields():
        meta, kw = row.metadata, {"help": row.metadata["help"]}
        if meta.get("flag"):
            kw["action"] = "store_true"
        elif meta.get("optional_value"):
            kw.update(nargs="?", const=True, default=option_default(row))
        else:
            kw["default"] = option_default(row)
        if meta.get("required"):
            kw["required"] = True
        for key in ("choices", "metavar"):
            if key in meta:
                kw[key] = meta[key]
        if meta.get("number"):
            kw["type"] = float
        parser.add_argument(flag_of(row.name), **kw)
    return parser


def runner_arguments(values: dict[str, Any]) -> list[str]:
    """The runner's command-line words for ``values`` (option name -> value), in table
    order, leaving out switches that are off and values that are None: what the farm
    puts on each host's runner command line."""
    rows = {f.name: f for f in fields(RunOptions)}
    words: list[str] = []
    for name, value in values.items():
        row = rows[name]
        if value is None or value is False:
            continue
        if row.metadata.get("flag") or (row.metadata.get("optional_value") and value is True):
            words.append(flag_of(name))
        else:
            words += [flag_of(name), str(value)]
    return words
