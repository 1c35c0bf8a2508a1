"""The checklist's vocabulary: a :class:`Check` line and its statuses, what blocks a
promotion, the table printed, bad input (:class:`PromoteError`) and the
:class:`Deployment` the lines of items 2-6 judge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASS, FAIL, MISSING, MANUAL = "PASS", "FAIL", "MISSING", "MANUAL"
BLOCKING = (FAIL, MISSING)
ACCOUNTS = ("demo", "real")
# Percentage comparisons allow the prop view's tolerance (docs/READINGS.md, reading 6).
PCT_TOLERANCE = 1e-9

Config = dict[str, Any]


class PromoteError(ValueError):
    """Bad input to a promotion (exit code 2): the message names the file and field."""


@dataclass(frozen=True)
class Check:
    """One line of the checklist: its item number (docs/PRODUCTION.md), what, the result."""

    item: str
    name: str
    status: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "name": self.name, "status": self.status, "reason": self.reason}


def blocking(checks: list[Check]) -> list[Check]:
    """The lines that stop a promotion: FAIL, and MISSING (no evidence is no pass)."""
    return [c for c in checks if c.status in BLOCKING]


def format_table(checks: list[Check]) -> str:
    """The checklist as an aligned text table (item, status, check, reason)."""
    width = max(len(c.name) for c in checks)
    status = max(len("status"), *(len(c.status) for c in checks))
    lines = [f"{'#':<2} {'status':<{status}} {'check':<{width}} reason"]
    lines += [f"{c.item:<2} {c.status:<{status}} {c.name:<{width}} {c.reason}" for c in checks]
    return "\n".join(lines)


@dataclass(frozen=True)
class Deployment:
    """What goes (or went) live: symbol, parameters, risk settings, account."""

    symbol: str
    params: dict[str, Any]
    settings: dict[str, float]
    account: str

    @property
    def sha256(self) -> str:
        """The parameter set's identity (symbol, parameters, risk: everything the ``.set``
        carries), the one ``invoke reconcile`` records too."""
        from backtest.analysis.reconcile_deploy import parameter_set_sha256

        return parameter_set_sha256(self.symbol, self.params, self.settings["risk"])
