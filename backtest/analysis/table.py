"""A run's combinations read column by column, for readers of runs of millions of them.

:func:`backtest.runner.outputs.read_results` with ``combos=True`` turns every
combination into Python dicts (about 4 KB each): unusable at 10^6 combinations.
:class:`RunTable` reads the compact results (``combos=False``) and gives the columns a
reader needs over the whole run (numpy arrays, Arrow tables), and ``{"params",
"metrics"}`` records only for the few rows a reader shows.

Rows are numbered in run order: the ok groups in results order, each group's
combinations in combination order (the order that breaks ties everywhere). A group's
rows come from where :func:`backtest.runner.rundir.group_rows` finds them, by its one
integrity rule: its inline ``combos`` (results_full up to the inline limit), its part
file (a run read from its checkpoint), or its row group of the committed
``results_combos_{SYMBOL}.parquet``; only the columns asked for are read, one group at a
time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from backtest.runner.outputs import combos_count, read_results
from backtest.runner.rundir import group_rows
from backtest.runner.store import METRIC_TYPES, PARAM_TYPES, combos_schema, pylist, table_records

if TYPE_CHECKING:
    from backtest.data.bars import Bars


@dataclass(frozen=True)
class RunInHand:
    """A run's results as the runner just committed them (``{"metadata", "groups"}``,
    results_full's metadata and the group records whose rows are in the committed table)
    and the bars it ran on (loaded from the recorded file, checksum verified): the report
    at the end of a run reads neither again (parsing and checking results_full with every
    combination inline, reloading the data file for the trades' re-run)."""

    results: dict[str, Any]
    bars: Bars | None = None

    def table(self, out_dir: Path, symbol: str) -> RunTable:
        """The run's combinations, read from the committed table as a reader asks."""
        return RunTable(out_dir, symbol, self.results)


class RunTable:
    """The ok groups' combinations of one run (``results`` as read with ``combos=False``)."""

    def __init__(self, out_dir: Path, symbol: str, results: dict[str, Any]) -> None:
        self.out_dir = Path(out_dir)
        self.symbol = symbol
        self.results = results
        self.groups = [g for g in results["groups"] if g.get("status") == "ok"]
        self.starts = np.cumsum([0, *(combos_count(g) for g in self.groups)], dtype=np.int64)
        self._by_id = {g["group_id"]: n for n, g in enumerate(self.groups)}

    @classmethod
    def read(cls, out_dir: Path, symbol: str, checkpoint_fallback: bool = True) -> RunTable:
        """The run in ``out_dir`` (its committed results, else its checkpoint if allowed)."""
        return cls(out_dir, symbol, read_results(Path(out_dir), symbol, checkpoint_fallback, False))

    def __len__(self) -> int:
        return int(self.starts[-1])

    def group_table(self, n: int, columns: Sequence[str]) -> pa.Table:
        """The ``columns`` of ok group ``n``'s rows, in combination order (read by the
        rule of :mod:`backtest.runner.rundir`: PartError naming the file if broken)."""
        return group_rows(self.out_dir, self.groups[n], columns, self.symbol)

    def columns(self, columns: Sequence[str]) -> pa.Table:
        """The ``columns`` of every row of the run, in run order."""
        tables = [self.group_table(n, columns) for n in range(len(self.groups))]
        return pa.concat_tables(tables) if tables else empty_table(columns)

    def frame(self, columns: Sequence[str]) -> pd.DataFrame:
        """:meth:`columns` as a DataFrame (nulls of number columns as NaN)."""
        return self.columns(columns).to_pandas()

    def values(self, name: str) -> np.ndarray:
        """One column of every row as float64 (flags as 0/1, nulls as NaN)."""
        column = self.columns([name]).column(0)
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)

    def take(self, rows: Sequence[int] | np.ndarray, columns: Sequence[str]) -> pa.Table:
        """The ``columns`` of ``rows`` (run-order indices), in the order given; only the
        groups holding them are read."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"rows outside 0..{len(self) - 1}")
        ordered = np.unique(rows)
        bounds = np.searchsorted(ordered, self.starts)
        pieces = []
        for n in range(len(self.groups)):
            lo, hi = bounds[n], bounds[n + 1]
            if lo < hi:
                local = ordered[lo:hi] - self.starts[n]
                pieces.append(self.group_table(n, columns).take(pa.array(local)))
        if not pieces:
            return empty_table(columns)
        return pa.concat_tables(pieces).take(pa.array(np.searchsorted(ordered, rows)))

    def locate(self, rows: Sequence[int] | np.ndarray) -> tuple[list[str], list[int]]:
        """The group id and combination index of each of ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        groups = np.searchsorted(self.starts, rows, side="right") - 1
        ids = [self.groups[int(g)]["group_id"] for g in groups]
        return ids, (rows - self.starts[groups]).tolist()

    def row(self, group_id: str, combo: int) -> int | None:
        """The run-order index of ``group_id``'s combination ``combo``; None if none."""
        n = self._by_id.get(group_id)
        if n is None or not 0 <= combo < self.starts[n + 1] - self.starts[n]:
            return None
        return int(self.starts[n] + combo)

    def records(self, rows: Sequence[int] | np.ndarray) -> list[dict[str, Any]]:
        """``{"group_id", "combo", "params", "metrics"[, "trades"]}`` of each of ``rows``:
        the inline record itself where results_full holds it, else from the table (with
        the group's saved trades of that combination, ``--save-trades``)."""
        rows = np.asarray(rows, dtype=np.int64)
        ids, combos = self.locate(rows)
        compact = [i for i, gid in enumerate(ids) if "combos" not in self.group(gid)]
        hydrated = table_records(self.take(rows[compact], [*PARAM_TYPES, *METRIC_TYPES]))
        from_table = dict(zip(compact, hydrated))
        out = []
        for i, (gid, combo) in enumerate(zip(ids, combos)):
            group = self.group(gid)
            if i in from_table:
                record = from_table[i]
                saved = {int(k): v for k, v in (group.get("trades") or {}).items()}
                if combo in saved:
                    record["trades"] = saved[combo]
            else:
                record = group["combos"][combo]
            out.append({"group_id": gid, "combo": combo, **record})
        return out

    def group(self, group_id: str) -> dict[str, Any]:
        """The ok group record ``group_id`` (KeyError when there is none)."""
        return self.groups[self._by_id[group_id]]


class ParamRows(Sequence[dict[str, Any]]):
    """Each row's parameters as a dict, made when asked for (by index or while iterating)
    from the parameter columns: a run's million combinations are not a million dicts."""

    CHUNK = 10_000  # rows turned into dicts at once while iterating

    def __init__(self, table: pa.Table) -> None:
        self._table = table.select(list(PARAM_TYPES))

    def __len__(self) -> int:
        return self._table.num_rows

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"row {index} outside 0..{len(self) - 1}")
        return param_dicts(self._table.slice(index % len(self), 1))[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for at in range(0, len(self), self.CHUNK):
            yield from param_dicts(self._table.slice(at, self.CHUNK))


def param_dicts(table: pa.Table) -> list[dict[str, Any]]:
    """The parameters of each row of ``table`` (as :func:`table_records` gives them)."""
    columns = [pylist(table.column(name)) for name in PARAM_TYPES]
    return [dict(zip(PARAM_TYPES, values)) for values in zip(*columns)]


def empty_table(columns: Sequence[str]) -> pa.Table:
    """No rows, the results schema's types for ``columns``."""
    schema = combos_schema()
    return pa.schema([schema.field(name) for name in columns]).empty_table()
