"""Everything the promotion checklist looks at (:class:`Evidence`), and the robustness
file of the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backtest.promotion.botfolder import BotFolder, read_json
from backtest.promotion.candidate import Candidate
from backtest.promotion.checklist import PromoteError
from backtest.promotion.control import ControlResult


@dataclass(frozen=True)
class Evidence:
    """Everything the promotion checklist looks at."""

    candidate: Candidate
    control: ControlResult
    robustness_path: Path
    robustness: dict[str, Any] | None
    bot: BotFolder
    account: str


def load_robustness(directory: Path, symbol: str) -> tuple[Path, dict[str, Any] | None]:
    """``OUT/robustness_{SYMBOL}.json`` and its content (None when there is none)."""
    path = Path(directory) / f"robustness_{symbol}.json"
    if not path.is_file():
        return path, None
    document = read_json(path, "robustness file")
    if not isinstance(document, dict) or not isinstance(document.get("verdict"), dict):
        raise PromoteError(f"{path}: field 'verdict' missing")
    return path, document
