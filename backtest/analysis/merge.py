"""Merge result directories of one sweep (hosts, halves, re-runs) into one.

Rules (docs/ANALYSIS.md): groups are keyed by ``group_id``; an identical
duplicate (same parameters and metrics) is dropped, a conflicting one is
refused; an ``ok`` record wins over a ``failed`` one. Directories whose runs
differ in data checksum, code version, period, dates or risk settings are
refused unless ``force``. Rankings are recomputed by writing through
:func:`backtest.runner.outputs.write_results`, the one writer of result files.

Only committed results are read (:func:`backtest.runner.outputs.read_results`:
a run that stopped before committing is read from its checkpoint), and every
record is checked first: results may come from another machine, and nothing in
them decides where a file is written (chart paths are checked to stay inside
the output directory).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from backtest.core.atomic import atomic_write

# Metadata that must agree between merged runs (unless forced).
MUST_AGREE = (
    "data_checksum",
    "code_version",
    "period",
    "start_date",
    "end_date",
    "risk",
    "account_size",
    "daily_loss_limit_pct",
    "max_loss_limit_pct",
    "symbol_settings",  # costs, execution model, point, value per point, volumes, time zone
    "data_source",  # file or sample: a sample-data part never merges into real results
    "news_checksum",  # the news events the filter blocked (None: no news file)
    "server_tz",  # the broker clock an MT5 export was read with
    "drop_invalid",  # which bars were dropped
)
# Keys a part may not know (a run read back from its checkpoint has no data provenance
# block; runs before these were recorded): such a part agrees with any value; the data
# checksum still has to match.
MAY_BE_UNKNOWN = ("data_source", "news_checksum")


class MergeError(ValueError):
    """Result directories that cannot be merged; the message says why."""


def result_symbols(directory: Path) -> list[str]:
    """Symbols with a ``results_full_{SYMBOL}.json`` in ``directory``, or the symbol of
    its checkpoint (a run that stopped before writing results), sorted. A checkpoint
    that cannot be read is a MergeError when it is all the directory has."""
    from backtest.runner.checkpoint import ResumeError, read_checkpoint
    from backtest.runner.rundir import CHECKPOINT_FILE, FULL_PREFIX

    found = {
        p.name[len(FULL_PREFIX) : -len(".json")]
        for p in Path(directory).glob(f"{FULL_PREFIX}*.json")
    }
    if (Path(directory) / CHECKPOINT_FILE).exists():
        try:
            header, _ = read_checkpoint(Path(directory) / CHECKPOINT_FILE)
        except (OSError, ResumeError) as exc:
            if not found:
                raise MergeError(f"{directory}: no results, and {exc}") from None
            header = {}
        if isinstance(header.get("symbol"), str):
            found.add(header["symbol"])
    return sorted(found)


def detect_symbol(dirs: list[Path], symbol: str | None = None) -> str:
    """The one symbol of ``dirs``' results, or ``symbol`` checked to be there."""
    from backtest.runner.rundir import FULL_PREFIX

    if not dirs:
        raise MergeError("no result directories given")
    found: set[str] = set()
    for directory in dirs:
        if not Path(directory).is_dir():
            raise MergeError(f"{directory}: not a directory")
        symbols = result_symbols(directory)
        if symbol is not None and symbol not in symbols:
            raise MergeError(
                f"{directory}: no {FULL_PREFIX}{symbol}.json "
                f"(found: {', '.join(symbols) or 'none'})"
            )
        if not symbols:
            raise MergeError(f"{directory}: no {FULL_PREFIX}{{SYMBOL}}.json")
        found.update(symbols)
    if symbol is not None:
        return symbol
    if len(found) > 1:
        raise MergeError(
            f"results of several symbols ({', '.join(sorted(found))}) in "
            f"{', '.join(map(str, dirs))}: pass the symbol to merge"
        )
    return found.pop()


def _same(a: Any, b: Any) -> bool:
    """Equal JSON values; floats within 1e-9 relative (other hosts' last bits)."""
    if isinstance(a, float) or isinstance(b, float):
        if (
            isinstance(a, bool)
            or isinstance(b, bool)
            or not all(isinstance(x, (int, float)) for x in (a, b))
        ):
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _same_results(a: dict[str, Any], b: dict[str, Any], rows_a: Any, rows_b: Any) -> bool:
    from backtest.runner.outputs import inline_combos

    ca, cb = inline_combos(a, rows_a), inline_combos(b, rows_b)
    return len(ca) == len(cb) and all(
        _same(x.get("params"), y.get("params")) and _same(x.get("metrics"), y.get("metrics"))
        for x, y in zip(ca, cb)
    )


