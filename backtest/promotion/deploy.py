"""Writing the bot's files and taking them back: a promotion's ``.set``, JSON and log
line as one unit under the bot folder's lock (staged in the folder, the previous files
kept as a restore point whose manifest is written last, then renamed into place; a
failure on the way puts back what was there), and :func:`rollback` to the newest
complete restore point the same way."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backtest.core.atomic import atomic_write, fsync_dir
from backtest.core.checksum import file_checksum
from backtest.promotion.botfolder import (
    BACKUP_DIR,
    LOG_FILE,
    ROLLED_BACK_DIR,
    bot_lock,
    can_create_files,
    live_files,
    own_paths,
    refuse_symlinks,
)
from backtest.promotion.checklist import PromoteError

STAGING_PREFIX = ".ibsweep-staging-"
FORMAT_VERSION = 1
_STAMP = "%Y%m%dT%H%M%S.%fZ"
_MANIFEST_NAME = re.compile(
    r"^ibsweep_params_(?P<symbol>.+)\.(?P<stamp>\d{8}T\d{6}\.\d{6}Z)\.manifest\.json$"
)


def stamp(now: dt.datetime) -> str:
    """A sortable UTC time stamp for backup names (``20261201T083000.123456Z``)."""
    return now.astimezone(dt.UTC).strftime(_STAMP)


@dataclass
class Written:
    """What a promotion or rollback wrote."""

    files: dict[str, Path] = field(default_factory=dict)
    backup: str | None = None
    log_entry: dict[str, Any] = field(default_factory=dict)


def _write(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _manifest_path(folder: Path, symbol: str, when: str) -> Path:
    return folder / f"ibsweep_params_{symbol}.{when}.manifest.json"


def _copy_path(folder: Path, live: Path, when: str) -> Path:
    return folder / f"{live.stem}.{when}{live.suffix}"


@dataclass(frozen=True)
class RestorePoint:
    """A complete backup of a symbol's parameter files: by extension the copy, or None
    where there was no such file (a rollback removes it)."""

    manifest: Path
    stamp: str
    files: dict[str, Path | None]

    def discard(self) -> None:
        """Remove it, the manifest first (a half-removed backup is no restore point)."""
        self.manifest.unlink(missing_ok=True)
        for path in self.files.values():
            if path is not None:
                path.unlink(missing_ok=True)


def save_restore_point(bot_dir: Path, symbol: str, folder: Path, when: str) -> RestorePoint | None:
    """Copy the live parameter files of ``symbol`` into ``folder`` (``NAME.{when}.ext``)
    and then, last, their manifest (sha256 of each copy): only a backup with a manifest
    that matches its files is a restore point. None when there is nothing to keep; a
    failure removes what it wrote."""
    live = live_files(bot_dir, symbol)
    if not any(path.exists() for path in live.values()):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    copies: dict[str, Path | None] = dict.fromkeys(live)
    manifest: dict[str, Any] = {"format": FORMAT_VERSION, "symbol": symbol, "stamp": when}
    try:
        for ext, path in live.items():
            if path.exists():
                copy = _write(_copy_path(folder, path, when), path.read_bytes())
                copies[ext] = copy
                manifest[ext] = file_checksum(copy)
            else:
                manifest[ext] = None
        point = RestorePoint(_manifest_path(folder, symbol, when), when, copies)
        _write(point.manifest, (json.dumps(manifest, indent=1) + "\n").encode())
    except BaseException:
        RestorePoint(_manifest_path(folder, symbol, when), when, copies).discard()
        raise
    return point


def restore_points(folder: Path, symbol: str) -> dict[str, RestorePoint]:
    """The restore points of ``symbol`` in ``folder`` by stamp: manifests whose every
    copy exists with the recorded sha256 (a backup cut short, by a full disk or a kill,
    has no manifest and is left alone)."""
    found: dict[str, RestorePoint] = {}
    if not folder.is_dir():
        return found
    live = live_files(Path("."), symbol)
    for manifest in sorted(folder.iterdir()):
        match = _MANIFEST_NAME.match(manifest.name)
        if match is None or match["symbol"] != symbol:
            continue
        when = match["stamp"]
        copies = {ext: _copy_path(folder, path, when) for ext, path in live.items()}
        refuse_symlinks([manifest, *copies.values()])
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))
            files = {ext: copies[ext] if recorded[ext] else None for ext in live}
            complete = all(
                path is None or (path.is_file() and file_checksum(path) == recorded[ext])
                for ext, path in files.items()
            )
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            complete = False
        if complete and any(files.values()):
            found[when] = RestorePoint(manifest, when, files)
    return found


def _swap_in(moves: list[tuple[str, Path, Path | None]], point: RestorePoint | None) -> None:
    """Rename each staged file over its live one, in order (``(ext, live, staged)``;
    staged None: remove the live file). On a failure the files already moved get their
    previous versions back from ``point`` (or are removed: there was none) and ``point``
    is discarded. The last move, the log, is never undone: when it fails it changed
    nothing, and after it nothing can fail."""
    done: list[tuple[str, Path]] = []
    try:
        for ext, live, staged in moves:
            if staged is None:
                live.unlink(missing_ok=True)
            else:
                os.replace(staged, live)
            done.append((ext, live))
    except BaseException:
        previous = point.files if point is not None else {}
        if point is not None:
            point.manifest.unlink(missing_ok=True)
        for ext, live in done:
            copy = previous.get(ext)
            if copy is not None:
                os.replace(copy, live)
            else:
                live.unlink(missing_ok=True)
        if point is not None:
            point.discard()
        raise
    fsync_dir(moves[-1][1].parent)


def replace_live_files(
    bot_dir: Path,
    symbol: str,
    new: Mapping[str, bytes | None],
    keep_in: Path,
    entry: dict[str, Any],
    when: str,
) -> RestorePoint | None:
    """Make ``new`` (extension -> content, None: no such file) the live parameter files
    of ``symbol`` and append ``entry`` to the promotion log, as one unit: all of it is
    staged in the bot folder, the live files are kept as a restore point in ``keep_in``
    (stamp ``when``), then everything is renamed into place, the log last. A failure on
    the way leaves the bot folder as it was. Call it holding :func:`bot_lock`."""
    bot_dir = Path(bot_dir)
    live = live_files(bot_dir, symbol)
    log = bot_dir / LOG_FILE
    refuse_symlinks(own_paths(bot_dir, symbol))
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(dir=bot_dir, prefix=STAGING_PREFIX))
        moves = [
            (ext, live[ext], None if data is None else _write(staging / live[ext].name, data))
            for ext, data in new.items()
        ]
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        old_log = log.read_bytes() if log.exists() else b""
        moves.append(("log", log, _write(staging / LOG_FILE, old_log + line)))
        point = save_restore_point(bot_dir, symbol, keep_in, when)
        _swap_in(moves, point)
        return point
    except OSError as exc:
        raise PromoteError(
            f"{bot_dir}: writing the bot's files failed ({' '.join(str(exc).split())}): "
            "nothing changed in the bot folder"
        ) from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def remove_stale_staging(bot_dir: Path) -> None:
    """Staging folders a killed promotion left behind (only under the lock: none is in use)."""
    for folder in Path(bot_dir).glob(f"{STAGING_PREFIX}*"):
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


def write_promotion(
    bot_dir: Path,
    symbol: str,
    document: dict[str, Any],
    set_bytes: bytes,
    log_entry: dict[str, Any],
    now: dt.datetime,
) -> Written:
    """Write the ``.set`` file and the JSON and append ``log_entry`` to the log as one unit
    (:func:`replace_live_files`), the previous files kept in ``ibsweep_backups/``."""
    bot_dir, when = Path(bot_dir), stamp(now)
    text = json.dumps(document, indent=1, sort_keys=False) + "\n"
    live = live_files(bot_dir, symbol)
    backup = when if any(path.exists() for path in live.values()) else None
    entry = {**log_entry, "backup": backup}
    new = {"set": set_bytes, "json": text.encode()}
    replace_live_files(bot_dir, symbol, new, bot_dir / BACKUP_DIR, entry, when)
    return Written(live, backup, entry)


def rollback(bot_dir: Path, symbol: str, now: dt.datetime) -> Written:
    """Restore the newest restore point of ``symbol``'s parameter files byte for byte as
    one unit (:func:`replace_live_files`); the files it replaces are kept under
    ``ibsweep_backups/rolled_back/``; the restore point is used up; log it."""
    bot_dir = Path(bot_dir)
    if not bot_dir.is_dir():
        raise PromoteError(f"{bot_dir}: --bot-dir: bot folder does not exist")
    if not can_create_files(bot_dir):
        raise PromoteError(f"{bot_dir}: --bot-dir: bot folder is not writable")
    refuse_symlinks(own_paths(bot_dir, symbol))
    backups = bot_dir / BACKUP_DIR

    def newest() -> RestorePoint:
        points = restore_points(backups, symbol)
        if not points:
            raise PromoteError(
                f"{backups}: no backup of ibsweep_params_{symbol} to roll back to (a "
                "backup is one with its manifest)"
            )
        return points[max(points)]

    newest()  # refused before anything is written, the lock file included
    with bot_lock(bot_dir):
        remove_stale_staging(bot_dir)
        point = newest()
        when = stamp(now)
        live = live_files(bot_dir, symbol)
        kept = backups / ROLLED_BACK_DIR
        entry = {
            "time": now.astimezone(dt.UTC).isoformat(),
            "event": "rollback",
            "symbol": symbol,
            "restored": point.stamp,
            "replaced_kept_as": [
                str(_copy_path(kept, path, when).relative_to(bot_dir))
                for path in live.values()
                if path.exists()
            ],
        }
        new = {
            ext: None if copy is None else copy.read_bytes() for ext, copy in point.files.items()
        }
        replace_live_files(bot_dir, symbol, new, kept, entry, when)
        point.discard()
    return Written(
        {ext: live[ext] for ext, copy in point.files.items() if copy}, point.stamp, entry
    )
