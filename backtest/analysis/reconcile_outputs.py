"""A reconcile's result (:class:`Reconciliation`) and its files: ``reconcile_{SYMBOL}.csv``,
``.html`` and, last (what evidence reads), ``.json``; and what ``invoke reconcile`` prints."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backtest.analysis.reconcile_evidence import BOT_OUTPUT_DIR
from backtest.analysis.reconcile_rows import CSV_COLUMNS

FORMAT_VERSION = 1


# --- the result -------------------------------------------------------------------------


@dataclass
class Reconciliation:
    """One reconcile: its rows, summary and provenance (the JSON document's parts)."""

    symbol: str
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "kind": "reconcile",
            "symbol": self.symbol,
            "summary": self.summary,
            "notes": self.notes,
            "provenance": self.provenance,
            "rows": self.rows,
        }


# --- outputs ----------------------------------------------------------------------------


def output_paths(out_dir: Path, symbol: str) -> dict[str, Path]:
    stem = Path(out_dir) / f"reconcile_{symbol}"
    return {kind: Path(f"{stem}.{kind}") for kind in ("csv", "json", "html")}


def default_output_dir(from_dir: Path | None, bot_dir: Path | None, account: str) -> Path:
    """``--from`` OUT itself; a bot folder's ``ibsweep_reconcile/{account}/``."""
    if from_dir is not None:
        return Path(from_dir)
    assert bot_dir is not None, "either --from or --bot-dir"
    return Path(bot_dir) / BOT_OUTPUT_DIR / account


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(r["text"] for r in value)
    if isinstance(value, bool):
        return str(value).lower()
    return value


def rows_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_value(row.get(k)) for k in CSV_COLUMNS])
    return buffer.getvalue()


def write_outputs(result: Reconciliation, out_dir: Path) -> dict[str, Path]:
    """``reconcile_{SYMBOL}.csv``, ``.html`` and, last (what evidence reads), ``.json``."""
    from backtest.analysis.reconcile_page import page
    from backtest.core.atomic import atomic_write_text

    paths = output_paths(out_dir, result.symbol)
    document = result.document()
    atomic_write_text(paths["csv"], rows_csv(result.rows))
    atomic_write_text(paths["html"], page(document))
    atomic_write_text(
        paths["json"], json.dumps(document, indent=1, allow_nan=False, default=str) + "\n"
    )
    return paths


def summary_lines(result: Reconciliation) -> list[str]:
    """What ``invoke reconcile`` prints."""
    s = result.summary
    c = s["counts"]
    rate = "n/a" if s["match_rate"] is None else f"{s['match_rate']:.1%}"
    period = s["period"]
    lines = [
        f"reconcile {result.symbol} ({s['account']}) {period['start_date']}..{period['end_date']}"
        f": {c['backtest']} backtest trades, {c['live']} live positions",
        f"matched {c['matched']}, missed by the bot {c['missed']}, extra in the bot "
        f"{c['extra']}: match rate {rate}",
    ]
    slip = s["slippage"]
    for side, stats in slip["sides"].items():
        if stats["n"]:
            lines.append(
                f"  slippage {side:<10} n={stats['n']:<3} median {stats['median_points']:g} "
                f"points, p95 {stats['p95_points']:g} points"
            )
    lines.append(f"  {slip['suggestion']}")
    r = s["r_per_trade"]
    lines.append(
        f"R per trade: backtest {_fmt(r['backtest'])}, live {_fmt(r['live'])}; matched "
        f"pairs backtest {_fmt(r['matched_backtest'])}, live {_fmt(r['matched_live'])}, "
        f"difference {_fmt(r['matched_diff'])}"
    )
    if s["reasons"]:
        lines.append(
            "reasons named: "
            + ", ".join(f"{k} {n}" for k, n in s["reasons"].items())
            + (f"; {s['unexplained']} mismatch(es) without a reason" if s["unexplained"] else "")
        )
    offset = s["server_time_offset"]
    if offset.get("text"):
        lines.append(f"server clock: {offset['text']}")
    for note in result.notes:
        lines.append(f"note: {note}")
    return lines


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"
