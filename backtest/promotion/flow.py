"""From a finished sweep to the live bot: the production checklist as code.

:func:`promote` gathers the evidence for one combination of a finished in-sample run (its
recorded results, its control-period results and trades, the run's robustness verdict,
the bot folder's ``.env``, news file and promotion log), evaluates the checklist of
docs/PRODUCTION.md as :class:`Check` lines (PASS / FAIL / MISSING / MANUAL, each with its
reason; MISSING names the command that makes the evidence) and, only when no line FAILs
or is MISSING, writes the bot's files as one unit under the bot folder's lock
(:mod:`backtest.promotion.deploy`). :func:`preflight` re-evaluates what is deployed
without writing anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backtest.analysis.account import DEFAULT_MAX_BREACH
from backtest.analysis.reconcile_evidence import MIN_MATCH
from backtest.core.checksum import file_checksum
from backtest.core.programs import DEFAULT_PROGRAM
from backtest.promotion.backtest_checks import backtest_checks
from backtest.promotion.bot_checks import bot_checks, check_account
from backtest.promotion.botfolder import (
    bot_lock,
    bot_state,
    deployed_symbols,
    live_files,
    open_bot_folder,
    params_path,
    read_json,
    refuse_symlinks,
    set_path,
)
from backtest.promotion.candidate import load_candidate
from backtest.promotion.checklist import (
    ACCOUNTS,
    FAIL,
    MISSING,
    PASS,
    Check,
    Config,
    Deployment,
    PromoteError,
    blocking,
)
from backtest.promotion.control import ControlOptions, load_control
from backtest.promotion.deploy import (
    FORMAT_VERSION,
    Written,
    remove_stale_staging,
    write_promotion,
)
from backtest.promotion.evidence import Evidence, account_evidence, load_robustness
from backtest.promotion.setfile import input_names, set_bytes


@dataclass(frozen=True)
class Request:
    """The options of ``invoke promote``."""

    from_dir: Path
    group_id: str
    combo: int
    bot_dir: Path
    control_from: Path | None = None
    account: str = "demo"
    dry_run: bool = False
    symbol: str | None = None
    control: ControlOptions = ControlOptions()
    min_match: float = MIN_MATCH
    program: str = DEFAULT_PROGRAM
    programs_file: Path | None = None
    max_breach: float = DEFAULT_MAX_BREACH


@dataclass
class Outcome:
    """A promotion's checklist, and what it wrote (nothing while a line FAILs or is
    MISSING)."""

    evidence: Evidence
    checks: list[Check]
    written: Written | None = None


def gather(request: Request, cfg: dict[str, Any]) -> Evidence:
    """Read every input of a promotion (PromoteError, ValueError or OSError on bad input);
    runs control for the combination when no control result exists."""
    from backtest.core.programs import load_program

    if request.account not in ACCOUNTS:
        raise PromoteError(f"--account: {request.account!r} must be demo or real")
    check_share(request.min_match, "--min-match")
    check_share(request.max_breach, "--max-breach")
    program = load_program(request.program, request.programs_file)
    bot = open_bot_folder(request.bot_dir, cfg, writable=not request.dry_run)
    candidate = load_candidate(request.from_dir, request.group_id, request.combo, request.symbol)
    control = load_control(candidate, request.control_from, cfg, request.control)
    rob_path, rob = load_robustness(candidate.directory, candidate.symbol)
    account = account_evidence(
        candidate, bot, program, request.programs_file, request.max_breach, cfg
    )
    return Evidence(
        candidate, control, rob_path, rob, bot, request.account, account, request.min_match
    )


def check_share(value: float, option: str) -> None:
    """A share between 0 and 1 (``--min-match``, ``--max-breach``), else PromoteError."""
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise PromoteError(f"{option}: {value!r} must be a number from 0 to 1")


def deployed_execution(symbol: str, cfg: Config) -> dict[str, Any]:
    """The execution settings (spec section 8) the deployment goes live with: the
    configured symbol's (the same settings line holds them equal to the runs')."""
    from backtest.core.config import recorded_execution, symbol_spec

    return recorded_execution(symbol_spec(symbol, cfg).as_dict())


def evaluate(evidence: Evidence, cfg: Config, now: dt.datetime) -> list[Check]:
    """The whole checklist for a promotion, in the order of docs/PRODUCTION.md."""
    cand = evidence.candidate
    deployment = Deployment(cand.symbol, cand.params, cand.settings, evidence.account)
    account_line = check_account(evidence.whole_account)
    return backtest_checks(evidence, cfg) + bot_checks(
        deployment, evidence.bot, cfg, now, evidence.min_match, account_line
    )


def promotion_document(
    evidence: Evidence,
    checks: list[Check],
    cfg: dict[str, Any],
    now: dt.datetime,
    set_file: bytes,
) -> dict[str, Any]:
    """The bot's ``ibsweep_params_{SYMBOL}.json``: parameters, settings, provenance of
    both periods, the checklist."""
    from backtest.core.version import code_version

    cand, ctl = evidence.candidate, evidence.control
    deployment = Deployment(cand.symbol, cand.params, cand.settings, evidence.account)
    ctl_meta = ctl.metadata.get("control", {})
    rob = evidence.robustness
    return {
        "format": FORMAT_VERSION,
        "symbol": cand.symbol,
        "account": evidence.account,
        "promoted_at": now.astimezone(dt.UTC).isoformat(),
        "params": cand.params,
        "params_sha256": deployment.sha256,
        "settings": cand.settings,
        "execution": deployed_execution(cand.symbol, cfg),
        "prop_firm": dict(cfg["prop_firm"]),
        "whole_account": whole_account_record(evidence, full=True),
        "set_file": {
            "name": set_path(Path("."), cand.symbol).name,
            "sha256": hashlib.sha256(set_file).hexdigest(),
            "encoding": "UTF-16 LE with BOM, CRLF",
            "inputs": input_names(deployment, cfg),
        },
        "provenance": {
            "in_sample": {
                "dir": str(cand.directory.resolve()),
                "group_id": cand.group_id,
                "combo": cand.combo,
                **{k: cand.metadata.get(k) for k in ("period", "start_date", "end_date")},
                "data": cand.metadata.get("data") or {"path": cand.metadata.get("data_file")},
                "data_checksum": cand.metadata.get("data_checksum"),
                "code_version": cand.metadata.get("code_version"),
                "metrics": cand.metrics,
            },
            "control": {
                "file": str(ctl.path.resolve()),
                "ran_by_promote": ctl.ran_now,
                **{k: ctl_meta.get(k) for k in ("start_date", "end_date", "trading_days")},
                "data": ctl_meta.get("data"),
                "code_version": ctl.metadata.get("code_version"),
                "metrics": ctl.metrics,
                "trades": None if ctl.trades is None else str(ctl.trades.path.resolve()),
            },
            "robustness": None
            if rob is None
            else {
                "file": str(evidence.robustness_path.resolve()),
                "selected": rob.get("selected"),
                "verdict": rob.get("verdict"),
                "cost_stress": {
                    k: v
                    for k, v in (rob.get("cost_stress") or {}).items()
                    if k in ("survives_1_5x", "text", "combinations", "execution", "missing")
                },
            },
            "promoted_by": code_version(),
        },
        "checklist": [c.as_dict() for c in checks],
    }


def whole_account_record(evidence: Evidence, full: bool) -> dict[str, Any]:
    """The whole-account figures of checklist step 5: every one (``full``: the parameter
    file) or without the rules table and the list of breaches (the promotion log)."""
    account = evidence.whole_account
    figures = account.result.figures if full and account.result else account.record()
    return {"program": account.program, "others": list(account.others), "figures": figures}


def promote(request: Request, cfg: Config, now: dt.datetime | None = None) -> Outcome:
    """Evaluate the checklist; when no line FAILs or is MISSING and it is not a dry run,
    write the bot's files (:func:`write_promotion`) holding the bot folder's lock, after
    checking that nothing changed the folder since its files were read."""
    now = now or dt.datetime.now(dt.UTC)
    evidence = gather(request, cfg)
    checks = evaluate(evidence, cfg, now)
    outcome = Outcome(evidence, checks)
    if blocking(checks) or request.dry_run:
        return outcome
    cand = evidence.candidate
    deployment = Deployment(cand.symbol, cand.params, cand.settings, request.account)
    comments = [
        f"ibsweep {cand.symbol} {cand.group_id} combo {cand.combo} for {request.account.upper()}, "
        f"promoted {now.astimezone(dt.UTC).isoformat()}",
        f"parameter set sha256 {deployment.sha256}",
        f"provenance: {params_path(Path(), cand.symbol).name}",
    ]
    set_file = set_bytes(deployment, cfg, comments)
    document = promotion_document(evidence, checks, cfg, now, set_file)
    entry = {
        "time": now.astimezone(dt.UTC).isoformat(),
        "event": "promote",
        "symbol": cand.symbol,
        "account": request.account,
        "params_sha256": deployment.sha256,
        "from": str(cand.directory.resolve()),
        "group_id": cand.group_id,
        "combo": cand.combo,
        "code_version": cand.metadata.get("code_version"),
        "control": str(evidence.control.path.resolve()),
        "execution": document["execution"],
        "whole_account": whole_account_record(evidence, full=False),
    }
    with bot_lock(request.bot_dir):
        if bot_state(request.bot_dir) != evidence.bot.state:
            raise PromoteError(
                f"{request.bot_dir}: --bot-dir: another promote or rollback changed the bot's "
                "files while this one was checked: nothing written; run it again"
            )
        remove_stale_staging(request.bot_dir)
        outcome.written = write_promotion(
            request.bot_dir, cand.symbol, document, set_file, entry, now
        )
    return outcome


def check_deployed_files(document: dict[str, Any], bot_dir: Path, symbol: str) -> Check:
    """The ``.set`` file is the one the JSON was promoted with (nobody edited it)."""
    path = set_path(bot_dir, symbol)
    if not path.is_file():
        return Check("-", "deployed files", FAIL, f"{path.name} is missing")
    sha = file_checksum(path)
    if sha != document.get("set_file", {}).get("sha256"):
        return Check(
            "-",
            "deployed files",
            FAIL,
            f"{path.name} differs from the one promoted "
            f"{document.get('promoted_at')} (edited by hand?): promote again",
        )
    return Check(
        "-", "deployed files", PASS, f"{path.name} as promoted {document.get('promoted_at')}"
    )


def check_recorded_backtests(document: dict[str, Any]) -> Check:
    """(1) At promotion every backtest line passed (the run folders may not be here)."""
    lines = [c for c in document.get("checklist", []) if c.get("item") == "1"]
    bad = [f"{c['name']} {c.get('status')}" for c in lines if c.get("status") != PASS]
    if not lines or bad:
        problem = "lacks item 1" if not lines else "did not pass: " + ", ".join(bad)
        return Check("1", "backtests (at promotion)", FAIL, f"recorded checklist {problem}")
    prov = document.get("provenance", {})
    ins = prov.get("in_sample", {})
    return Check(
        "1",
        "backtests (at promotion)",
        PASS,
        f"{len(lines)} lines passed at "
        f"{document.get('promoted_at')} ({ins.get('group_id')} combo {ins.get('combo')})",
    )


def check_recorded_account(document: dict[str, Any]) -> Check:
    """(5) The whole account at promotion (the run folders may not be here): the
    promotion's own line; a promotion made before that line: MISSING."""
    name = "whole account (at promotion)"
    lines = [c for c in document.get("checklist", []) if c.get("name") == "whole account"]
    line = lines[0] if lines else None
    if line is None:
        return Check(
            "5", name, MISSING, "the recorded checklist has no whole-account line: promote again"
        )
    return Check("5", name, str(line.get("status")), f"{line.get('reason')}")