def _failed_raw(directory: Path, symbol: str) -> dict[str, dict[str, Any]]:
    """Raw failed groups of a directory (its ``failed_groups_{SYMBOL}.json``) by id."""
    from backtest.runner.reading import TEXT, Fields, Items, ResultsError, check, read_json
    from backtest.runner.rundir import result_paths

    path = result_paths(Path(directory), symbol)["failed"]
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        data = read_json(path)
        groups = check(
            data.get("groups") if isinstance(data, dict) else data,
            Items(Fields({"group_id": TEXT})),
            f"{path}: groups",
        )
    except ResultsError as exc:
        raise MergeError(str(exc)) from None
    return {g["group_id"]: g for g in groups}


@dataclass
class MergeReport:
    """What a merge did, and what is left to run."""

    output_dir: Path
    symbol: str
    sources: list[Path]
    merged: list[str]  # group ids written (ok and failed)
    failed: list[str]  # group ids whose best record is a failure
    missing: list[str]  # ids of the groups file found in no directory
    unexpected: list[str]  # ids found that the groups file does not name
    duplicates: int  # records dropped as identical or superseded duplicates
    forced: list[str]  # metadata mismatches accepted with force
    paths: dict[str, Path]
    metadata: dict[str, Any]
    raw_groups: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    skipped: list[str] = field(default_factory=list)  # input files not copied, and why

    def summary_lines(self) -> list[str]:
        """What a person reads after a merge (``invoke merge``, ``fab collect``)."""
        lines = [
            f"{self.symbol}: {len(self.merged)} groups merged from {len(self.sources)} "
            f"directories into {self.output_dir} ({self.duplicates} duplicates dropped)"
        ]
        lines += [f"forced: {reason}" for reason in self.forced]
        lines += [f"skipped: {reason}" for reason in self.skipped]
        for label, ids in (
            ("failed", self.failed),
            ("missing", self.missing),
            ("not in the groups file", self.unexpected),
        ):
            if ids:
                lines.append(f"{self.symbol}: {label} ({len(ids)}): {', '.join(ids)}")
        return lines

    def rerun_groups(
        self,
        path: Path | None = None,
        output_dir: Path | None = None,
        data_file: str | None = None,
    ) -> str | None:
        """Write the missing and failed groups to a groups file; the command to run them.

        ``path`` defaults to ``OUTPUT/rerun_groups_{SYMBOL}.json`` and the
        re-run's results to ``OUTPUT_rerun``; merge that directory in
        afterwards. ``data_file`` is the ``--data-file`` of the command (default:
        the merged runs' own; ``""``: none, i.e. the period's configured file or
        sample data): runs made elsewhere (``fab collect``) name files of
        another machine. None when nothing is left to run.
        """
        from backtest.runner.groups import write_groups_file

        ids = self.missing + [g for g in self.failed if g not in self.missing]
        if not ids:
            return None
        unknown = [g for g in ids if g not in self.raw_groups]
        if unknown:
            raise MergeError(
                f"no definition for group(s) {', '.join(unknown)}: "
                "pass the groups file to the merge"
            )
        path = Path(path or self.output_dir / f"rerun_groups_{self.symbol}.json")
        write_groups_file(path, self.symbol, [self.raw_groups[g] for g in ids])
        out = Path(output_dir or self.output_dir.with_name(self.output_dir.name + "_rerun"))
        meta = dict(self.metadata)
        if data_file is not None:
            meta["data_file"] = data_file
        from backtest.core.config import recorded_execution
        from backtest.runner.options import runner_arguments

        # as the runs ran: an old run's execution (cost) is said explicitly, the default
        # being bid_ask now
        execution = recorded_execution(meta.get("symbol_settings"))
        values = {
            "groups_file": str(path),
            "output_dir": str(out),
            **{
                key: meta.get(key) or None
                for key in (
                    "period",
                    "start_date",
                    "end_date",
                    "data_file",
                    "risk",
                    "account_size",
                    "news_file",
                    "engine",
                    "server_tz",
                    "save_trades",
                    "drop_invalid",
                )
            },
            "spread_model": execution["spread_model"],
            "spread_source": execution["spread_source"],
            "slippage": execution["slippage"] or None,
        }
        # the project's interpreter (.venv/bin/python), not a bare "python"
        cmd = [sys.executable, "-m", "backtest.run_parallel_backtest", *runner_arguments(values)]
        return shlex.join(cmd)


