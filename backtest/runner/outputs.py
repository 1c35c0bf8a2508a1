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
import hashlib
import io
import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from backtest.core.atomic import atomic_write, atomic_write_text
from backtest.runner.checkpoint import CHECKPOINT_FILE, ResumeError, read_checkpoint
from backtest.strategy.params import PARAM_NAMES

FORMAT_VERSION = 1
MANIFEST_VERSION = 1
# Metrics that are floats (or null) in every run, whatever the first group holds.
FLOAT_METRICS = (
    "winrate",
    "total_r",
    "avg_r",
    "profit_factor",
    "max_dd_r",
    "sharpe",
    "total_pnl",
    "worst_day_r",
    "max_daily_loss_pct",
    "max_drawdown_pct",
)
# The summary's leading metric columns (io-contract.md); other metrics follow.
LEAD_METRICS = ("total_r", "sharpe", "trades", "winrate", "profit_factor", "max_dd_r")


class ResultsError(ValueError):
    """A results file that is missing or cannot be read."""


def result_paths(out_dir: Path, symbol: str) -> dict[str, Path]:
    """Where each io-contract file of ``symbol`` lives in ``out_dir``."""
    out_dir = Path(out_dir)
    return {
        "summary": out_dir / f"results_summary_{symbol}.csv",
        "combos": out_dir / f"results_combos_{symbol}.csv",
        "parquet": out_dir / f"results_combos_{symbol}.parquet",
        "full": out_dir / f"results_full_{symbol}.json",
        "failed": out_dir / f"failed_groups_{symbol}.json",
    }


def manifest_path(out_dir: Path, symbol: str) -> Path:
    """``results_manifest_{symbol}.json``: written last, it commits the result files."""
    return Path(out_dir) / f"results_manifest_{symbol}.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# CSV rounding of the results tables (docs/ANALYSIS.md, "CSV rounding"): R and money
# to 4 decimals, ratios and percentages to 4 significant digits; parameters, counts and
# results_full keep full precision.
CSV_DECIMALS = {name: 4 for name in ("total_r", "avg_r", "max_dd_r", "worst_day_r", "total_pnl")}
CSV_SIGNIFICANT = {
    name: 4
    for name in ("winrate", "profit_factor", "sharpe", "max_daily_loss_pct", "max_drawdown_pct")
}


def rounded(value: float, column: str) -> float:
    """``value`` as the results CSVs show it in ``column`` (unchanged for other columns)."""
    if not math.isfinite(value):
        return value
    if column in CSV_DECIMALS:
        return round(value, CSV_DECIMALS[column]) + 0.0  # + 0.0: no "-0.0"
    if column in CSV_SIGNIFICANT:
        return float(f"{value:.{CSV_SIGNIFICANT[column]}g}") + 0.0
    return value


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


def _csv_text(columns: list[str], rows: list[dict[str, Any]], rounding: bool = False) -> str:
    """CSV text of ``rows``; ``rounding`` rounds the metric columns (:func:`rounded`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    cells = [(col, cell_format(col, rounding)) for col in columns]
    for row in rows:
        writer.writerow([cell(row.get(col)) for col, cell in cells])
    return buffer.getvalue()


def _combo_row(group_id: str, index: int, combo: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": group_id, "combo": index, **combo["metrics"], **combo["params"]}


def _by_total_r(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Descending ``total_r``; ties keep their order (sorted is stable)."""
    return sorted(rows, key=lambda row: -float(row["total_r"]))


