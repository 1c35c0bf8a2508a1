"""A run's folder, ``OUT``: the name of every file and folder a run writes, where a
group's rows are and the one rule by which they are read, and the compact daily trades.

The layout (docs/io-contract.md)::

    results_summary_{SYMBOL}.csv       results_combos_{SYMBOL}.csv / .parquet
    results_full_{SYMBOL}.json         failed_groups_{SYMBOL}.json
    results_manifest_{SYMBOL}.json     written last: it commits the five files above
    checkpoint.jsonl                   the finished groups' records (runner.checkpoint)
    parts/{group_id}.parquet           a finished group's rows until the table holds them
    daily/{group_id}.npz               its compact trades (--save-daily)
    charts/                            PNG charts (runner.charts)
    report_{SYMBOL}.html               the HTML report (analysis.report)
    run.log, .lock                     the run's log; held while a run writes the folder

Every writer and reader names these files through this module.

**Where a group's rows are** (:func:`group_rows`): an ok group record holds its
combinations inline (``combos``: results_full up to the inline limit), or in its part
file (``part.file``: until the run commits its table), or in a row group of the run's
table ``results_combos_{SYMBOL}.parquet`` (``part.table``: a checkpoint record folded
into it; or no ``part`` at all: a results_full record of a committed run). **The one
integrity rule**, which every reader goes through: a part file is read only when its
sha256 is its record's; a table's row group is found by its group id (the ``group_id``
column) and read only when it has the record's row count and, where the record carries
it (checkpoint records), its parameters' digest (``params_sha256``, over the rows as
stored); no file is read through a symbolic link. A committed table is moreover the file
its manifest commits (sha256, :func:`backtest.runner.outputs.commit_problem`), checked
before a run's results are read. A group whose rows break the rule raises
:class:`PartError`, one line naming the group and the file. Rows of an older results
format (:data:`FORMAT_VERSION`) are given in today's column types (widened exactly).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backtest.core.atomic import atomic_write, fsync_dir
from backtest.core.checksum import file_checksum
from backtest.runner.reading import ResultsError, open_regular

if TYPE_CHECKING:  # imported where used: the names above are read by light tools too
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from backtest.strategy.daily import CompactTrades

PARTS_DIR = "parts"
DAILY_DIR = "daily"
CHARTS_DIR = "charts"
CHECKPOINT_FILE = "checkpoint.jsonl"
RUN_LOG = "run.log"
LOCK_FILE = ".lock"
FULL_PREFIX = "results_full_"
TABLE_PREFIX = "results_combos_"
MANIFEST_PREFIX = "results_manifest_"
MANIFEST_GLOB = f"{MANIFEST_PREFIX}*.json"
# The results format, recorded in every checkpoint header and results_full's metadata
# (``format_version``). 2: ``news_before``/``news_after`` are float64 columns (fractional
# minutes). 1 (no ``format_version`` in a checkpoint): they were int64, whole minutes; its
# tables are still read, widened exactly (:data:`backtest.runner.store.LEGACY_TYPES`), but
# its checkpoint is not resumed (:meth:`backtest.runner.checkpoint.Checkpoint.open`).
FORMAT_VERSION = 2


class PartError(ResultsError):
    """A group's rows that are missing or are not the ones its record names."""


def result_paths(out_dir: Path, symbol: str) -> dict[str, Path]:
    """Where each io-contract file of ``symbol`` lives in ``out_dir``."""
    out_dir = Path(out_dir)
    return {
        "summary": out_dir / f"results_summary_{symbol}.csv",
        "combos": out_dir / f"{TABLE_PREFIX}{symbol}.csv",
        "parquet": out_dir / f"{TABLE_PREFIX}{symbol}.parquet",
        "full": out_dir / f"{FULL_PREFIX}{symbol}.json",
        "failed": out_dir / f"failed_groups_{symbol}.json",
    }


def manifest_path(out_dir: Path, symbol: str) -> Path:
    """``results_manifest_{symbol}.json``: written last, it commits the result files."""
    return Path(out_dir) / f"{MANIFEST_PREFIX}{symbol}.json"


def manifest_symbol(path: Path) -> str:
    """The symbol of a ``results_manifest_{SYMBOL}.json`` (:data:`MANIFEST_GLOB`)."""
    return Path(path).name[len(MANIFEST_PREFIX) : -len(".json")]


def report_path(out_dir: Path, symbol: str) -> Path:
    """``OUT/report_{symbol}.html``."""
    return Path(out_dir) / f"report_{symbol}.html"


def group_file(folder: Path, group_id: str, suffix: str) -> Path:
    """``folder/{group_id}{suffix}``; PartError when the id would name another folder."""
    if Path(group_id).name != group_id or group_id in {".", ".."}:
        raise PartError(f"group_id {group_id!r} cannot name a file in {folder}")
    return Path(folder) / f"{group_id}{suffix}"