def _agreeing(meta: dict[str, Any], key: str) -> Any:
    """``meta[key]``; the data checksum also where the data provenance block keeps it."""
    data = meta["data"] if isinstance(meta.get("data"), dict) else {}
    if key == "data_checksum":
        return meta.get(key) or data.get("checksum")
    if key == "data_source":
        return data.get("source")
    if key == "symbol_settings" and isinstance(meta.get(key), dict):
        # as run: a run recorded before the execution settings ran cost, fixed, no
        # slippage (recorded_execution), so it agrees with a run that says so
        from backtest.core.config import recorded_execution

        execution = recorded_execution(meta[key])
        del execution["assumed"]
        return {**meta[key], **execution}
    return meta.get(key)


def _check_metadata(metas: list[tuple[Path, dict[str, Any]]], force: bool) -> list[str]:
    problems = []
    for key in MUST_AGREE:
        known = [(d, m) for d, m in metas if key not in MAY_BE_UNKNOWN or _agreeing(m, key)]
        values = {json.dumps(_agreeing(m, key), sort_keys=True): d for d, m in known}
        if len(values) > 1:
            listed = "; ".join(f"{d}: {v}" for v, d in values.items())
            problems.append(f"different {key} ({listed})")
    if problems and not force:
        raise MergeError(
            "refusing to merge runs with " + ", ".join(problems) + " (force to merge anyway)"
        )
    return problems


