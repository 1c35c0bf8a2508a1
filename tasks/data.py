"""invoke tasks (data): built-in sample data and checking a user's data file."""

from __future__ import annotations

import pandas as pd
from invoke import task

from backtest.core.config import ConfigError, config_path, load_config, symbol_names, symbol_spec
from backtest.core.config import period as period_of
from backtest.data.bars import Bars
from backtest.data.clock import check_clock
from backtest.data.coverage import spread_profile
from backtest.data.files import DataError
from backtest.data.loaders import MAX_ROWS, load_bars
from backtest.data.readers import is_mt5_export
from backtest.data.sample import ensure_sample, ensure_sample_news, news_sample_path, sample_path
from backtest.data.server_tz import check_server_tz
from backtest.runner.options import option_fields
from tasks.edge import error


def _utc(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").strftime("%Y-%m-%d %H:%M UTC")


def _summary(bars: Bars) -> str:
    return (
        f"{len(bars):,} bars, {_utc(bars.time_ns[0])} .. {_utc(bars.time_ns[-1])}, "
        f"{len(bars.trading_days())} trading days"
    )


def _verb(path) -> str:
    return "reused" if path.exists() else "wrote"


@task(
    auto_shortflags=False,
    help={
        "symbol": "symbol to generate (default: every configured symbol)",
        "period": "configured period, in_sample or control (default: both)",
        "seed": "random seed (default: run.sample_seed of the config, 42)",
        "config": "YAML config file merged over the defaults",
    },
)
def sample_data(c, symbol=None, period=None, seed=None, config=None):
    """Write the built-in sample bars (Parquet) and sample news (CSV), or reuse them."""
    try:
        cfg = load_config(config)
        seed = int(cfg["run"]["sample_seed"] if seed is None else seed)
        for name_of_period in [period] if period else list(cfg["periods"]):
            span = period_of(name_of_period, cfg)
            for name in [symbol] if symbol else symbol_names(cfg):
                verb = _verb(sample_path(name, span.start_date, span.end_date, seed, cfg))
                path = ensure_sample(name, name_of_period, cfg, seed)
                bars = load_bars(path, symbol_spec(name, cfg))
                print(f"{name} {name_of_period}: {verb} {path} ({_summary(bars)})")
            verb = _verb(news_sample_path(span.start_date, span.end_date, seed, cfg))
            news = ensure_sample_news(name_of_period, cfg, seed)
            print(f"news {name_of_period}: {verb} {news} ({len(pd.read_csv(news))} events)")
    except (ConfigError, DataError, ValueError) as exc:
        raise error(exc) from None


def _number(text: str | None, option: str, kind: type[int] | type[float]) -> float | None:
    """An option's text as ``kind`` (None stays None); else a ConfigError of one line."""
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{option}: {text!r} is not {what}") from None


@task(
    auto_shortflags=False,
    help={
        "file": "data file to check (Parquet, CSV or MetaTrader 5 export)",
        "symbol": "symbol of the data, e.g. GER40",
        "server_tz": "broker server time zone of an MT5 export: an IANA zone (Europe/Athens) or "
        "broker:NY+7 (New York time + 7 h, GMT+2/+3 on the US daylight-saving dates); "
        "default: the symbol's server_tz in the config",
        "drop_invalid": "drop invalid / duplicate rows and sort, instead of failing",
        "ignore_clock_check": option_fields(("ignore_clock_check",))[0].metadata["help"]
        + " (check-data then warns and exits 0)",
        "spread_source": "fixed (default: the config's) or data: every row must then carry "
        "a spread >= 0 (ib-strategy.md section 8.1)",
        "spread_unit": "price of one unit of the file's spread column (default: the config's, "
        "else the symbol's point)",
        "max_rows": f"most rows the file may hold (default: run.max_data_rows, {MAX_ROWS:,})",
        "config": "YAML config file merged over the defaults",
    },
)
def check_data(
    c,
    file,
    symbol,
    server_tz=None,
    drop_invalid=False,
    spread_source=None,
    spread_unit=None,
    max_rows=None,
    config=None,
    ignore_clock_check=False,
):
    """Validate a market-data file and show its clock and spread.

    A summary line; the cash open measured from the bars (exit 2 when the clock is an
    hour or more off, as a run); the spread's distribution, overall and by local hour,
    and a warning when spread_unit looks wrong."""
    try:
        cfg = load_config(config)
        configured_tz = cfg["symbols"].get(symbol, {}).get("server_tz")
        if server_tz is None and configured_tz is not None:
            where = f"{config_path(config) or 'config'}: symbols.{symbol}.server_tz"
            server_tz = check_server_tz(configured_tz, where)
        spec = symbol_spec(symbol, cfg).with_execution(
            {
                "spread_source": spread_source,
                "spread_unit": _number(spread_unit, "--spread-unit", float),
            },
            "check-data option",
        )
        rows = _number(max_rows, "--max-rows", int)
        if rows is None:
            rows = cfg["run"]["max_data_rows"]
        elif rows < 1:
            raise ConfigError(f"--max-rows: {max_rows} must be >= 1")
        bars = load_bars(file, spec, server_tz, drop_invalid, log=print, max_rows=int(rows))
    except (ConfigError, DataError) as exc:
        raise error(exc) from None
    print(f"{file}: OK, {symbol}, {_summary(bars)}, sha256 {bars.checksum[:12]}")
    # Measured first, said in check-data's own words (a wrong clock ends it below).
    clock = check_clock(bars, cfg, server_tz, is_mt5_export(file), "warn", lambda text: None)
    print(clock.summary())
    if clock.wrong and ignore_clock_check:
        print(f"WARNING: {clock.problem()}: ignored (--ignore-clock-check)")
    if better := clock.better():
        print(f"WARNING: {better}")
    profile = spread_profile(bars)
    print("\n".join(profile.lines()))
    if profile.doubt and spec.spread_source != "data":  # with data, the loader said it
        print(f"WARNING: {profile.doubt}")
    if clock.wrong and not ignore_clock_check:
        raise error(f"{file}: {clock.problem()}")
