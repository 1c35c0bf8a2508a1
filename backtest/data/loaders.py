"""Market data in: Parquet, CSV or MetaTrader 5 exports, validated, as :class:`Bars`.

Spec section 1: a bar is valid when ``low <= min(open, close)``,
``high >= max(open, close)`` and all four prices are finite and positive.
Invalid rows, duplicate timestamps and unsorted input are errors naming the
file and the first bad row, or (``drop_invalid=True``) are dropped and counted.

The file's ``spread`` column (MT5: ``<SPREAD>``) is kept; with ``spread_source:
data`` a missing, negative or non-finite spread makes its row invalid (spec
section 8.1). Files that are not M1 bars (times off the whole minute, a median
spacing other than 60 s) and files of more than ``max_rows`` rows are refused
whatever ``drop_invalid`` says.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.core.checksum import file_checksum
from backtest.core.config import (
    DEFAULTS,
    MAX_DATA_ROWS,
    MAX_PRICE_POINTS,
    SYMBOL_SAMPLE_KEYS,
    SymbolSpec,
    period,
    symbol_spec,
)
from backtest.data.bars import Bars, bars_from_arrays
from backtest.data.clock import check_clock
from backtest.data.coverage import spread_unit_doubt
from backtest.data.files import DataError, Log, say
from backtest.data.readers import is_mt5_export, read_raw
from backtest.data.sample import _sample_dir, ensure_sample
from backtest.data.server_tz import check_server_tz
from backtest.data.validate import check_m1, spread_column, validated

# Most rows one data file may hold (``run.max_data_rows``; it bounds what a mistaken or
# hostile file costs in memory).
MAX_ROWS = MAX_DATA_ROWS


def load_bars(
    path: str | Path,
    symbol: SymbolSpec,
    server_tz: str | None = None,
    drop_invalid: bool = False,
    log: Log = None,
    max_rows: int = MAX_ROWS,
) -> Bars:
    """Read, validate and convert one data file to :class:`Bars` (integer points).

    Parquet and CSV: ``time`` (UTC when naive, offsets honoured) and
    ``open/high/low/close`` (+ optional ``tick_volume``, ``spread``). A
    MetaTrader 5 export (detected by its ``<DATE>`` header) is in broker server
    time and needs ``server_tz`` (daylight saving:
    :func:`backtest.data.server_tz.server_to_utc`). The spread column is kept and
    checked as ``symbol.spread_source`` needs it
    (:func:`backtest.data.validate.spread_column`); a file of more than ``max_rows``
    rows, or not M1 bars (:func:`backtest.data.validate.check_m1`), is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    if server_tz is not None:
        check_server_tz(server_tz, f"{path}: server_tz")
    raw = read_raw(path, server_tz, log, max_rows)
    check_m1(raw, path)
    max_price = MAX_PRICE_POINTS * symbol.point
    spread = spread_column(raw, path, symbol, max_price, log)
    time_ns, columns = validated(raw, path, drop_invalid, log, max_price, spread)
    bars = bars_from_arrays(time_ns, columns, symbol, str(path), file_checksum(path))
    if symbol.spread_source == "data" and (doubt := spread_unit_doubt(bars)):
        say(log, f"{path}: {doubt}", logging.WARNING)
    return bars


def resolve_data_file(
    symbol: str,
    period_name: str,
    data_file: str | None,
    cfg: dict[str, Any] | None = None,
    log: Log = None,
) -> tuple[Path, bool]:
    """The data file to use and whether it is built-in sample data.

    An explicit ``data_file`` must exist. Without one: the period's configured
    file, or where that does not exist, the built-in sample data (generated on
    first use, cached under ``run.sample_dir``), said on the log.
    """
    cfg = cfg or DEFAULTS
    if data_file:
        path = Path(data_file)
        if not path.is_file():
            raise DataError(f"{path}: data file not found")
        return path, _sample_dir(cfg).resolve() in path.resolve().parents
    configured = period(period_name, cfg).data_path(symbol)
    if configured.is_file():
        return configured, False
    symbol_spec(symbol, cfg)
    lacking = [k for k in SYMBOL_SAMPLE_KEYS[:2] if k not in cfg["symbols"][symbol]]
    if lacking:
        raise DataError(
            f"{configured}: data file not found, and {symbol} has no built-in sample data "
            f"(symbols.{symbol} has no {' or '.join(lacking)}); give --data-file"
        )
    sample = ensure_sample(symbol, period_name, cfg)
    say(
        log,
        f"no data file {configured} for {symbol} ({period_name}): "
        f"using built-in sample data {sample}",
    )
    return sample, True


def load_period_bars(
    symbol: str,
    period_name: str,
    data_file: str | None = None,
    cfg: dict[str, Any] | None = None,
    server_tz: str | None = None,
    drop_invalid: bool = False,
    log: Log = None,
    clock: str | None = None,
) -> Bars:
    """:func:`resolve_data_file` + :func:`load_bars`: the whole file (slice with ``between``),
    with the symbol's settings of ``cfg`` (its ``spread_source`` decides how the spread
    column is checked) and at most ``run.max_data_rows`` rows (default :data:`MAX_ROWS`).

    ``clock`` ``refuse`` or ``warn``: the whole file's clock is checked from its cash
    opens (:func:`backtest.data.clock.check_clock`): a wrong one is a DataError, or
    (``warn``, ``--ignore-clock-check``) a warning; None: not checked."""
    cfg = cfg or DEFAULTS
    path, sample = resolve_data_file(symbol, period_name, data_file, cfg, log)
    max_rows = int(cfg["run"]["max_data_rows"])
    bars = load_bars(path, symbol_spec(symbol, cfg), server_tz, drop_invalid, log, max_rows)
    if clock is not None:
        check_clock(bars, cfg, server_tz, is_mt5_export(path), clock, log)
    return replace(bars, sample=sample)


def utc_text(ns: int) -> str:
    """UTC nanoseconds as ISO 8601 with offset (``2025-03-04T09:12:00+00:00``)."""
    return pd.Timestamp(int(ns), tz="UTC").isoformat()


def data_provenance(bars: Bars) -> dict[str, Any]:
    """Where a run's bars came from (io-contract ``metadata.data``): ``source``
    (``file`` or ``sample``), ``path``, ``checksum`` (sha256 of the file), ``bars``
    and the ``first_bar`` / ``last_bar`` open times of ``bars`` (the period's slice)."""
    return {
        "source": "sample" if bars.sample else "file",
        "path": bars.source,
        "checksum": bars.checksum,
        "bars": len(bars),
        "first_bar": utc_text(bars.time_ns[0]) if len(bars) else None,
        "last_bar": utc_text(bars.time_ns[-1]) if len(bars) else None,
    }
