"""Every self-contained page (the report, a drawn day, the Account page, the reconcile)
is rendered by the report's one set of helpers, and every browser test opens its page
with the one headless Chromium of report_helpers: no module copies those lines, and none
reaches into the report's private names."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.runner.helpers import REPO

REPORT = "backtest.analysis.report"


def _trees(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_no_module_imports_a_private_name_of_the_report():
    private = [
        f"{path.relative_to(REPO)}: {alias.name}"
        for path, tree in _trees(REPO / "backtest")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == REPORT
        for alias in node.names
        if alias.name.startswith("_")
    ]

    assert private == []


def test_the_pages_are_rendered_by_the_reports_one_function():
    callers = {
        path.name
        for path, tree in _trees(REPO / "backtest" / "analysis")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "render_page"
    }
    made_here = {  # who builds a policy, inlines plotly.js or sets up jinja2 itself
        path.name
        for path, tree in _trees(REPO / "backtest" / "analysis")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("get_plotlyjs", "Environment", "sha256")
        and path.name in ("day.py", "account_page.py", "reconcile_page.py")
    }

    assert {"report.py", "day.py", "account_page.py"} <= callers
    assert made_here == set()


def test_only_report_helpers_starts_chromium():
    starters = {
        path.name
        for path, tree in _trees(REPO / "tests")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "launch_persistent_context"
    }

    assert starters == {"report_helpers.py"}
