"""An append-only JSONL checkpoint of a run, so that an interrupted run resumes.

``OUT/checkpoint.jsonl``: the first line is a header (symbol, period, dates, data
checksum, code version, run settings, the groups' order); then one line per finished
group, its compact record (``group_id``, ``status``, ``best``, ``best_combo``,
``combos_count``, ``params_sha256`` and the ``part`` file that holds its combinations,
:mod:`backtest.runner.rundir`), written with flush + fsync the moment the group finishes,
after its part. A run on the same ``OUT`` skips the groups already ``ok`` and retries
failed ones; a record whose part is missing or altered is run again. A header that does
not match the new run (other data, code, dates or settings) or a finished group whose
resolved parameters differ is refused with the reason: results computed under different
conditions must not be mixed. A torn last line (the process was killed mid-write) is
dropped, not fatal, and its group run again. The header records the results format
(``format_version``); a checkpoint of another format is not resumed (one line saying
so: its finished results stay readable, the run goes to another folder or starts over).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backtest.runner.rundir import (
    CHECKPOINT_FILE,
    FORMAT_VERSION,
    PARTS_DIR,
    folded,
    part_problem,
)

# Header keys that describe the run's order, not the conditions of its results.
_NOT_COMPARED = ("kind", "group_ids")


class ResumeError(ValueError):
    """An existing checkpoint that this run must not continue."""


def _differences(old: Any, new: Any, where: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _differences(old.get(key), new.get(key), f"{where}.{key}" if where else key)
        return out
    return [] if old == new else [f"{where} differs (checkpoint: {old!r}, now: {new!r})"]


def _read_lines(path: Path, log: Callable[[str], None]) -> tuple[list[dict[str, Any]], int]:
    """The parsed lines and the byte length of the good part (a torn last line dropped)."""
    raw = path.read_bytes()
    entries: list[dict[str, Any]] = []
    pos = number = 0
    while pos < len(raw):
        number += 1
        end = raw.find(b"\n", pos)
        line = raw[pos:] if end == -1 else raw[pos:end]
        last = end == -1 or end + 1 >= len(raw)
        try:
            entry = json.loads(line) if line.strip() else None
            if end == -1 or not isinstance(entry, (dict, type(None))):
                raise ValueError("incomplete line")
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            if last:
                log(f"{path}: dropped a torn last line (the run was killed while writing it)")
                break
            raise ResumeError(
                f"{path}: line {number} is corrupt ({exc}); rerun with --fresh to start over"
            ) from None
        if entry is not None:
            entries.append(entry)
        pos = end + 1
    return entries, pos


def _records(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last record per group id (a group retried on resume appears again)."""
    return {e["group_id"]: e for e in entries if isinstance(e.get("group_id"), str)}


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(header, group records by id) of a checkpoint file, read-only; a torn last
    line is dropped, a corrupt line before it raises :class:`ResumeError`."""
    entries, _ = _read_lines(Path(path), lambda _msg: None)
    header = entries[0] if entries and entries[0].get("kind") == "header" else {}
    return header, _records(entries)


@dataclass
class Checkpoint:
    """The open checkpoint of a run: its header and the groups finished so far."""

    path: Path
    header: dict[str, Any]
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        out_dir: Path,
        header: dict[str, Any],
        fresh: bool = False,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> Checkpoint:
        """Continue ``out_dir``'s checkpoint when it matches ``header``, else start one.

        Raises :class:`ResumeError` naming every difference (unless ``fresh``,
        which replaces an existing checkpoint).
        """
        path = Path(out_dir) / CHECKPOINT_FILE
        header = {"kind": "header", "format_version": FORMAT_VERSION, **header}
        if fresh or not path.exists():
            return cls._create(path, header)
        entries, good = _read_lines(path, log)
        if not entries:
            return cls._create(path, header)
        old = entries[0]
        if old.get("kind") != "header":
            raise ResumeError(
                f"{path}: the first line is not a checkpoint header; "
                "rerun with --fresh to start over"
            )
        recorded = old.get("format_version", 1)  # none before format 2
        if recorded != FORMAT_VERSION:
            raise ResumeError(
                f"{Path(out_dir)}: cannot resume: its checkpoint is of results format "
                f"{recorded!r}, this code writes format {FORMAT_VERSION} (news_before/news_after "
                "float64); its finished results stay readable as they are: run into another "
                "--output-dir, or rerun with --fresh to start over in this one"
            )
        diffs = _differences(
            {k: v for k, v in old.items() if k not in _NOT_COMPARED},
            {k: v for k, v in header.items() if k not in _NOT_COMPARED},
            "",
        )
        if diffs:
            raise ResumeError(
                f"{path}: cannot resume: {'; '.join(diffs)}; rerun with --fresh to start over"
            )
        finished = _records(entries[1:])
        if good < path.stat().st_size:
            with open(path, "r+b") as handle:
                handle.truncate(good)
        return cls(path, old, finished)

    @classmethod
    def _create(cls, path: Path, header: dict[str, Any]) -> Checkpoint:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        shutil.rmtree(path.parent / PARTS_DIR, ignore_errors=True)  # a new start: no old parts
        checkpoint = cls(path, header)
        checkpoint._append(header)
        return checkpoint

    def done(self) -> dict[str, dict[str, Any]]:
        """The finished ``ok`` group records by group id (failed ones are retried)."""
        return {gid: rec for gid, rec in self.finished.items() if rec.get("status") == "ok"}

    def check_parts(self, log: Callable[[str], None]) -> None:
        """Forget finished groups whose part file is missing or not the one their record
        commits (it is run again), saying so."""
        for gid, record in list(self.done().items()):
            problem = part_problem(self.path.parent, record)
            if problem is not None:
                log(f"group {gid}: {problem}; it is run again")
                del self.finished[gid]

    def verify_params(self, group_id: str, digest: str) -> None:
        """Refuse a finished group whose resolved combinations (their sha256, ``digest``)
        are not those it was run with."""
        record = self.done().get(group_id)
        if record is None:
            return
        if record.get("params_sha256") != digest:
            raise ResumeError(
                f"{self.path}: cannot resume: group '{group_id}' has different "
                "resolved parameters than when it was run; "
                "rerun with --fresh to start over"
            )

    def order(self, group_ids: list[str]) -> list[str]:
        """The checkpoint's group order, then ids it has not seen, in ``group_ids`` order."""
        known = list(self.header.get("group_ids", []))
        seen = set(known)
        return known + [gid for gid in group_ids if gid not in seen]

    def fold(self, table_name: str, group_ids: list[str]) -> list[Path]:
        """Point the finished records of ``group_ids`` at the run's committed results table
        ``table_name``, which now holds their rows (the file is rewritten atomically); the
        part files they no longer need, for the caller to delete. Records folded before
        are left as they are (a run with nothing to fold leaves the file unchanged)."""
        from backtest.core.atomic import atomic_write_text

        todo = [g for g in group_ids if "file" in (self.finished.get(g, {}).get("part") or {})]
        if not todo:
            return []
        parts = [self.path.parent / self.finished[g]["part"]["file"] for g in todo]
        for gid in todo:
            self.finished[gid] = folded(self.finished[gid], table_name)
        lines = [self.header, *self.finished.values()]
        atomic_write_text(self.path, "".join(json.dumps(e, allow_nan=False) + "\n" for e in lines))
        return parts

    def add(self, record: dict[str, Any]) -> None:
        """Record a finished group (durably, before anything else happens)."""
        self._append(record)
        self.finished[record["group_id"]] = record

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, allow_nan=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