def part_path(out_dir: Path, group_id: str) -> Path:
    """``OUT/parts/{group_id}.parquet``."""
    return group_file(Path(out_dir) / PARTS_DIR, group_id, ".parquet")


def daily_path(out_dir: Path, group_id: str) -> Path:
    """``OUT/daily/{group_id}.npz``: the group's compact trades (``--save-daily``)."""
    return group_file(Path(out_dir) / DAILY_DIR, group_id, ".npz")


def write_part(out_dir: Path, group_id: str, tables: Iterable[pa.Table]) -> dict[str, Any]:
    """Write a group's rows (one row group per table, as they come) to its part file,
    atomically and durably (temp file, fsync, rename, fsync of the folder); what its
    checkpoint record keeps: ``{"file", "rows", "sha256"}``."""
    import pyarrow.parquet as pq

    from backtest.runner.store import combos_schema

    target = part_path(out_dir, group_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{group_id}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    rows = 0
    try:
        with pq.ParquetWriter(tmp, combos_schema(), compression="zstd") as writer:
            for table in tables:
                writer.write_table(table)
                rows += table.num_rows
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # as every other result file (mkstemp made it 0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return {"file": f"{PARTS_DIR}/{target.name}", "rows": rows, "sha256": file_checksum(target)}


def folded(record: dict[str, Any], table_name: str) -> dict[str, Any]:
    """The record once its rows are in the run's committed table ``table_name`` (its part
    file is then deleted: the data is never held twice)."""
    return {**record, "part": {"table": table_name, "rows": record["combos_count"]}}


class _Broken(Exception):
    """Why a record's rows break the rule (the reason, without the group)."""


def part_problem(out_dir: Path, record: dict[str, Any], symbol: str | None = None) -> str | None:
    """Why an ok record's rows are not usable by the rule of this module; None if they
    are. ``symbol``: the run's, for a record of its committed results (no ``part``)."""
    import pyarrow as pa

    if "combos" in record:
        return None
    try:
        _source(Path(out_dir), record, symbol)
    except _Broken as exc:
        return str(exc)
    except (OSError, pa.ArrowException) as exc:
        return f"its rows in {out_dir} are not readable: {' '.join(str(exc).split())}"
    return None


def group_rows(
    out_dir: Path,
    record: dict[str, Any],
    columns: Sequence[str] | None = None,
    symbol: str | None = None,
) -> pa.Table:
    """An ok group's rows (the ``columns`` asked for, else all), in combination order:
    from its inline ``combos``, its part file or its row group of the run's table
    (``symbol``: the run's, for a record of its committed results), by the rule of this
    module; PartError naming the group and the file if they break it."""
    import pyarrow as pa

    from backtest.runner.store import records_table, widened

    gid = record.get("group_id")
    if "combos" in record:
        table = records_table(str(gid), record["combos"])
        return table if columns is None else table.select(list(columns))
    wanted = None if columns is None else list(columns)
    path: Path | None = None
    try:
        path, table_file, row_group = _source(Path(out_dir), record, symbol)
        if row_group is None:
            table = table_file.read(columns=wanted)
        else:
            table = table_file.read_row_group(row_group, columns=wanted)
        if table.num_rows != record.get("combos_count"):
            raise _Broken(f"{path} has {table.num_rows} rows, its record {record['combos_count']}")
    except _Broken as exc:
        raise PartError(f"group {gid}: {exc}") from None
    except (OSError, pa.ArrowException) as exc:
        raise PartError(f"group {gid}: {path or out_dir} is not readable: {exc}") from None
    return widened(table)  # an older format's rows in today's types (after the digest check)


def _source(
    out_dir: Path, record: dict[str, Any], symbol: str | None
) -> tuple[Path, pq.ParquetFile, int | None]:
    """The file holding an ok record's rows, opened, and its row group there (None: the
    whole file, a part), after the checks of the rule; _Broken with the reason if not."""
    gid = str(record.get("group_id"))
    part = record.get("part")
    if isinstance(part, dict) and isinstance(part.get("file"), str):
        path = out_dir / part["file"]
        if Path(part["file"]).parent != Path(PARTS_DIR) or path.name != f"{gid}.parquet":
            raise _Broken(f"its part file {part['file']!r} is not {PARTS_DIR}/{gid}.parquet")
        _regular(path)
        if _checksum(path) != part.get("sha256"):
            raise _Broken(f"{path} is not the file its record commits (sha256 differs)")
        table_file = _open(path)
        if table_file.metadata.num_rows != part.get("rows"):
            raise _Broken(
                f"{path} has {table_file.metadata.num_rows} rows, its record {part.get('rows')}"
            )
        return path, table_file, None
    if isinstance(part, dict) and isinstance(part.get("table"), str):
        name = part["table"]
        if Path(name).name != name or not name.startswith(TABLE_PREFIX):
            raise _Broken(f"{name!r} is not a results table of {out_dir}")
        path = out_dir / name
    elif part is None and symbol is not None:
        path = result_paths(out_dir, symbol)["parquet"]
    else:
        raise _Broken("its record names no part file")
    _regular(path)
    table_file, index, verified = _table_index(path)
    row_group = index.get(gid)
    if row_group is None:
        raise _Broken(f"{path} does not hold it")
    if row_group < 0:
        raise _Broken(f"{path} holds it in more than one row group")
    rows = table_file.metadata.row_group(row_group).num_rows
    if rows != record.get("combos_count"):
        raise _Broken(f"{path} holds {rows} of its rows, its record {record.get('combos_count')}")
    digest = record.get("params_sha256")
    if digest is not None and (gid, digest) not in verified:
        from backtest.runner.store import PARAM_TYPES, table_digest

        params = table_file.read_row_group(row_group, columns=list(PARAM_TYPES))
        if table_digest(params) != digest:
            raise _Broken(f"{path}: its rows hold other parameters than its record's")
        verified.add((gid, digest))
    return path, table_file, row_group


def _regular(path: Path) -> None:
    """_Broken unless ``path`` is a file reached without a symbolic link as its last step."""
    if path.is_symlink():
        raise _Broken(f"{path} is a symbolic link (never read)")
    if not path.is_file():
        raise _Broken(f"{path} is missing")


def _open(path: Path) -> pq.ParquetFile:
    import pyarrow as pa

    from backtest.runner.store import open_table

    try:
        return open_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise _Broken(f"{path} is not readable: {' '.join(str(exc).split())}") from None
    except ValueError as exc:  # not the results schema
        raise _Broken(str(exc)) from None


def _stat_key(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


# A file's sha256 while it is the same file (inode, size, modification time): a reader
# that reads a part's columns several times hashes it once.
_CHECKSUMS: dict[Path, tuple[tuple[int, int, int], str]] = {}


def _checksum(path: Path) -> str:
    key = _stat_key(path)
    cached = _CHECKSUMS.get(path)
    if cached is None or cached[0] != key:
        if len(_CHECKSUMS) > 100_000:
            _CHECKSUMS.clear()
        _CHECKSUMS[path] = cached = (key, file_checksum(path))
    return cached[1]


# Open tables with their row group per group id and the (group id, params digest) pairs
# checked, while each is the same file: a run of 10,000 groups reads its table's footer
# once, not once per group. A few tables (a merge reads several runs).
_TABLES: dict[Path, tuple[tuple[int, int, int], pq.ParquetFile, dict[str, int], set[Any]]] = {}
_TABLES_KEPT = 4


def _table_index(path: Path) -> tuple[pq.ParquetFile, dict[str, int], set[Any]]:
    """The open table, its row group per group id (-1: in several) and its checked
    digests. A row group is a group's when its ``group_id`` column holds that one id (by
    the column statistics, else by reading the column)."""
    key = _stat_key(path)
    cached = _TABLES.get(path)
    if cached is None or cached[0] != key:
        import pyarrow.compute as pc

        table_file = _open(path)
        index: dict[str, int] = {}
        for n in range(table_file.num_row_groups):
            stats = table_file.metadata.row_group(n).column(0).statistics
            if stats is not None and stats.has_min_max:
                low, high = stats.min, stats.max
            else:
                low, high = pc.min_max(
                    table_file.read_row_group(n, columns=["group_id"])[0]
                ).values()
                low, high = low.as_py(), high.as_py()
            if low == high and low is not None:
                index[low] = -1 if low in index else n
        _TABLES.pop(path, None)
        while len(_TABLES) >= _TABLES_KEPT:
            del _TABLES[next(iter(_TABLES))]
        _TABLES[path] = cached = (key, table_file, index, set())
    return cached[1], cached[2], cached[3]


def write_daily(path: Path, compact: CompactTrades, trading_days: np.ndarray) -> Path:
    """``path`` (a ``.npz``): ``compact`` trades and the period's ``trading_days`` (day
    numbers), written atomically; arrays only, read back by :func:`read_daily`."""
    import io

    import numpy as np

    arrays = {**compact.arrays(), "trading_days": np.asarray(trading_days).astype(np.int32)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(Path(path), lambda tmp: tmp.write_bytes(buffer.getvalue()))


def read_daily(path: Path) -> tuple[CompactTrades, np.ndarray]:
    """The compact trades and trading days of a :func:`write_daily` file: a regular file
    (no symbolic link followed), arrays only (no pickle). FileNotFoundError when it is
    missing; ResultsError naming the file when it is not such a file."""
    import zipfile

    import numpy as np

    from backtest.strategy.daily import CompactTrades

    try:
        with open_regular(path) as handle, np.load(handle, allow_pickle=False) as npz:
            return CompactTrades.from_arrays(npz), npz["trading_days"]
    except (FileNotFoundError, ResultsError):
        raise
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ResultsError(f"{path}: not a compact trades file ({type(exc).__name__})") from None
