"""The combination to promote, as its in-sample run recorded it (found by
:func:`backtest.analysis.rerun.pick`, the lookup every analysis tool uses)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backtest.promotion.checklist import PromoteError

# Settings that change a backtest's numbers, besides the symbol's costs and execution
# model (SymbolSpec.as_dict): scored by every source.
SCORING_SETTINGS = ("risk", "account_size", "daily_loss_limit_pct", "max_loss_limit_pct")


@dataclass(frozen=True)
class Candidate:
    """The combination to promote, as the in-sample run recorded it."""

    directory: Path
    symbol: str
    group_id: str
    combo: int
    params: dict[str, Any]
    metrics: dict[str, Any]
    metadata: dict[str, Any]

    @property
    def settings(self) -> dict[str, float]:
        """Risk, account and limits of the run (what the metrics were scored with)."""
        missing = [k for k in SCORING_SETTINGS if k not in self.metadata]
        if missing:
            raise PromoteError(f"{self.directory}: results metadata has no '{missing[0]}'")
        return {k: float(self.metadata[k]) for k in SCORING_SETTINGS}

    @property
    def label(self) -> str:
        return f"{self.group_id} combo {self.combo}"


def load_candidate(directory: Path, group_id: str, combo: int, symbol: str | None) -> Candidate:
    """Group ``group_id``'s combination ``combo`` of the committed in-sample results in
    ``directory``; unknown group or combination, or control results: PromoteError."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.rerun import RerunError, pick
    from backtest.analysis.table import RunTable

    directory = Path(directory)
    symbol = detect_symbol([directory], symbol)
    table = RunTable.read(directory, symbol, checkpoint_fallback=False)
    meta = table.results["metadata"]
    if meta.get("period") == "control":
        raise PromoteError(
            f"{directory}: --from: these are control-period results; give the in-sample run"
        )
    try:
        chosen = pick(table, group_id, combo)
    except RerunError as exc:
        raise PromoteError(f"{directory}: {exc}") from None
    return Candidate(directory, symbol, group_id, combo, chosen.params, chosen.metrics, meta)