def _instant(iso_time: str) -> dt.datetime:
    """An ISO 8601 time as an aware instant (no offset = UTC), for ordering."""
    try:
        moment = dt.datetime.fromisoformat(str(iso_time))
    except ValueError:
        raise MergeError(f"metadata time {iso_time!r} is not ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _merged_metadata(metas: list[tuple[Path, dict[str, Any]]], forced: list[str]) -> dict[str, Any]:
    meta = dict(metas[0][1])
    meta["merged_from"] = [str(d) for d, _ in metas]
    hosts = sorted({str(m["host"]) for _, m in metas if m.get("host")})
    if hosts:
        meta["hosts"] = hosts
    for key, pick in (("start_time", min), ("end_time", max)):
        values = [m[key] for _, m in metas if m.get(key)]
        if values:  # by the instant: hosts may write other UTC offsets
            meta[key] = pick(values, key=_instant)
    if forced:
        meta["merge_forced"] = forced
    return meta


def merge_dirs(
    dirs: list[Path],
    output_dir: Path,
    symbol: str | None = None,
    groups_file: Path | None = None,
    force: bool = False,
    cfg: dict[str, Any] | None = None,
) -> MergeReport:
    """Merge the results of ``symbol`` (detected when one) in ``dirs`` into ``output_dir``."""
    from backtest.runner.outputs import RunRows, read_results, write_results

    dirs = [Path(d) for d in dirs]
    output_dir = Path(output_dir)
    symbol = detect_symbol(dirs, symbol)
    runs = []
    sources: dict[Path, RunRows] = {}  # where each directory's combinations are read
    for directory in dirs:
        try:
            results = read_results(directory, symbol, combos=False)
        except (OSError, ValueError) as exc:
            raise MergeError(f"{directory}: cannot read results: {exc}") from None
        runs.append((directory, results))
        sources[directory] = RunRows(directory, symbol)
    metas = [(d, r.get("metadata") or {}) for d, r in runs]
    forced = _check_metadata(metas, force)

    chosen: dict[str, tuple[Path, dict[str, Any]]] = {}
    duplicates = 0
    raw_groups: dict[str, dict[str, Any]] = {}
    for directory, results in runs:
        if "recovered_from_checkpoint" not in results["metadata"]:  # committed with its results
            raw_groups.update(
                {k: v for k, v in _failed_raw(directory, symbol).items() if k not in raw_groups}
            )
        for record in results.get("groups") or []:
            gid = record.get("group_id")
            if gid not in chosen:
                chosen[gid] = (directory, record)
                continue
            duplicates += 1
            first_dir, first = chosen[gid]
            ok_first, ok_new = first.get("status") == "ok", record.get("status") == "ok"
            same = (
                ok_first
                and ok_new
                and _same_results(first, record, sources[first_dir], sources[directory])
            )
            if ok_first and ok_new and not same:
                raise MergeError(f"group {gid}: different results in {first_dir} and {directory}")
            if ok_new and not ok_first:
                chosen[gid] = (directory, record)

    expected: list[str] | None = None
    if groups_file is not None:
        from backtest.runner.groups import GroupsError, load_groups_file

        try:
            loaded = load_groups_file(Path(groups_file), cfg=cfg, symbol=symbol)
        except GroupsError as exc:
            raise MergeError(str(exc)) from None
        expected = [g.group_id for g in loaded.groups if g.symbol == symbol]
        raw_groups.update({g.group_id: g.raw for g in loaded.groups})

    named = set(expected or [])
    order = (expected or []) + sorted(g for g in chosen if g not in named)
    records = [chosen[g][1] for g in order if g in chosen]
    failed = [r["group_id"] for r in records if r.get("status") != "ok"]
    failed_raw = [
        {**raw_groups[r["group_id"]], "error": r.get("error") or "failed"}
        for r in records
        if r["group_id"] in failed and r["group_id"] in raw_groups
    ]
    metadata = _merged_metadata(metas, forced)
    if groups_file is not None:  # the sweep's whole file, not the first half's
        metadata["groups_file"] = str(groups_file)
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        paths = write_results(
            output_dir,
            symbol,
            metadata,
            records,
            failed_raw,
            lambda record: sources[chosen[record["group_id"]][0]](record),
        )
    except ValueError as exc:  # a part or table of an input is not what its results say
        raise MergeError(f"cannot merge: {exc}") from None
    kept = [(chosen[r["group_id"]][0], r["group_id"]) for r in records]
    skipped = _copy_charts(kept, output_dir) + _copy_daily(kept, output_dir)
    return MergeReport(
        output_dir=output_dir,
        symbol=symbol,
        sources=dirs,
        merged=[r["group_id"] for r in records],
        failed=failed,
        missing=[g for g in (expected or []) if g not in chosen],
        unexpected=[g for g in order if expected is not None and g not in named],
        duplicates=duplicates,
        forced=forced,
        paths=paths,
        metadata=metadata,
        raw_groups=raw_groups,
        skipped=skipped,
    )


def _copy_charts(sources: list[tuple[Path, str]], output_dir: Path) -> list[str]:
    """Bring each kept group's charts along from the directory it came from; what was
    skipped, and why (:func:`_copy_file`)."""
    from backtest.runner.charts import CHART_KINDS, chart_path
    from backtest.runner.rundir import CHARTS_DIR

    sources = [
        (d, gid)
        for d, gid in sources
        if (d / CHARTS_DIR).is_dir() and d.resolve() != output_dir.resolve()
    ]
    charts = (output_dir / CHARTS_DIR).resolve()
    skipped: list[str] = []
    for directory, gid in sources:
        for kind in CHART_KINDS:
            png = chart_path(directory / CHARTS_DIR, gid, kind)
            target = chart_path(output_dir / CHARTS_DIR, gid, kind)
            if target.resolve().parent != charts:  # ids are checked; this is the last guard
                raise MergeError(f"group {gid!r}: its chart would land outside {charts}")
            skipped += _copy_file(png, directory, target, output_dir)
    return skipped


def _copy_daily(sources: list[tuple[Path, str]], output_dir: Path) -> list[str]:
    """Bring each kept group's compact trades (``daily/{group_id}.npz``, ``--save-daily``)
    along, so that walk-forward and robustness work on the merged run as on a local one;
    what was skipped, and why."""
    from backtest.runner.rundir import DAILY_DIR, daily_path

    daily = (output_dir / DAILY_DIR).resolve()
    skipped: list[str] = []
    for directory, gid in sources:
        target = daily_path(output_dir, gid)
        if directory.resolve() == output_dir.resolve():
            continue
        if target.resolve().parent != daily:  # ids are checked; this is the last guard
            raise MergeError(f"group {gid!r}: its daily file would land outside {daily}")
        skipped += _copy_file(daily_path(directory, gid), directory, target, output_dir)
    return skipped


def _copy_file(source: Path, directory: Path, target: Path, output_dir: Path) -> list[str]:
    """Copy ``source`` (a file of the input ``directory``) to ``target`` in ``output_dir``
    atomically (a temporary file renamed over it: an existing link there is replaced, not
    written through). A symbolic link on either side, or a source that is not a regular
    file, is skipped: ``[the reason]``; nothing to copy: ``[]``."""
    from backtest.runner.reading import ResultsError, linked, open_regular

    for link in (linked(source, directory), linked(target.parent, output_dir)):
        if link is not None:
            return [f"{source} not copied: {link} is a symbolic link"]
    try:
        with open_regular(source) as handle:
            atomic_write(target, lambda tmp: _write_from(handle, tmp))
    except FileNotFoundError:
        return []
    except ResultsError:
        return [f"{source} not copied: not a regular file"]
    return []


def _write_from(handle: IO[bytes], path: Path) -> None:
    with open(path, "wb") as out:
        shutil.copyfileobj(handle, out)
