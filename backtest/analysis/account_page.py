"""The "Account" page of ``invoke account``: one self-contained, offline HTML file.

The same conventions as the run report (:mod:`backtest.analysis.report`, whose helpers it
uses): plotly.js from the pinned ``plotly`` package inlined, no request leaves the page,
a Content-Security-Policy of ``default-src 'none'`` that allows only the page's own script
and style elements by their sha256 (no 'unsafe-inline', no 'unsafe-eval'); the template
(``templates/account.html.j2``) is autoescaped and renders every text of the analysis;
the page's code (``templates/account.js``) only draws the charts from the JSON block
(``<``, ``>``, ``&`` escaped) and writes no HTML. Tested in headless Chromium
(``tests/analysis/test_account_page_browser.py``).
"""

from __future__ import annotations

from typing import Any

TEMPLATE = "account.html.j2"
SCRIPT = "account.js"
STYLES = ("report.css", "account.css")  # the report's look, and this page's few additions


def _chart_data(document: dict[str, Any]) -> dict[str, Any]:
    """What the charts need (the page's JSON block): the history's columns, the program's
    lines, the risk sizing and the replay's and simulation's days to pass."""
    program = document["program"]
    h = document["history"]
    return {
        "account_size": program["account_size"],
        "targets_pct": [p["profit_target_pct"] for p in program["phases"]],
        "daily_loss_pct": program["daily_loss_pct"],
        "overall_loss_pct": program["overall_loss_pct"],
        "history": {
            key: h[key]
            for key in (
                "date",
                "end",
                "lowest_closed",
                "lowest_equity",
                "daily_loss_closed_pct",
                "daily_loss_equity_pct",
                "net_by_symbol",
            )
        },
        "levels": [
            {
                "risk_pct": lv["risk_pct"],
                "p_pass": lv["simulation"]["p_pass"],
                "p_breach": lv["simulation"]["p_breach"],
                "replay_p_pass": lv["replay"]["p_pass"],
                "replay_p_breach": lv["replay"]["p_breach"],
            }
            for lv in document["risk_sizing"]["levels"]
        ],
        "max_breach": document["risk_sizing"]["max_breach"],
        "best": (document["risk_sizing"]["best"] or {}).get("risk_pct"),
        "chosen_risk_pct": document["risk_pct"],
        "chosen": {
            "p_pass": document["simulation"]["p_pass"],
            "p_breach": document["simulation"]["p_breach"],
        },
        "pass_curve": document["simulation"]["pass_curve"],
        "replay_histogram": document["replay"]["days_to_pass_histogram"],
    }


def render_account(document: dict[str, Any]) -> str:
    """The page's HTML for the analysis ``document`` (what ``account_*.json`` holds)."""
    import jinja2

    from backtest.analysis.pages import render_page

    return render_page(
        TEMPLATE,
        SCRIPT,
        STYLES,
        _chart_data(document),
        undefined=jinja2.StrictUndefined,
        d=document,
    )
