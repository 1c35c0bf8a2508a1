"""The reconcile as HTML: a section the run's report can embed, and a page of its own.

:func:`section` turns a reconcile document (``reconcile_{SYMBOL}.json``, see
:mod:`backtest.analysis.reconcile`) into one ``<section id="reconcile">``: the counts and
match rate, the slippage per side beside the configured one with its suggestion, R per
trade, the reasons named, the server-clock offset, and every row. It holds no script, no
``style`` attribute and no URL, and every value from the files (a deal's comment above
all) is escaped, so it can go inside the report under that page's Content-Security-Policy
as it is. :func:`page` wraps it into ``reconcile_{SYMBOL}.html``: self-contained and
offline, its policy allowing nothing but its one style element (by sha256), as the report
does (backtest/analysis/report.py).
"""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
table { border-collapse: collapse; margin: 6px 0 14px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #eef3fb; }
td.text { text-align: left; white-space: normal; max-width: 40em; }
.matched { background: #f3fbf3; }
.missed { background: #fdf1f1; }
.extra { background: #fdf8e8; }
.muted { color: #666; }
.warn { color: #9a5b00; }
.mono { font-family: ui-monospace, monospace; }
"""

ROW_COLUMNS = (
    ("status", "status"),
    ("trading_day", "day"),
    ("direction", "dir"),
    ("bt_entry_time", "backtest entry (UTC)"),
    ("bt_entry_price", "bt entry"),
    ("bt_exit_price", "bt exit"),
    ("bt_exit_reason", "bt exit"),
    ("bt_r", "bt R"),
    ("live_position", "position"),
    ("live_entry_time", "live entry (UTC)"),
    ("live_entry_price", "live entry"),
    ("live_exit_price", "live exit"),
    ("live_exit_reason", "live exit"),
    ("live_r", "live R"),
    ("entry_slippage_points", "entry slip (pts)"),
    ("exit_slippage_points", "exit slip (pts)"),
    ("exit_side", "exit side"),
    ("r_diff", "R diff"),
    ("lots_diff", "lots diff"),
    ("live_comment", "comment"),
    ("reasons", "reasons"),
)
TEXT_COLUMNS = {"live_comment", "reasons"}


def _text(value: Any) -> str:
    """A value as escaped HTML text (None: empty; a reasons list: one per line)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "<br>".join(
            escape(str(r.get("text", r)) if isinstance(r, dict) else str(r)) for r in value
        )
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return escape(f"{value:.6g}")
    return escape(str(value))


def _fact(name: str, value: Any) -> str:
    return f"<div><b>{escape(name)}</b> {_text(value)}</div>"


def section(document: dict[str, Any]) -> str:
    """The reconcile of ``document`` as one ``<section id="reconcile">`` (module doc)."""
    s = document.get("summary", {})
    prov = document.get("provenance", {})
    counts = s.get("counts", {})
    rate = s.get("match_rate")
    period = s.get("period", {})
    deals = prov.get("deals", {})
    bars = prov.get("bars", {})
    parts = [
        '<section id="reconcile">',
        f"<h2>Reconcile · {_text(document.get('symbol'))} · {_text(s.get('account'))} · "
        f"{_text(period.get('start_date'))} .. {_text(period.get('end_date'))}</h2>",
        '<div class="facts">',
        _fact(
            "match rate",
            "n/a" if rate is None else f"{rate:.1%}",
        ),
        _fact(
            "trades",
            f"{counts.get('backtest')} backtest, {counts.get('live')} live: "
            f"{counts.get('matched')} matched, {counts.get('missed')} missed by the bot, "
            f"{counts.get('extra')} extra in the bot",
        ),
        _fact(
            "deals",
            f"{deals.get('path')} ({deals.get('format')}, sha256 "
            f"{str(deals.get('sha256') or '')[:16]}), server clock {prov.get('server_tz')}",
        ),
        _fact(
            "bars",
            f"{bars.get('path')} (sha256 {str(bars.get('sha256') or '')[:16]}, "
            f"{bars.get('bars')} bars)",
        ),
        _fact(
            "parameters",
            f"sha256 {str(prov.get('params_sha256') or '')[:16]}, from "
            f"{(prov.get('source') or {}).get('kind')} {(prov.get('source') or {}).get('dir')}",
        ),
        _fact("code", prov.get("code_version")),
        "</div>",
    ]
    slip = s.get("slippage", {})
    parts.append("<h3>Slippage (points; positive = worse than the backtest's fill)</h3>")
    parts.append("<table><tr><th>side</th><th>fills</th><th>median</th><th>p95</th></tr>")
    for side, stats in (slip.get("sides") or {}).items():
        parts.append(
            f"<tr><td>{_text(side)}</td><td>{_text(stats.get('n'))}</td>"
            f"<td>{_text(stats.get('median_points'))}</td><td>{_text(stats.get('p95_points'))}</td></tr>"
        )
    parts.append("</table>")
    parts.append(f'<div class="warn">{_text(slip.get("suggestion"))}</div>')
    r = s.get("r_per_trade", {})
    parts.append(
        "<h3>R per trade</h3><div>"
        f"backtest {_text(r.get('backtest'))}, live {_text(r.get('live'))}; matched pairs: "
        f"backtest {_text(r.get('matched_backtest'))}, live {_text(r.get('matched_live'))}, "
        f"difference {_text(r.get('matched_diff'))}</div>"
    )
    reasons = s.get("reasons") or {}
    if reasons:
        named = ", ".join(f"{k} {n}" for k, n in reasons.items())
        parts.append(f"<h3>Reasons named</h3><div>{_text(named)}</div>")
    offset = (s.get("server_time_offset") or {}).get("text")
    if offset:
        parts.append(f'<div class="warn">server clock: {_text(offset)}</div>')
    for note in document.get("notes") or []:
        parts.append(f'<div class="muted">note: {_text(note)}</div>')
    parts.append("<h3>Trades</h3><table><tr>")
    parts.extend(f"<th>{escape(title)}</th>" for _, title in ROW_COLUMNS)
    parts.append("</tr>")
    for row in document.get("rows") or []:
        status = str(row.get("status") or "")
        css = status if status in ("matched", "missed", "extra") else ""
        cells = "".join(
            f'<td class="text">{_text(row.get(key))}</td>'
            if key in TEXT_COLUMNS
            else f"<td>{_text(row.get(key))}</td>"
            for key, _ in ROW_COLUMNS
        )
        parts.append(f'<tr class="{css}">{cells}</tr>')
    parts.append("</table></section>")
    return "\n".join(parts)


def content_policy() -> str:
    """Nothing may be fetched, run or sent; only the page's one style element applies (by
    its sha256, as the report's policy allows its own: :func:`report.source_hash`)."""
    from backtest.analysis.pages import source_hash

    return (
        f"default-src 'none'; style-src {source_hash(STYLE)}; img-src 'none'; "
        "script-src 'none'; base-uri 'none'; form-action 'none'"
    )


def page(document: dict[str, Any]) -> str:
    """``reconcile_{SYMBOL}.html``: :func:`section` in a self-contained, offline page."""
    title = f"ibsweep reconcile · {document.get('symbol')}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(content_policy())}">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{section(document)}\n</body>\n</html>\n"
    )
