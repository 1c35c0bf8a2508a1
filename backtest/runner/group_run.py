"""One group, in a worker: its combinations expanded, run and scored in batches.

The group's combinations arrive as an iterator (:func:`backtest.runner.groups.iter_group`)
and are consumed ``SCORE_BATCH`` at a time: each batch is run by the chosen engine, scored
in compiled code (:func:`backtest.engines.run.score_batch`) and turned into the batch's
rows of the group's part file (:mod:`backtest.runner.store`, :mod:`backtest.runner.rundir`),
which is written as the batches come, or held and given back whole for the runner's process
to write (a cluster's group; a local one when :func:`backtest.runner.pool.rows_to_parent`
says so). What outlives a batch is only the raw trades of the
combinations whose trades are kept (``--save-trades``, the best one for the charts), with
``--save-daily`` the compact trades and, given back, its rows (a local worker's at most
:data:`backtest.runner.pool.ROWS_BACK`): a group written here does not grow in memory with
its size beyond that. The record that reaches the checkpoint is small (:func:`group_outcome`).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.engines.run import score_batch
from backtest.runner import rundir, store
from backtest.strategy.daily import CompactTrades, concat_compact
from backtest.strategy.metrics_nb import metrics_dict
from backtest.strategy.trades import trade_records

# Combinations run and scored together (bounds a worker's memory of trades).
SCORE_BATCH = 2048


def json_ready(value: Any) -> Any:
    """numpy scalars to Python, tuples to lists, non-finite floats to null."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Outcome:
    """A finished group: its record (small), the best combination's trade records (for
    charts), its compact trades and, when no part file was written, its rows."""

    record: dict[str, Any]
    best_trades: list[dict[str, Any]]
    compact: CompactTrades
    tables: list[pa.Table] = field(default_factory=list)


@dataclass
class _Best:
    """The best ``keep`` combinations seen so far by ``total_r`` (ties: lower index)."""

    keep: int
    total_r: dict[int, float] = field(default_factory=dict)
    trades: dict[int, np.ndarray] = field(default_factory=dict)
    records: dict[int, dict[str, Any]] = field(default_factory=dict)

    def offer(self, start: int, totals: np.ndarray) -> list[int]:
        """Take the batch's candidates; the batch indices (from 0) of those now held."""
        take = np.argsort(-totals, kind="stable")[: self.keep]
        for j in take.tolist():
            self.total_r[start + j] = float(totals[j])
        order = sorted(self.total_r, key=lambda i: (-self.total_r[i], i))
        drop = order[self.keep :]
        for i in drop:
            self.total_r.pop(i)
            self.trades.pop(i, None)
            self.records.pop(i, None)
        return [j for j in take.tolist() if start + j in self.total_r]


