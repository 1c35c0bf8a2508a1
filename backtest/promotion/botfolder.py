"""The live bot's folder as promote reads it: the names of promote's own files, the
``.env``, the promotion log, the news file, the state of the parameter files when they
were read, and the folder's lock. Bad input raises :class:`PromoteError` naming the file
and the field or line."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.core.checksum import file_checksum
from backtest.promotion.checklist import Config, PromoteError

LOG_FILE = "ibsweep_promotions.jsonl"
BACKUP_DIR = "ibsweep_backups"
ROLLED_BACK_DIR = "rolled_back"
_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


# --- file names in the bot folder ------------------------------------------------------


def params_path(bot_dir: Path, symbol: str) -> Path:
    return Path(bot_dir) / f"ibsweep_params_{symbol}.json"


def set_path(bot_dir: Path, symbol: str) -> Path:
    return Path(bot_dir) / f"ibsweep_params_{symbol}.set"


def live_files(bot_dir: Path, symbol: str) -> dict[str, Path]:
    """The parameter files the bot reads, by extension: the ``.set`` first (a JSON always
    describes a complete ``.set``), then the JSON."""
    return {"set": set_path(bot_dir, symbol), "json": params_path(bot_dir, symbol)}


def own_paths(bot_dir: Path, symbol: str | None = None) -> list[Path]:
    """Every path promote writes in the bot folder (the symbol's files when given)."""
    from backtest.runner.execute import LOCK_FILE

    backups = Path(bot_dir) / BACKUP_DIR
    paths = [Path(bot_dir) / LOG_FILE, backups, backups / ROLLED_BACK_DIR, backups / LOCK_FILE]
    return paths + (list(live_files(bot_dir, symbol).values()) if symbol else [])


def deployed_symbols(bot_dir: Path) -> list[str]:
    """The symbols with a deployed ``ibsweep_params_{SYMBOL}.json`` in the bot folder."""
    names = sorted(Path(bot_dir).glob("ibsweep_params_*.json"))
    return [p.name[len("ibsweep_params_") : -len(".json")] for p in names]


def refuse_symlinks(paths: Iterable[Path]) -> None:
    """Promote reads and writes only real files inside the bot folder: a symbolic link
    among ``paths`` (it could lead anywhere) is bad input."""
    for path in paths:
        if path.is_symlink():
            raise PromoteError(
                f"{path}: a symbolic link (to {os.readlink(path)}); promote reads and writes "
                "only real files inside the bot folder: replace the link by the file or folder"
            )


def read_json(path: Path, what: str) -> Any:
    """A JSON file's content; unreadable: PromoteError naming it as ``what``."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PromoteError(f"{path}: not a readable {what}: {' '.join(str(exc).split())}") from None


# --- what the bot reads ----------------------------------------------------------------


def read_env(path: Path) -> dict[str, str]:
    """The variables of a ``.env`` file: ``KEY=VALUE`` lines (``export`` allowed), blank
    lines and ``#`` comments; values may be quoted ('...' or "..."), an unquoted value
    ends at `` #``. A line that is none of these, an unclosed quote or a key set twice:
    PromoteError naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromoteError(f"{path}: .env file not found (the bot's account settings)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromoteError(f"{path}: cannot read: {exc}") from None
    found: dict[str, str] = {}
    where: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(stripped)
        if match is None:
            raise PromoteError(f"{path}: line {number}: not KEY=VALUE: {stripped[:40]!r}")
        key, value = match.group(1), match.group(2).strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            rest = value[end + 1 :].strip() if end > 0 else ""
            if end < 0 or (rest and not rest.startswith("#")):
                raise PromoteError(f"{path}: line {number}: {key}: unclosed or trailing quote")
            value = value[1:end]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        if key in found:
            raise PromoteError(f"{path}: line {number}: {key} set twice (also line {where[key]})")
        found[key], where[key] = value, number
    return found


def read_log(path: Path) -> list[dict[str, Any]]:
    """The promotion log (one JSON object a line); none yet: ``[]``."""
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PromoteError(f"{path}: cannot read the promotion log: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise PromoteError(f"{path}: line {number}: not a JSON log entry") from None
        if not isinstance(entry, dict) or "time" not in entry or "event" not in entry:
            raise PromoteError(f"{path}: line {number}: field 'time' or 'event' missing")
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class NewsFile:
    """The news file a bot reads: the ``.env`` variable naming it, where it is, its
    events (None when it could not be read; ``problem`` says why)."""

    variable: str
    path: Path | None
    events: pd.DataFrame | None
    problem: str | None = None


def read_news(bot_dir: Path, env: dict[str, str], variable: str) -> NewsFile:
    """The bot's news file as its ``.env`` names it (relative: to the bot folder)."""
    from backtest.data.news import NewsError, load_news

    value = env.get(variable)
    if not value:
        return NewsFile(variable, None, None, f"{variable} is not set in the bot's .env")
    path = Path(value) if Path(value).is_absolute() else Path(bot_dir) / value
    try:
        return NewsFile(variable, path, load_news(path))
    except NewsError as exc:
        return NewsFile(variable, path, None, str(exc))


@dataclass(frozen=True)
class BotFolder:
    """The live bot's folder: its ``.env`` variables, promotion log, news file, and the
    state of promote's own files when it was read (:func:`bot_state`)."""

    path: Path
    env_path: Path
    env: dict[str, str]
    log: list[dict[str, Any]]
    news: NewsFile
    state: dict[str, str] = field(default_factory=dict)


def can_create_files(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, then removed: permission bits
    do not tell for root, nor for a read-only mount)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".ibsweep-probe-")
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def bot_state(bot_dir: Path) -> dict[str, str]:
    """sha256 of the promotion log and of every deployed parameter file, by name: what a
    promotion's checks read from the bot folder and its writing replaces."""
    names = [LOG_FILE, *(p.name for p in Path(bot_dir).glob("ibsweep_params_*"))]
    return {
        name: file_checksum(Path(bot_dir) / name)
        for name in sorted(names)
        if (Path(bot_dir) / name).is_file() and not (Path(bot_dir) / name).is_symlink()
    }


def open_bot_folder(bot_dir: Path, cfg: Config, writable: bool) -> BotFolder:
    """Read the bot folder; missing, not a folder, (when ``writable``) not writable, or
    a symbolic link where promote keeps its files: PromoteError."""
    path = Path(bot_dir)
    if not path.exists():
        raise PromoteError(f"{path}: --bot-dir: bot folder does not exist")
    if not path.is_dir():
        raise PromoteError(f"{path}: --bot-dir: not a folder")
    if writable and not can_create_files(path):
        raise PromoteError(f"{path}: --bot-dir: bot folder is not writable")
    refuse_symlinks(own_paths(path))
    state = bot_state(path)  # first: a change after this is a change since the reading
    settings = cfg["promote"]
    env_path = path / settings["env_file"]
    env = read_env(env_path)
    log = read_log(path / LOG_FILE)
    news = read_news(path, env, settings["env_news_file"])
    return BotFolder(path, env_path, env, log, news, state)


@contextmanager
def bot_lock(bot_dir: Path) -> Iterator[None]:
    """Hold the bot folder's lock while writing: the runner's lock of its output folder,
    taken on ``ibsweep_backups/.lock``; a second promote or rollback of the folder at the
    same time is refused (PromoteError)."""
    from backtest.runner.execute import lock_output
    from backtest.runner.plan import RunError

    refuse_symlinks(own_paths(bot_dir))
    try:
        fd = lock_output(Path(bot_dir) / BACKUP_DIR)
    except RunError:
        raise PromoteError(
            f"{bot_dir}: --bot-dir: another promote or rollback is writing to it: nothing "
            "written; run this one again when it has finished"
        ) from None
    try:
        yield
    finally:
        os.close(fd)