def preflight(
    bot_dir: Path,
    cfg: dict[str, Any],
    symbol: str | None = None,
    now: dt.datetime | None = None,
    min_match: float = MIN_MATCH,
) -> dict[str, list[Check]]:
    """The checklist of what is deployed in ``bot_dir`` (per symbol), writing nothing;
    the sessions' lines judge the bot folder's reconciles with ``min_match``."""
    now = now or dt.datetime.now(dt.UTC)
    check_share(min_match, "--min-match")
    bot = open_bot_folder(bot_dir, cfg, writable=False)
    symbols = [symbol] if symbol else deployed_symbols(bot.path)
    if not symbols:
        raise PromoteError(f"{bot.path}: no deployed ibsweep_params_{{SYMBOL}}.json")
    result = {}
    for sym in symbols:
        refuse_symlinks(live_files(bot.path, sym).values())
        path = params_path(bot.path, sym)
        if not path.is_file():
            raise PromoteError(f"{path}: --symbol: no deployed parameters for {sym}")
        document = read_json(path, "parameter file")
        try:
            deployment = Deployment(
                document["symbol"], document["params"], document["settings"], document["account"]
            )
            promoted_at = dt.datetime.fromisoformat(document["promoted_at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PromoteError(f"{path}: field {exc} missing or malformed") from None
        account_line = check_recorded_account(document)
        result[sym] = [
            check_deployed_files(document, bot.path, sym),
            check_recorded_backtests(document),
            *bot_checks(deployment, bot, cfg, now, min_match, account_line, promoted_at),
        ]
    return result