def group_outcome(
    bars: Bars,
    group_id: str,
    combos: Iterable[dict[str, Any]],
    settings: RunSettings,
    engine: str,
    save_trades: bool | int,
    best_trades: bool = True,
    out_dir: Path | None = None,
    keep_compact: bool = True,
) -> Outcome:
    """Run a group's ``combos`` (an iterator is consumed batch by batch).

    With ``out_dir`` the rows go to the group's part file there as they are scored and
    the record names it (``part``) and holds its parameters' digest (``params_sha256``);
    else they are returned (``Outcome.tables``: :func:`finish_remote` writes the part and
    makes the digest from them where they arrive). The record holds ``combos_count``,
    ``best``, ``best_combo`` (params, metrics) and, with ``--save-trades``, ``trades`` by
    combination index. The group's compact trades are
    kept only with ``keep_compact`` (``--save-daily``): a group of 100,000 combinations
    holds about 800 MB of them.
    """
    started = time.perf_counter()
    want = _trades_wanted(save_trades, best_trades)
    # the trades' excursions only where trades are kept: compact (--save-daily) or saved
    # (--save-trades); charts read prices, not excursions
    excursions = keep_compact or bool(save_trades)
    best = _Best(max(want, 1))
    digest = store.ParamsDigest() if out_dir is not None else None
    parts: list[CompactTrades] = []
    count = 0

    def tables() -> Iterator[pa.Table]:
        nonlocal count
        for batch in _batches(combos, SCORE_BATCH):
            scored = score_batch(bars, batch, settings, engine, excursions=excursions)
            columns = store.param_columns(batch)  # for the digest and the table alike
            if digest is not None:
                digest.update_columns(columns)
            if keep_compact:
                parts.append(scored.compact)
            for j in best.offer(count, scored.metrics["total_r"]):
                best.trades[count + j] = scored.trades[j]
                best.records[count + j] = {
                    "params": json_ready(batch[j]),
                    "metrics": json_ready(metrics_dict(scored.metrics, j)),
                }
            yield store.batch_table(group_id, count, batch, scored.metrics, columns)
            count += len(batch)

    kept: list[pa.Table] = []
    part = rundir.write_part(out_dir, group_id, tables()) if out_dir is not None else None
    if part is None:
        kept = list(tables())
    if count == 0:
        raise ValueError(f"group {group_id}: no combinations to run")
    order = sorted(best.total_r, key=lambda i: (-best.total_r[i], i))
    top = order[0]
    record: dict[str, Any] = {
        "group_id": group_id,
        "status": "ok",
        "elapsed_s": round(time.perf_counter() - started, 3),
        "combos_count": count,
        "best": top,
        "best_combo": best.records[top],
    }
    if digest is not None:
        record["params_sha256"] = digest.hexdigest()
    if part is not None:
        record["part"] = part
    saved = order if save_trades is True else order[: int(save_trades or 0)]
    if saved:
        record["trades"] = {str(i): trade_records(best.trades[i], bars) for i in sorted(saved)}
    chart_trades = trade_records(best.trades[top], bars) if best_trades else []
    return Outcome(record, chart_trades, concat_compact(parts), kept)


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _trades_wanted(save_trades: bool | int, best_trades: bool) -> int:
    """How many combinations' raw trades a group must hold: all (``--save-trades``), the
    best N, and at least the best one when its charts are drawn."""
    if save_trades is True:
        return 1 << 62
    return max(int(save_trades or 0), 1 if best_trades else 0)


def run_group(
    bars: Bars,
    group_id: str,
    combos: Iterable[dict[str, Any]],
    settings: RunSettings,
    engine: str,
    save_trades: bool | int,
    out_dir: Path,
    save_daily: bool = False,
    rows_back: bool = False,
) -> tuple[dict[str, Any], list[pa.Table]]:
    """A group run in a local worker: the record for the checkpoint and, with
    ``rows_back``, the group's rows for the runner's process to write (:func:`finish_remote`,
    as a cluster's group); else its part is written here to ``OUT/parts``, durably, and
    the rows are ``[]``. With ``save_daily`` its compact trades go to ``OUT/daily``."""
    outcome = group_outcome(
        bars,
        group_id,
        combos,
        settings,
        engine,
        save_trades,
        False,
        None if rows_back else out_dir,
        save_daily,
    )
    if save_daily:
        rundir.write_daily(
            rundir.daily_path(out_dir, group_id), outcome.compact, bars.trading_days()
        )
    return outcome.record, outcome.tables


def finish_remote(
    out_dir: Path, outcome_record: dict[str, Any], tables: list[pa.Table]
) -> dict[str, Any]:
    """A group's rows given back (a cluster worker's, or a local one's), in the runner's
    process: its part written here, the record naming it and holding its parameters'
    digest, made from the rows (:func:`backtest.runner.store.table_digest`, the same
    digest as :class:`~backtest.runner.store.ParamsDigest` of its combinations)."""
    part = rundir.write_part(out_dir, outcome_record["group_id"], tables)
    digest = store.table_digest(pa.concat_tables(tables))
    return {**outcome_record, "params_sha256": digest, "part": part}
