"""The io-contract files of a run, written atomically and committed as one unit.

Every file is first written to a temporary file in the same directory and then
moved over the old one with ``os.replace``: an interrupted writer (Ctrl-C,
SIGKILL, a full disk) leaves either the old file or the new one, never half of
one. The files of one run are one unit: :func:`write_results` removes the
manifest ``results_manifest_{SYMBOL}.json`` first, writes the four files, and
writes the manifest (each file's size and sha256) last. Results are
*committed* when the manifest is there and every file matches it;
:func:`read_results` trusts only committed results and otherwise falls back to
the run's checkpoint. :func:`write_results` is a pure function of its inputs, so
the runner, a resumed run and ``backtest.analysis.merge`` all produce the same
files from the same groups.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backtest.core.atomic import atomic_write, atomic_write_text
from backtest.core.checksum import file_checksum
from backtest.runner.checkpoint import ResumeError, read_checkpoint
from backtest.runner.reading import (
    COUNT,
    FLAG,
    NUMBER,
    TEXT,
    Entries,
    Fields,
    Items,
    Kind,
    ResultsError,
    Spec,
    check,
    maybe,
    read_json,
)
from backtest.runner.rundir import (
    CHECKPOINT_FILE,
    FORMAT_VERSION,
    PartError,
    group_rows,
    manifest_path,
    part_problem,
    result_paths,
)
from backtest.runner.store import (
    INLINE_LIMIT,
    METRIC_TYPES,
    PARAM_TYPES,
    combos_schema,
    table_records,
)
from backtest.runner.table_text import (
    CSV_DECIMALS,
    CSV_SIGNIFICANT,
    records_json,
    rounded,
    write_sorted_csv,
)
from backtest.strategy.metrics import METRIC_KEYS
from backtest.strategy.params import PARAM_NAMES

if TYPE_CHECKING:
    from backtest.runner.prepared import Prepared

MANIFEST_VERSION = 1
# The summary's leading metric columns (io-contract.md); other metrics follow.
LEAD_METRICS = ("total_r", "sharpe", "trades", "winrate", "profit_factor", "max_dd_r")


# An ok group record -> its combinations as an Arrow table (backtest.runner.store schema).
Rows = Callable[[dict[str, Any]], Any]


def cell_format(column: str | None = None, rounding: bool = False) -> Callable[[Any], str]:
    """How one CSV column shows its values: lists and booleans as JSON, null as empty,
    floats at full precision (with ``rounding``: as :func:`rounded` gives them for
    ``column``). Built once per column: the combos table has a cell per metric and
    parameter of every combination."""
    rounds = bool(rounding and column and (column in CSV_DECIMALS or column in CSV_SIGNIFICANT))

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, float):
            return repr(rounded(value, column) if rounds and column else value)
        if isinstance(value, (list, dict)):
            return json.dumps(value)
        return str(value)

    return cell


def _ordered_union(keys: Iterable[Iterable[str]], lead: Iterable[str]) -> list[str]:
    out = list(lead)
    seen = set(out)
    for group in keys:
        for key in group:
            if key not in seen:
                seen.add(key)
                out.append(key)
    return out


def csv_text(columns: list[str], rows: list[dict[str, Any]], rounding: bool = False) -> str:
    """CSV text of ``rows``; ``rounding`` rounds the metric columns (:func:`rounded`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    cells = [(col, cell_format(col, rounding)) for col in columns]
    for row in rows:
        writer.writerow([cell(row.get(col)) for col, cell in cells])
    return buffer.getvalue()


def best_of(group: dict[str, Any]) -> dict[str, Any]:
    """An ok group's best combination, ``{"params", "metrics"}`` (compact or inline record)."""
    if "best_combo" in group:
        return group["best_combo"]
    return group["combos"][group["best"]]


def combos_count(group: dict[str, Any]) -> int:
    """How many combinations an ok group ran (compact or inline record)."""
    return int(group["combos_count"]) if "combos_count" in group else len(group["combos"])


def _combo_row(group_id: str, index: int, combo: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": group_id, "combo": index, **combo["metrics"], **combo["params"]}


def _by_total_r(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Descending ``total_r``; ties keep their order (sorted is stable)."""
    return sorted(rows, key=lambda row: -float(row["total_r"]))


def combos_columns() -> list[str]:
    """The columns of ``results_combos_{SYMBOL}.csv``."""
    metric_cols, param_cols = table_columns()
    return ["group_id", "combo", *metric_cols, *param_cols]


def table_columns(groups: list[dict[str, Any]] | None = None) -> tuple[list[str], list[str]]:
    """(metric columns, parameter columns) of the results tables: the lead metrics, then
    the others of spec section 6; every parameter (the schema of backtest.runner.store).
    ``groups`` is not needed (the columns are fixed); kept for callers."""
    return _ordered_union([METRIC_KEYS], LEAD_METRICS), list(PARAM_NAMES)


def summary_rows(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per ok group (its best combination), best ``total_r`` first."""
    rows = [
        _combo_row(g["group_id"], g["best"], best_of(g)) for g in groups if g.get("status") == "ok"
    ]
    return _by_total_r(rows)


def write_results(
    out_dir: Path,
    symbol: str,
    metadata: dict[str, Any],
    groups: list[dict[str, Any]],
    failed_raw_groups: list[dict[str, Any]],
    rows: Rows | None = None,
    prepared: Prepared | None = None,
) -> dict[str, Path]:
    """Write every io-contract file of one run into ``out_dir``; their paths by kind.

    ``groups`` are group records (``status`` ok or failed, see io-contract.md) in
    groups-file order: inline ones (``combos``) or compact ones, whose combinations
    ``rows(record)`` gives (default: their part file in ``out_dir``,
    :mod:`backtest.runner.store`; a merge reads other runs' tables). One group's
    combinations are in memory at a time, and a chunk of the sorted combos table.
    ``failed_raw_groups`` are the failed groups as they stood in the
    groups file (an ``error`` key may explain each). ``prepared``: the groups' shares of
    the files done while the run went on (:mod:`backtest.runner.prepared`), taken for
    the groups whose records they were made from; the same bytes either way.
    """
    from backtest.runner.groups import write_groups_file

    out_dir = Path(out_dir)
    rows = _one_at_a_time(rows or partial(group_rows, out_dir))
    paths = result_paths(out_dir, symbol)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = manifest_path(out_dir, symbol)
    manifest.unlink(missing_ok=True)  # from here until the end: not committed
    ok = [g for g in groups if g.get("status") == "ok"]
    metric_cols, param_cols = table_columns()
    head = results_head(metadata, groups)
    inline = head["combos_inline"]
    summary = csv_text(["group_id", *metric_cols, *param_cols], summary_rows(ok), True)
    runs, keys = prepared.csv_runs(ok) if prepared is not None else (None, None)

    def table(tmp: Path) -> None:
        if prepared is None or not prepared.finish_table(tmp, ok, rows):
            write_combos_parquet(tmp, ok, rows)

    # results_full, the largest file, is written beside the others (a second core's work
    # where there is one: the text kernels, copies, fsync and sha256 release the GIL)
    def full_file(tmp: Path) -> None:
        _write_full(tmp, head, groups, rows, inline, prepared)

    with ThreadPoolExecutor(1) as aside:
        full = aside.submit(_committed, paths["full"], full_file)
        done = {
            "parquet": _committed(paths["parquet"], table),
            "combos": _committed(
                paths["combos"],
                lambda tmp: write_sorted_csv(tmp, paths["parquet"], combos_columns(), runs, keys),
            ),
            "summary": _committed(paths["summary"], lambda tmp: tmp.write_text(summary, "utf-8")),
            "failed": _committed(
                paths["failed"], lambda tmp: write_groups_file(tmp, symbol, failed_raw_groups)
            ),
            "full": full.result(),
        }
    files = {kind: done[kind] for kind in paths}
    atomic_write_text(
        manifest,
        json.dumps({"manifest_version": MANIFEST_VERSION, "symbol": symbol, "files": files}) + "\n",
    )
    return paths


def _one_at_a_time(rows: Rows) -> Rows:
    """``rows`` called by one thread at a time (readers share open tables and caches)."""
    lock = threading.Lock()

    def locked(record: dict[str, Any]) -> Any:
        with lock:
            return rows(record)

    return locked


def _committed(path: Path, write: Callable[[Path], object]) -> dict[str, Any]:
    """``atomic_write(path, write)``; the file's entry in the manifest."""
    atomic_write(path, write)
    return {"name": path.name, "size": path.stat().st_size, "sha256": file_checksum(path)}


def combos_inline(total: int) -> bool:
    """Whether ``results_full`` holds the combinations of a run of ``total`` inline."""
    return total <= INLINE_LIMIT


def results_head(metadata: dict[str, Any], groups: list[dict[str, Any]]) -> dict[str, Any]:
    """``results_full``'s ``metadata`` for a run's ``metadata`` and group records: the
    format version first (today's, whatever the metadata of a run merged in says), whether
    the combinations are inline and how many there are."""
    total = sum(combos_count(g) for g in groups if g.get("status") == "ok")
    head: dict[str, Any] = {"format_version": FORMAT_VERSION}
    head.update((k, v) for k, v in metadata.items() if k != "format_version")
    head.update(combos_inline=combos_inline(total), combos_total=total)
    return head


def full_record(group: dict[str, Any], rows: Rows, inline: bool) -> dict[str, Any]:
    """A group as ``results_full`` holds it: with every combination (``inline``, trades
    where kept) or with its count and best combination (the Parquet table holds the rest)."""
    if group.get("status") != "ok":
        keys = ("group_id", "status", "error", "elapsed_s")
        return {**{k: group.get(k) for k in keys}, "combos": [], "best": None}
    head = _head(group)
    if not inline:
        count = combos_count(group)
        record = {
            **head,
            "combos_count": count,
            "best": group["best"],
            "best_combo": best_of(group),
        }
        if group.get("trades"):  # --save-trades: by combination index
            record["trades"] = group["trades"]
        return record
    return {**head, "combos": inline_combos(group, rows), "best": group["best"]}


def _head(group: dict[str, Any]) -> dict[str, Any]:
    """The leading keys of an ok group's ``results_full`` record."""
    return {k: group[k] for k in ("group_id", "status", "elapsed_s") if k in group}


def inline_combos(group: dict[str, Any], rows: Rows) -> list[dict[str, Any]]:
    """An ok group's combinations as ``{"params", "metrics"[, "trades"]}`` records."""
    if "combos" in group:
        return group["combos"]
    combos = table_records(rows(group))
    for index, trades in (group.get("trades") or {}).items():
        combos[int(index)]["trades"] = trades
    return combos


def _write_full(
    path: Path,
    metadata: dict[str, Any],
    groups: list[dict[str, Any]],
    rows: Rows,
    inline: bool,
    prepared: Prepared | None = None,
) -> None:
    """``results_full`` group by group: the bytes of ``json.dumps({"metadata", "groups"})``
    without the whole document in memory; a group's text ``prepared`` while the run went on
    is copied from there."""
    with open(path, "wb") as out:
        head = '{"metadata": ' + json.dumps(metadata, allow_nan=False) + ', "groups": ['
        out.write(head.encode())
        for n, group in enumerate(groups):
            if n:
                out.write(b", ")
            if prepared is None or not prepared.copy_text(group, inline, out):
                out.write(full_text(group, rows, inline))
        out.write(b"]}\n")


def full_text(group: dict[str, Any], rows: Rows, inline: bool) -> bytes:
    """``json.dumps(full_record(group, rows, inline))`` (UTF-8); an inline group whose
    combinations come from its table (no trades kept) is written column by column in
    Arrow's kernels, the same text (:func:`records_json`) several times faster."""
    simple = inline and group.get("status") == "ok" and "combos" not in group
    body = records_json(rows(group)) if simple and not group.get("trades") else None
    if body is None:
        return json.dumps(full_record(group, rows, inline), allow_nan=False).encode()
    shell = json.dumps({**_head(group), "combos": [], "best": group["best"]}, allow_nan=False)
    before, after = shell.split('"combos": []', 1)  # ids never hold it
    return b"".join((before.encode(), b'"combos": [', body, b"]", after.encode()))


def write_combos_parquet(path: Path, groups: list[dict[str, Any]], rows: Rows) -> None:
    """``results_combos_{SYMBOL}.parquet``: the ok groups' rows (their parts, or their
    inline combos) in group and combination order, one row group per group, the fixed
    typed schema of :func:`backtest.runner.store.combos_schema` at full precision."""
    with combos_writer(path) as writer:
        for group in groups:
            add_row_group(writer, rows(group))


def combos_writer(sink: Any) -> Any:
    """A Parquet writer of ``results_combos_{SYMBOL}.parquet`` to ``sink`` (a path or an
    open file): the schema of :func:`backtest.runner.store.combos_schema`, zstd."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(sink, combos_schema(), compression="zstd")


def add_row_group(writer: Any, table: Any) -> None:
    """A group's rows as one row group of the combos table."""
    writer.write_table(table, row_group_size=max(1, table.num_rows))


def commit_problem(out_dir: Path, symbol: str) -> str | None:
    """Why the result files of ``symbol`` in ``out_dir`` are not committed; None when
    they are (the manifest exists and every file it lists is a regular file, no symbolic
    link, with its size and sha256)."""
    manifest = manifest_path(Path(out_dir), symbol)
    try:
        listed = read_json(manifest)["files"]
        expected = {kind: path.name for kind, path in result_paths(Path(out_dir), symbol).items()}
        names = {k: v.get("name") for k, v in listed.items()} if isinstance(listed, dict) else {}
        if names != expected:
            return f"{manifest.name} does not list the result files"
    except FileNotFoundError:
        return f"no {manifest.name} (the writer stopped before the end, or nothing was written)"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"{manifest.name} is not readable"
    for entry in listed.values():
        path = Path(out_dir) / entry["name"]
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return f"{path.name} is not a regular file (a symbolic link is never read)"
        try:
            size, sha = path.stat().st_size, file_checksum(path)
            if size != entry.get("size") or sha != entry.get("sha256"):
                return f"{path.name} is not the file the manifest commits"
        except OSError:
            return f"{path.name} is missing"
    return None


def _kind(arrow_type: Any) -> Spec:
    """The JSON kind of a results column's values (:mod:`backtest.runner.store` types)."""
    import pyarrow as pa

    if pa.types.is_list(arrow_type):
        return Items(_kind(arrow_type.value_type), optional=True)
    if pa.types.is_boolean(arrow_type):
        return maybe(FLAG)
    if pa.types.is_integer(arrow_type):
        return maybe(COUNT)
    if pa.types.is_floating(arrow_type):
        return maybe(NUMBER)
    return maybe(TEXT)


def _each(kind: Spec, names: str) -> dict[str, Spec]:
    """``{name: kind}`` for each of the space-separated ``names``."""
    return dict.fromkeys(names.split(), kind)


_NUMBER_OR_NULL, _TEXT_OR_NULL, _TEXTS = maybe(NUMBER), maybe(TEXT), Items(TEXT, optional=True)
# Spec section 7's trade records (``--save-trades``).
TRADE = Fields(
    {
        **_each(TEXT, "entry_time exit_time"),
        **_each(_TEXT_OR_NULL, "direction exit_reason"),
        **_each(_NUMBER_OR_NULL, "entry_price exit_price sl tp lots"),
        **_each(NUMBER, "r pnl_money"),
    }
)
COMBO = Fields(
    {
        "params": Fields({name: _kind(kind) for name, kind in PARAM_TYPES.items()}),
        "metrics": Fields(
            {name: _kind(kind) for name, kind in METRIC_TYPES.items()} | {"total_r": NUMBER}
        ),
        "trades": Items(TRADE, optional=True),
    }
)
GROUP = Fields(
    {
        **_each(TEXT, "group_id status"),
        **_each(_TEXT_OR_NULL, "error params_sha256"),
        **_each(maybe(COUNT), "best combos_count"),
        "elapsed_s": _NUMBER_OR_NULL,
        "combos": Items(COMBO, optional=True),
        "best_combo": Fields(COMBO.fields, optional=True),
        "trades": Entries(Items(TRADE), optional=True),  # by combination index (compact)
        "part": Fields(
            {**_each(_TEXT_OR_NULL, "file table sha256"), "rows": maybe(COUNT)}, optional=True
        ),
    }
)
# The metadata readers use (io-contract "Outputs"; the runner's, a merge's and a
# checkpoint's keys): each of its type when present. Other keys may be added freely.
METADATA = Fields(
    {
        **_each(
            _TEXT_OR_NULL,
            "symbol period start_date end_date data_file data_checksum data_source code_version "
            "host engine news_file news_checksum server_tz groups_file start_time end_time "
            "recovered_from_checkpoint salvaged_from",
        ),
        **_each(_NUMBER_OR_NULL, "risk account_size daily_loss_limit_pct max_loss_limit_pct"),
        **_each(maybe(COUNT), "format_version workers combos_total"),
        **_each(maybe(FLAG), "strict_data drop_invalid save_daily combos_inline"),
        **_each(_TEXTS, "warnings merged_from hosts merge_forced"),
        "save_trades": Kind("true, false or top:N", frozenset({bool, str, type(None)})),
        "data": Fields(
            {
                **_each(_TEXT_OR_NULL, "source path checksum first_bar last_bar"),
                "bars": maybe(COUNT),
            },
            optional=True,
        ),
        "symbol_settings": Fields(
            {
                **_each(
                    _NUMBER_OR_NULL,
                    "spread commission point value_per_point volume_min volume_step",
                ),
                "timezone": _TEXT_OR_NULL,
                "currencies": _TEXTS,
            },
            optional=True,
        ),
    }
)


def _check_group(group: Any, where: str) -> str:
    """The group's id after checking the record: its fields' types (:data:`GROUP`), its
    id by the group id rule, and an ok group's combinations: inline ``combos``, or
    (compact) ``combos_count`` and ``best_combo``; ResultsError on the first problem."""
    from backtest.runner.groups import GROUP_ID

    if not isinstance(group, dict):
        raise ResultsError(f"{where}: a group record is not an object")
    gid = group.get("group_id")
    if not isinstance(gid, str) or not GROUP_ID.fullmatch(gid):
        raise ResultsError(f"{where}: group_id {str(gid)[:120]!r} breaks the group id rule")
    where = f"{where}: group {gid}"
    check(group, GROUP, where)
    status = group["status"]
    if status == "failed":
        return gid
    if status != "ok":
        raise ResultsError(f"{where}: status {status!r} is neither 'ok' nor 'failed'")
    combos = group.get("combos")
    if combos is None and "combos_count" in group:
        count = group["combos_count"]
        if count is None or count < 1:
            raise ResultsError(f"{where}: combos_count {count!r} is not a count >= 1")
        if group.get("best_combo") is None:
            raise ResultsError(f"{where}: best_combo is missing")
    elif not combos:
        raise ResultsError(f"{where}: an ok group needs a non-empty 'combos' list")
    else:
        count = len(combos)
    best = group.get("best")
    if best is None or not 0 <= best < count:
        raise ResultsError(f"{where}: best {best!r} is not an index of its {count} combos")
    return gid


def check_results(data: Any, where: str, symbol: str) -> dict[str, Any]:
    """``data`` if it is a results document of ``symbol`` in the io-contract's shape: its
    metadata's known fields of their types (:data:`METADATA`), every group record of
    :data:`GROUP`'s (ids by the group id rule, once each; an ok group's ``best`` indexes
    its combos); no value nested deeper than the schema or :data:`MAX_DEPTH`. Else
    ResultsError naming ``where`` and the field.

    Results may come from another machine (``fab collect``): nothing in them is
    trusted before this check, which every reader passes (:func:`read_results`)."""
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ResultsError(f"{where}: expected an object with 'metadata' and 'groups'")
    check({k: v for k, v in data.items() if k != "groups"}, Fields({"metadata": METADATA}), where)
    if data["metadata"].get("symbol", symbol) != symbol:
        named = data["metadata"]["symbol"]
        raise ResultsError(f"{where}: metadata.symbol is {named!r}, not {symbol}")
    seen: set[str] = set()
    for group in data["groups"]:
        gid = _check_group(group, where)
        if gid in seen:
            raise ResultsError(f"{where}: group {gid} appears twice")
        seen.add(gid)
    return data


def results_from_checkpoint(out_dir: Path, symbol: str, combos: bool = True) -> dict[str, Any]:
    """``{"metadata", "groups"}`` of the groups finished in ``out_dir``'s checkpoint
    (header order), for a run that did not commit its result files; with ``combos``
    each group's combinations are read from its part (a group whose part is missing or
    altered is left out: it is not finished)."""
    path = Path(out_dir) / CHECKPOINT_FILE
    try:
        header, records = read_checkpoint(path)
    except (OSError, ResumeError) as exc:
        raise ResultsError(f"{path}: {exc}") from None
    settings = header["settings"] if isinstance(header.get("settings"), dict) else {}
    metadata = {
        "format_version": header.get("format_version", 1),  # the header has none before 2
        **{k: header.get(k) for k in ("symbol", "period", "start_date", "end_date")},
        **{k: v for k, v in header.items() if k not in ("kind", "group_ids", "settings")},
        **settings,
        "recovered_from_checkpoint": str(path),
    }
    metadata["symbol"] = metadata["symbol"] or symbol
    order = [g for g in header.get("group_ids") or [] if g in records]
    order += [g for g in records if g not in set(order)]
    groups = []
    rows = partial(group_rows, Path(out_dir))
    for gid in order:
        record = records[gid]
        if record.get("status") == "ok" and "part" in record:
            try:
                if combos:
                    record = {**record, "combos": inline_combos(record, rows)}
                elif part_problem(out_dir, record) is not None:
                    continue
            except PartError:
                continue
        groups.append(record)
    return check_results({"metadata": metadata, "groups": groups}, str(path), symbol)


def read_results(
    out_dir: Path, symbol: str, checkpoint_fallback: bool = True, combos: bool = True
) -> dict[str, Any]:
    """The committed results of ``symbol`` in ``out_dir``: ``{"metadata", "groups"}``,
    checked by :func:`check_results`.

    With ``combos`` every ok group has its ``combos`` list, also when ``results_full``
    does not hold them inline (they are read from the Parquet table then: a reader of a
    run of millions of combinations should read that table itself, column-wise, and pass
    ``combos=False``). Results that are not committed (see :func:`commit_problem`) are
    not read: with ``checkpoint_fallback`` the groups finished in the run's checkpoint are
    returned instead (``metadata.recovered_from_checkpoint`` names it), else ResultsError."""
    paths = result_paths(Path(out_dir), symbol)
    problem = commit_problem(Path(out_dir), symbol)
    if problem is not None:
        if checkpoint_fallback and (Path(out_dir) / CHECKPOINT_FILE).exists():
            return results_from_checkpoint(Path(out_dir), symbol, combos)
        raise ResultsError(f"{Path(out_dir)}: no committed results for {symbol}: {problem}")
    try:
        data = read_json(paths["full"])
    except OSError as exc:
        raise ResultsError(f"{paths['full']}: not a readable results file: {exc}") from None
    data = check_results(data, str(paths["full"]), symbol)
    if combos and data["metadata"].get("combos_inline") is False:
        _combos_from_table(data["groups"], Path(out_dir), symbol)
    return data


class RunRows:
    """Where the combinations of one run directory's groups are (a :data:`Rows`): inline
    in the record, in its part file (a run read from its checkpoint), or in the run's
    committed Parquet table; read by :func:`backtest.runner.rundir.group_rows`."""

    def __init__(self, out_dir: Path, symbol: str) -> None:
        self.out_dir = Path(out_dir)
        self.symbol = symbol

    def __call__(self, record: dict[str, Any]) -> Any:
        return group_rows(self.out_dir, record, symbol=self.symbol)


def _combos_from_table(groups: list[dict[str, Any]], out_dir: Path, symbol: str) -> None:
    """Fill each ok group's ``combos`` from its row group of the run's Parquet table."""
    rows = RunRows(out_dir, symbol)
    for group in groups:
        if group.get("status") == "ok":
            group["combos"] = inline_combos(group, rows)
