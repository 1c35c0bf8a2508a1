"""Small real runs (the runner as a process) for the report and trades tests, and the
headless Chromium that opens reports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.runner.helpers import (
    END,
    REPO,
    START,
    run_args,
    run_cli,
    runner_env,
    write_bars,
    write_groups,
)

CHROMIUM = Path("/usr/bin/chromium")
# The flags this closed network needs: nothing may try to reach the outside.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def small_run(folder: Path, *extra: Any) -> Path:
    """Two weeks of GER40 bars from a file, 2 groups × 8 combinations; the output dir."""
    folder.mkdir(parents=True, exist_ok=True)
    bars = write_bars(folder / "bars.parquet", "2024-01-01", END)
    groups = write_groups(folder / "groups.json")
    out = folder / "out"
    result = run_cli(*run_args(bars, groups, out, *extra))
    assert result.returncode == 0, result.stderr
    return out


def sample_run(folder: Path) -> Path:
    """The same groups on built-in sample data (a config whose period file is missing,
    with its own sample folder so that only two weeks are generated); the output dir."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "ibsweep.yaml"
    config.write_text(
        "periods:\n"
        f"  in_sample: {{start_date: '{START}', end_date: '{END}', "
        f"data_file: '{folder / 'missing.parquet'}'}}\n"
        f"run: {{sample_dir: '{folder / 'sample'}'}}\n"
    )
    groups = write_groups(folder / "groups.json")
    out = folder / "out"
    result = run_cli(
        "--groups-file", groups, "--config", config, "--output-dir", out, "--workers", 1
    )
    assert result.returncode == 0, result.stderr
    return out


def invoke(*args: Any) -> subprocess.CompletedProcess:
    """An invoke task as a real process, from the repository."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "invoke"), *map(str, args)],
        cwd=REPO,
        env=runner_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright, with a fresh profile in
    ``profile``: a browser context that opens report files."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run scripts/setup.sh"
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


# Records every Content-Security-Policy violation of the page (before its own scripts run).
_CSP_LISTENER = (
    "window.cspViolations = [];"
    "document.addEventListener('securitypolicyviolation', (e) => "
    "window.cspViolations.push(e.violatedDirective + ' ' + (e.sample || e.blockedURI)));"
)


# When each page has drawn (its script sets these last); functions, which the page's
# policy lets Playwright poll (a bare expression would be eval'ed, which it refuses).
# The report: opened, its first screen drawn (header, the table's first rows, the heatmap)
# and nothing of its opening left to run; its other charts draw when scrolled to
# (:func:`scroll_to`), the 3D surface on a click.
REPORT_DRAWN = "() => window.reportOpened === true"
TABLE_DONE = "() => window.tableDone === true"  # every row shown is in the table
DAY_DRAWN = "() => window.dayDrawn === true"
ACCOUNT_DRAWN = "() => window.accountDraws >= 5"


def open_page(
    context: Any,
    path: Path | str,
    timeout: float = 30_000,
    ready: str = REPORT_DRAWN,
    before: Callable[[Any], None] | None = None,
) -> tuple[Any, dict[str, list]]:
    """The HTML file ``path`` (or a URL: a page a server serves) in a new tab of
    ``context``, loaded until the page has drawn (``ready``, a JavaScript function: by
    default the report opened, :data:`REPORT_DRAWN`; or ``timeout`` ms passed); the tab
    and what the page did: ``console`` (type, text) with page errors, every ``requests``
    URL, ``dialogs`` opened (alert, confirm: dismissed) and ``drawn`` (False when the page
    never finished drawing). ``before``: called with the new tab before it loads (the
    bench starts its counters there)."""
    page = context.new_page()
    if before is not None:
        before(page)
    seen: dict[str, list] = {"console": [], "requests": [], "dialogs": [], "drawn": []}
    page.on("console", lambda m: seen["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: seen["console"].append(("error", str(e))))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.add_init_script(_CSP_LISTENER)
    page.goto(path if isinstance(path, str) else path.as_uri())
    try:
        page.wait_for_function(ready, timeout=timeout)
        seen["drawn"].append(True)
    except Exception:  # the page broke or went elsewhere: the caller's asserts say how
        seen["drawn"].append(False)
    return page, seen


def scroll_to(page: Any, element: str, timeout: float = 30_000) -> None:
    """Scroll the report's ``element`` (an id: ``distribution``, ``detail-section``,
    ``wf-equity``) into view, as a reader does, and wait until what waited for it is drawn."""
    page.evaluate(f"document.getElementById({element!r}).scrollIntoView()")
    page.wait_for_function(f"() => !window.reportPending().includes({element!r})", timeout=timeout)