def table_columns(groups: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(metric columns, parameter columns) over every combination of ``groups``."""
    combos = [c for g in groups for c in g["combos"]]
    metrics = _ordered_union((c["metrics"] for c in combos), LEAD_METRICS)
    params = _ordered_union((c["params"] for c in combos), PARAM_NAMES)
    return metrics, params


def summary_rows(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per ok group (its best combination), best ``total_r`` first."""
    rows = [
        _combo_row(g["group_id"], g["best"], g["combos"][g["best"]])
        for g in groups
        if g.get("status") == "ok"
    ]
    return _by_total_r(rows)


def write_results(
    out_dir: Path,
    symbol: str,
    metadata: dict[str, Any],
    groups: list[dict[str, Any]],
    failed_raw_groups: list[dict[str, Any]],
) -> dict[str, Path]:
    """Write every io-contract file of one run into ``out_dir``; their paths by kind.

    ``groups`` are group records (``status`` ok or failed, see io-contract.md)
    in groups-file order; ``failed_raw_groups`` the failed groups as they stood
    in the groups file (an ``error`` key may explain each).
    """
    from backtest.runner.groups import write_groups_file

    paths = result_paths(Path(out_dir), symbol)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    manifest = manifest_path(Path(out_dir), symbol)
    manifest.unlink(missing_ok=True)  # from here until the end: not committed
    ok = [g for g in groups if g.get("status") == "ok"]
    metric_cols, param_cols = table_columns(ok)

    summary = summary_rows(ok)
    atomic_write_text(
        paths["summary"], _csv_text(["group_id", *metric_cols, *param_cols], summary, True)
    )

    combos = _by_total_r(
        [_combo_row(g["group_id"], i, c) for g in ok for i, c in enumerate(g["combos"])]
    )
    atomic_write_text(
        paths["combos"], _csv_text(["group_id", "combo", *metric_cols, *param_cols], combos, True)
    )

    atomic_write(paths["parquet"], lambda tmp: write_combos_parquet(tmp, ok))

    full = {"metadata": {"format_version": FORMAT_VERSION, **metadata}, "groups": groups}
    atomic_write_text(paths["full"], json.dumps(full, allow_nan=False) + "\n")

    atomic_write(paths["failed"], lambda tmp: write_groups_file(tmp, symbol, failed_raw_groups))
    files = {
        kind: {"name": path.name, "size": path.stat().st_size, "sha256": _sha256(path)}
        for kind, path in paths.items()
    }
    atomic_write_text(
        manifest,
        json.dumps({"manifest_version": MANIFEST_VERSION, "symbol": symbol, "files": files}) + "\n",
    )
    return paths


def write_combos_parquet(path: Path, groups: list[dict[str, Any]]) -> None:
    """``results_combos_{SYMBOL}.parquet``: one row per combination, typed columns at full
    precision (``group_id``, ``combo``, every resolved parameter, every metric; nulls where
    the spec says null), one row group per group, in group and combination order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    try:
        for group in groups:
            rows = [
                {"group_id": group["group_id"], "combo": i, **c["params"], **c["metrics"]}
                for i, c in enumerate(group["combos"])
            ]
            table = pa.Table.from_pylist(rows, schema=schema)
            if writer is None:
                schema = _parquet_schema(table.schema)
                table = table.cast(schema)
                writer = pq.ParquetWriter(path, schema, compression="zstd")
            writer.write_table(table)
        if writer is None:
            pq.write_table(pa.table({"group_id": pa.array([], pa.string())}), path)
    finally:
        if writer is not None:
            writer.close()


def _parquet_schema(inferred: Any) -> Any:
    """The inferred schema with every metric that may be null or fractional as float64
    (a first group whose values are all whole or all null must not fix the type)."""
    import pyarrow as pa

    fields = []
    for field in inferred:
        if field.name in FLOAT_METRICS or pa.types.is_null(field.type):
            field = pa.field(field.name, pa.float64())
        elif field.name in ("combo", "trades", "skipped", "max_losing_streak"):
            field = pa.field(field.name, pa.int64())
        fields.append(field)
    return pa.schema(fields)


def commit_problem(out_dir: Path, symbol: str) -> str | None:
    """Why the result files of ``symbol`` in ``out_dir`` are not committed; None when
    they are (the manifest exists and every file it lists has its size and sha256)."""
    manifest = manifest_path(Path(out_dir), symbol)
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
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
        try:
            if path.stat().st_size != entry.get("size") or _sha256(path) != entry.get("sha256"):
                return f"{path.name} is not the file the manifest commits"
        except OSError:
            return f"{path.name} is missing"
    return None


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_group(group: Any, where: str) -> str:
    """The group's id after checking the record's shape; ResultsError on the first problem."""
    from backtest.runner.groups import GROUP_ID

    if not isinstance(group, dict):
        raise ResultsError(f"{where}: a group record is not an object")
    gid = group.get("group_id")
    if not isinstance(gid, str) or not GROUP_ID.fullmatch(gid):
        raise ResultsError(f"{where}: group_id {str(gid)[:120]!r} breaks the group id rule")
    where = f"{where}: group {gid}"
    status = group.get("status")
    if status == "failed":
        return gid
    if status != "ok":
        raise ResultsError(f"{where}: status {status!r} is neither 'ok' nor 'failed'")
    combos = group.get("combos")
    if not isinstance(combos, list) or not combos:
        raise ResultsError(f"{where}: an ok group needs a non-empty 'combos' list")
    for n, combo in enumerate(combos):
        metrics = combo.get("metrics") if isinstance(combo, dict) else None
        if not isinstance(metrics, dict) or not isinstance(combo.get("params"), dict):
            raise ResultsError(f"{where}: combos[{n}] needs 'params' and 'metrics' objects")
        total = metrics.get("total_r")
        if not _finite_number(total):
            raise ResultsError(f"{where}: combos[{n}].metrics.total_r {total!r} is not a number")
    best = group.get("best")
    if isinstance(best, bool) or not isinstance(best, int) or not 0 <= best < len(combos):
        raise ResultsError(f"{where}: best {best!r} is not an index of its {len(combos)} combos")
    return gid


def check_results(data: Any, where: str, symbol: str) -> dict[str, Any]:
    """``data`` if it is a results document of ``symbol`` whose every group record has
    the io-contract shape (ids by the group id rule, once each; an ok group's ``best``
    indexes its combos; numeric ``total_r``); else ResultsError naming the problem.

    Results may come from another machine (``fab collect``): nothing in them is
    trusted before this check."""
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("groups"), list)
        or not isinstance(data.get("metadata"), dict)
    ):
        raise ResultsError(f"{where}: expected an object with 'metadata' and 'groups'")
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


def results_from_checkpoint(out_dir: Path, symbol: str) -> dict[str, Any]:
    """``{"metadata", "groups"}`` of the groups finished in ``out_dir``'s checkpoint
    (header order), for a run that did not commit its result files."""
    path = Path(out_dir) / CHECKPOINT_FILE
    try:
        header, records = read_checkpoint(path)
    except (OSError, ResumeError) as exc:
        raise ResultsError(f"{path}: {exc}") from None
    settings = header["settings"] if isinstance(header.get("settings"), dict) else {}
    metadata = {
        "format_version": FORMAT_VERSION,
        **{k: header.get(k) for k in ("symbol", "period", "start_date", "end_date")},
        **{k: v for k, v in header.items() if k not in ("kind", "group_ids", "settings")},
        **settings,
        "recovered_from_checkpoint": str(path),
    }
    metadata["symbol"] = metadata["symbol"] or symbol
    order = [g for g in header.get("group_ids") or [] if g in records]
    order += [g for g in records if g not in set(order)]
    groups = [records[g] for g in order]
    return check_results({"metadata": metadata, "groups": groups}, str(path), symbol)


def read_results(out_dir: Path, symbol: str, checkpoint_fallback: bool = True) -> dict[str, Any]:
    """The committed results of ``symbol`` in ``out_dir``: ``{"metadata", "groups"}``,
    checked by :func:`check_results`.

    Results that are not committed (see :func:`commit_problem`) are not read: with
    ``checkpoint_fallback`` the groups finished in the run's checkpoint are returned
    instead (``metadata.recovered_from_checkpoint`` names it), else ResultsError."""
    path = result_paths(Path(out_dir), symbol)["full"]
    problem = commit_problem(Path(out_dir), symbol)
    if problem is not None:
        if checkpoint_fallback and (Path(out_dir) / CHECKPOINT_FILE).exists():
            return results_from_checkpoint(Path(out_dir), symbol)
        raise ResultsError(f"{Path(out_dir)}: no committed results for {symbol}: {problem}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: not a readable results file: {exc}") from None
    return check_results(data, str(path), symbol)
