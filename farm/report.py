"""Run one step on every host, collect successes and failures, and print the table.

Like Fabric's ``GroupResult``: every host runs even when some fail; failures are
raised only after the last host finished (:meth:`FarmResult.raise_if_failed`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fabric import Connection

from farm.connect import classify_host_key_error, connection, key_description
from farm.errors import explain
from farm.hosts import Host
from farm.steps import DryRun


@dataclass
class HostOutcome:
    """What one step did on one host: its return value, or the one-line error."""

    host: Host
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class FarmFailed(Exception):
    """Raised after every host ran, when at least one failed; carries all outcomes."""

    def __init__(self, result: FarmResult) -> None:
        self.result = result
        super().__init__("; ".join(o.error or "" for o in result.failed.values()))


@dataclass
class FarmResult:
    outcomes: list[HostOutcome]

    @property
    def succeeded(self) -> dict[str, HostOutcome]:
        return {o.host.name: o for o in self.outcomes if o.ok}

    @property
    def failed(self) -> dict[str, HostOutcome]:
        return {o.host.name: o for o in self.outcomes if not o.ok}

    def raise_if_failed(self) -> None:
        if self.failed:
            raise FarmFailed(self)


Step = Callable[[Any, Host], Any]


def run_one(host: Host, step: Step, dry_run: bool = False) -> HostOutcome:
    """``step(conn, host)`` with a verified connection; any exception becomes a one-line error."""
    if dry_run:
        dry = DryRun(host)
        value = step(dry, host)
        return HostOutcome(host, dry.plan if value is None else (dry.plan, value))
    conn: Connection | None = None
    try:
        conn = connection(host)
        return HostOutcome(host, step(conn, host))
    except Exception as exc:  # every failure is reported per host, never stops the others
        error = classify_host_key_error(host, exc)
        return HostOutcome(
            host,
            error=explain(host.name, host.address, host.port, error, key_description(host, conn)),
        )
    finally:
        if conn is not None:
            conn.close()


def run_each(hosts: list[Host], step: Step, *, dry_run: bool = False) -> FarmResult:
    """Run ``step`` on every host in parallel; outcomes in the hosts' order."""
    if not hosts:
        return FarmResult([])
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        futures = [pool.submit(run_one, h, step, dry_run) for h in hosts]
        return FarmResult([f.result() for f in futures])


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain-text table; missing cells print as ``-``."""
    cells = [[str(r.get(c, "-") if r.get(c) is not None else "-") for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


def outcome_rows(result: FarmResult) -> list[dict[str, Any]]:
    """host / symbol / range / result rows for the deploy-like tasks."""
    return [
        {
            "host": o.host.name,
            "address": f"{o.host.address}:{o.host.port}",
            "symbol": o.host.symbol,
            "range": o.host.range_text,
            "result": o.value if o.ok else "FAILED: " + (o.error or ""),
        }
        for o in result.outcomes
    ]
