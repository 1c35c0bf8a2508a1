"""What a reconcile says for a promotion check (production checklist): is there a reconcile
of this parameter set, of a session that started after a moment, with a match rate at or
above a minimum (PASS / FAIL / MISSING, with the reason). Missing evidence is never a PASS."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

MIN_MATCH = 0.9
BOT_OUTPUT_DIR = "ibsweep_reconcile"  # inside the bot folder, one sub-folder per account
PASS, FAIL, MISSING = "PASS", "FAIL", "MISSING"


@dataclass(frozen=True)
class Evidence:
    """What a reconcile says for a promotion check: PASS, FAIL or MISSING, and why."""

    status: str
    reason: str
    path: Path | None = None


def find_reconcile(where: Path, symbol: str, account: str | None = None) -> Path | None:
    """The ``reconcile_{SYMBOL}.json`` that ``where`` names: the file itself, a folder
    holding it, or a bot folder (its ``ibsweep_reconcile/{account}/``)."""
    where = Path(where)
    name = f"reconcile_{symbol}.json"
    if where.is_file():
        return where
    candidates = [where / name]
    if account:
        candidates.append(where / BOT_OUTPUT_DIR / account.lower() / name)
    return next((c for c in candidates if c.is_file()), None)


def reconcile_evidence(
    where: Path,
    symbol: str,
    params_sha256: str,
    account: str = "demo",
    after: dt.datetime | None = None,
    min_match: float = MIN_MATCH,
) -> Evidence:
    """Whether a reconcile in ``where`` (a file, an output folder or a bot folder) is
    evidence for the parameter set ``params_sha256`` (:func:`parameter_set_sha256`, the
    ``params_sha256`` of ``ibsweep_params_{SYMBOL}.json``) on an ``account`` session
    that started after ``after``: PASS with a match rate at or above ``min_match``, FAIL
    below it (or when the file cannot be read), MISSING when there is no such reconcile
    (none, other parameters, another account, a session before ``after``, nothing to
    compare). Missing evidence is never a PASS."""
    path = find_reconcile(Path(where), symbol, account)
    if path is None:
        return Evidence(MISSING, f"no reconcile_{symbol}.json of a {account} session in {where}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        summary, provenance = document["summary"], document["provenance"]
        rate = summary["match_rate"]
        got_sha, got_account = provenance["params_sha256"], summary["account"]
        started = dt.datetime.fromisoformat(summary["period"]["session_start"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return Evidence(FAIL, f"{path}: not a readable reconcile ({exc})", path)
    if got_sha != params_sha256:
        return Evidence(
            MISSING, f"{path.name} reconciles another parameter set ({str(got_sha)[:12]})", path
        )
    if str(got_account).lower() != account.lower():
        return Evidence(MISSING, f"{path.name} reconciles a {got_account} session", path)
    if after is not None and started < after:
        return Evidence(
            MISSING,
            f"{path.name}: its first session started {started.isoformat()}, before "
            f"{after.isoformat()}",
            path,
        )
    counts = summary.get("counts", {})
    if rate is None:
        return Evidence(MISSING, f"{path.name}: no trade on either side to compare", path)
    text = (
        f"match rate {rate:.1%} ({counts.get('matched')} matched, {counts.get('missed')} "
        f"missed, {counts.get('extra')} extra) {summary['period']['start_date']}.."
        f"{summary['period']['end_date']}"
    )
    if rate < min_match:
        return Evidence(FAIL, f"{text} below {min_match:.0%}", path)
    return Evidence(PASS, text, path)
