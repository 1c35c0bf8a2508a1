"""Everything the promotion checklist looks at (:class:`Evidence`): the combination, its
control result, the run's robustness file (with its cost stress), the bot folder, and the
whole prop account (the combination with what is deployed for the other symbols)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backtest.analysis.account import AccountCheck
from backtest.analysis.account_picks import PickSpec
from backtest.core.programs import Program
from backtest.promotion.botfolder import (
    BotFolder,
    deployed_symbols,
    live_files,
    params_path,
    read_json,
    refuse_symlinks,
)
from backtest.promotion.candidate import Candidate
from backtest.promotion.checklist import PromoteError
from backtest.promotion.control import ControlResult

# A robustness file's cost stress, when it was made (docs/ANALYSIS.md, "Cost stress").
COST_STRESS_FIELDS = {"survives_1_5x": bool, "text": str, "levels": list, "combinations": list}


@dataclass(frozen=True)
class AccountEvidence:
    """Checklist step 5 on the whole account: the promoted ``symbol`` with the ``others``
    deployed in the bot folder, the ``invoke account`` command that shows every figure,
    and the result (None: ``problem`` says why it cannot be evaluated)."""

    symbol: str
    program: str
    others: tuple[str, ...]
    command: str
    result: AccountCheck | None = None
    problem: str | None = None

    def record(self) -> dict[str, Any] | None:
        """The figures for the promotion log (the parameter file holds the rules table
        and the breaches as well)."""
        if self.result is None:
            return None
        figures = self.result.figures
        short = {k: v for k, v in figures.items() if k not in ("rules", "breaches", "picks")}
        picks = [
            {k: p.get(k) for k in ("symbol", "group_id", "combo", "risk", "risk_pct", "out_dir")}
            for p in figures.get("picks") or []
        ]
        breaches = len(figures.get("breaches") or [])
        return {**short, "picks": picks, "breaches": breaches, "status": self.result.status}


@dataclass(frozen=True)
class Evidence:
    """Everything the promotion checklist looks at."""

    candidate: Candidate
    control: ControlResult
    robustness_path: Path
    robustness: dict[str, Any] | None
    bot: BotFolder
    account: str
    whole_account: AccountEvidence
    min_match: float


def load_robustness(directory: Path, symbol: str) -> tuple[Path, dict[str, Any] | None]:
    """``OUT/robustness_{SYMBOL}.json`` and its content (None when there is none); a
    verdict or a cost stress that is not as ``invoke robustness`` writes it: PromoteError."""
    path = Path(directory) / f"robustness_{symbol}.json"
    if not path.is_file():
        return path, None
    document = read_json(path, "robustness file")
    if not isinstance(document, dict) or not isinstance(document.get("verdict"), dict):
        raise PromoteError(f"{path}: field 'verdict' missing")
    stress = document.get("cost_stress")
    if stress is not None and not (isinstance(stress, dict) and "missing" in stress):
        for key, kind in COST_STRESS_FIELDS.items():
            if not isinstance(stress, dict) or not isinstance(stress.get(key), kind):
                raise PromoteError(f"{path}: field 'cost_stress.{key}' missing or malformed")
    return path, document


def _deployed_pick(bot: BotFolder, symbol: str) -> tuple[PickSpec, float]:
    """What is deployed for ``symbol`` in the bot folder, as a pick of its in-sample run
    and its risk per trade."""
    path = params_path(bot.path, symbol)
    refuse_symlinks(live_files(bot.path, symbol).values())
    document = read_json(path, "parameter file")
    try:
        ins = document["provenance"]["in_sample"]
        pick = PickSpec(Path(ins["dir"]), str(ins["group_id"]), int(ins["combo"]), symbol)
        risk = float(document["settings"]["risk"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PromoteError(
            f"{path}: field provenance.in_sample.dir/group_id/combo or settings.risk "
            f"missing or malformed ({exc})"
        ) from None
    return pick, risk


def account_evidence(
    candidate: Candidate,
    bot: BotFolder,
    program: Program,
    programs_file: Path | None,
    max_breach: float,
    cfg: dict[str, Any],
) -> AccountEvidence:
    """The whole account (:func:`backtest.analysis.account.account_check`): the candidate
    at its run's risk with, for every other symbol deployed in the bot folder, the
    deployed combination (its in-sample run, which must be on this machine) at its
    deployed risk. Nothing else deployed: the candidate alone."""
    from backtest.analysis.account import account_check
    from backtest.analysis.account_picks import AccountError
    from backtest.core.programs import ProgramError

    picks = [PickSpec(candidate.directory, candidate.group_id, candidate.combo, candidate.symbol)]
    risks = [candidate.settings["risk"]]
    for symbol in deployed_symbols(bot.path):
        if symbol != candidate.symbol:
            pick, risk = _deployed_pick(bot, symbol)
            picks.append(pick)
            risks.append(risk)
    command = (
        "invoke account "
        + " ".join(f"--pick {p.out_dir}:{p.group_id}:{p.combo}:{p.symbol}" for p in picks)
        + f" --risk-per-symbol {','.join(f'{r:g}' for r in risks)} --program {program.program_id}"
        + (f" --programs {programs_file}" if programs_file else "")
        + f" --max-breach {max_breach:g}"
    )
    others = tuple(str(p.symbol) for p in picks[1:])
    found = AccountEvidence(candidate.symbol, program.program_id, others, command)
    away = [p for p in picks[1:] if not p.out_dir.is_dir()]
    if away:
        p = away[0]
        return replace(
            found,
            problem=f"the deployed {p.symbol} ({p.group_id} combo {p.combo}) was promoted "
            f"from {p.out_dir}, which is not on this machine",
        )
    try:
        result = account_check(picks, program, risks, max_breach, cfg=cfg)
    except (AccountError, ProgramError) as exc:
        reason = " ".join(str(exc).split())
        return replace(found, problem=f"the account cannot be evaluated: {reason}")
    return replace(found, result=result)
