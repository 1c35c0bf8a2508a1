"""A committed run of any size, written fast with pyarrow: random combinations of a grid
with random metrics (nulls, ties and runs without trades included) in the results schema
(:func:`backtest.runner.store.combos_schema`), one row group per group, and the
results_full, summary, failed and manifest files a committed run has. For the report's
size bound and the DuckDB readers at 10^6 and 10^7 rows (bench/report_size.py too)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.data.loaders import file_checksum
from backtest.runner.outputs import (
    FORMAT_VERSION,
    MANIFEST_VERSION,
    manifest_path,
    result_paths,
)
from backtest.runner.store import METRIC_TYPES, PARAM_TYPES, combos_schema, table_records

SYMBOL = "GER40"
GROUP_ROWS = 50_000  # rows per group (one row group each)
GRID = {
    "ib_start": ["08:00", "08:15", "08:30", "09:00"],
    "ib_end": ["09:00", "09:30", "10:00", "10:30", "11:00"],
    "trade_end": ["15:00", "16:00", "17:00"],
    "close_time": ["21:00"],
    "direction": ["both", "long", "short"],
    "entry_buffer": [round(0.05 * k, 2) for k in range(10)],
    "sl_mult": [round(0.25 + 0.05 * k, 2) for k in range(30)],
    "tp_mult": [round(0.5 + 0.1 * k, 2) for k in range(30)],
    "min_ib": [0.0, 10.0, 20.0],
    "max_ib": [200.0, 400.0],
    "max_trades_per_day": [1, 2],
    "weekdays": [[0, 1, 2, 3, 4], [0, 1, 2, 3]],
    "news_filter": [False, True],
    "news_before": [30],
    "news_after": [30],
}
METADATA = {
    "symbol": SYMBOL,
    "period": "in_sample",
    "start_date": "2023-01-01",
    "end_date": "2025-10-31",
    "code_version": "synthetic",
    "data": {"source": "file", "path": "synthetic.parquet", "checksum": "0" * 64},
    "risk": 1000.0,
    "account_size": 100000.0,
    "daily_loss_limit_pct": 5.0,
    "max_loss_limit_pct": 10.0,
}


def group_table(gid: str, start: int, n: int, rng: np.random.Generator) -> pa.Table:
    """``n`` random combinations of :data:`GRID` with random metrics, as group ``gid``."""
    columns: dict[str, pa.Array] = {
        "group_id": pa.array(np.full(n, gid, dtype=object), pa.string()),
        "combo": pa.array(np.arange(n, dtype=np.int64)),
    }
    for name, kind in PARAM_TYPES.items():
        values = GRID[name]
        picks = rng.integers(0, len(values), n)
        columns[name] = pa.array(values, kind).take(pa.array(picks))
    trades = rng.integers(0, 400, n)
    trades[rng.random(n) < 0.02] = 0
    total = np.round(rng.normal(0, 20, n), 1)  # rounded: ties
    for name, kind in METRIC_TYPES.items():
        if name == "trades":
            values = trades
        elif name == "total_r":
            values = np.where(trades > 0, total, 0.0)
        elif kind == pa.bool_():
            values = rng.random(n) < 0.5
        elif kind == pa.int64():
            values = rng.integers(0, 20, n)
        else:
            values = np.round(rng.normal(1, 1, n), 3)
            values[rng.random(n) < 0.03] = np.nan  # null where the spec says so
        columns[name] = pa.array(values, kind, from_pandas=True)
    return pa.table(columns, schema=combos_schema())


def write_big_run(out: Path, rows: int, seed: int = 0, group_rows: int = GROUP_ROWS) -> Path:
    """A committed run of ``rows`` combinations in ``out`` (groups of ``group_rows``)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = result_paths(out, SYMBOL)
    groups = []
    with pq.ParquetWriter(paths["parquet"], combos_schema(), compression="zstd") as writer:
        for n, start in enumerate(range(0, rows, group_rows)):
            gid = f"g{n:05d}"
            table = group_table(gid, start, min(group_rows, rows - start), rng)
            writer.write_table(table, row_group_size=table.num_rows)
            totals = table.column("total_r").to_numpy(zero_copy_only=False)
            best = int(np.argmax(totals))
            groups.append(
                {
                    "group_id": gid,
                    "status": "ok",
                    "elapsed_s": 1.0,
                    "combos_count": table.num_rows,
                    "best": best,
                    "best_combo": table_records(table.slice(best, 1))[0],
                }
            )
    head = {"format_version": FORMAT_VERSION, **METADATA, "combos_inline": False}
    head["combos_total"] = rows
    full = {"metadata": head, "groups": groups}
    paths["full"].write_text(json.dumps(full, allow_nan=False) + "\n")
    paths["summary"].write_text("group_id,total_r\n")  # not read by the readers tested
    paths["combos"].write_text("group_id,combo\n")
    paths["failed"].write_text(json.dumps({"symbol": SYMBOL, "groups": []}) + "\n")
    files = {
        kind: {"name": p.name, "size": p.stat().st_size, "sha256": file_checksum(p)}
        for kind, p in paths.items()
    }
    manifest = {"manifest_version": MANIFEST_VERSION, "symbol": SYMBOL, "files": files}
    manifest_path(out, SYMBOL).write_text(json.dumps(manifest) + "\n")
    return out
