"""Issue 26's targets beside the figures of one ``invoke bench`` run, so that a regression
shows: the runner's rate on 10^5 combinations, the 10^7 run end to end, the report's size
and open time and ``invoke explore``'s slowest answer on the runs just made, and the test
suite from a fresh clone. A target whose figure the run did not take says so and names the
option that takes it; it is never counted as met.

    invoke bench --suite --runner 100000:1,1000000:2,10000000:2   # every figure, one run
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from backtest.core.version import git_commit

REPO = Path(__file__).resolve().parent.parent

RUNNER_RATIO = 0.70  # the default command's comb/s/core ÷ the kernel's, 10^5, 1 worker
END_TO_END_S = 15 * 60  # 10^7 combinations on 2 cores
START_UP_S = 30.0
WRITING_S = 60.0
REPORT_MB = 15.0  # the report's size, 10^6 and 10^7
OPEN_S = 3.0  # the report opened in headless Chromium
ANSWER_MS = 200.0  # every answer of invoke explore's API at 10^7
SUITE_S = 10 * 60  # .ci/run on a fresh clone, setup included
SUITE_TIMEOUT_S = 3 * 60 * 60  # a suite still running by then is stopped and reported


def looked_at(out: Path, symbol: str) -> dict[str, Any]:
    """The run in ``out``: its report's size and open time in headless Chromium
    (:func:`bench.report_size.open_report`), and its table explored as ``invoke explore``
    serves it (:mod:`bench.explore`, in a process of its own so that its memory is its own)."""
    from backtest.analysis.report import report_path
    from bench.report_size import open_report

    path = report_path(out, symbol)
    with tempfile.TemporaryDirectory(prefix="ibsweep-chromium-") as profile:
        opened = open_report(path, Path(profile))
    table = out / f"results_combos_{symbol}.parquet"
    explored = subprocess.run(
        [sys.executable, "-m", "bench.explore", "--table", str(table), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if explored.returncode != 0:
        raise SystemExit(f"bench.explore on {table} failed:\n{explored.stderr[-2000:]}")
    return {
        "report_mb": path.stat().st_size / 1e6,
        "open_s": opened["open_s"],
        "explore": json.loads(explored.stdout.strip().splitlines()[-1]),
    }


def suite() -> dict[str, Any]:
    """``bash .ci/run`` (the README's test command: setup, then the tests) on a fresh clone
    of this checkout's commit: seconds end to end, and pytest's passed and failed counts.
    As in CI, its setup makes the clone's own venv: pip installs the pinned requirements
    from the configured package index (and apt what is missing)."""
    commit = git_commit(REPO)
    if commit is None:
        return {"error": f"{REPO} is not a git checkout: no fresh clone to test"}
    with tempfile.TemporaryDirectory(prefix="ibsweep-suite-") as tmp:
        clone = Path(tmp) / "clone"
        cloned = subprocess.run(
            ["git", "clone", "-q", str(REPO), str(clone)], capture_output=True, text=True
        )
        if cloned.returncode != 0:
            return {"error": f"git clone {REPO} failed: {cloned.stderr.strip()[-300:]}"}
        started = time.perf_counter()
        ci = subprocess.Popen(
            ["bash", ".ci/run"],
            cwd=clone,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stopped whole on a timeout
        )
        try:
            output, _ = ci.communicate(timeout=SUITE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(ci.pid, signal.SIGKILL)
            ci.communicate()
            return {"error": f"bash .ci/run still running after {SUITE_TIMEOUT_S} s: stopped"}
        seconds = time.perf_counter() - started
    return {
        "commit": commit.replace("-dirty", " (uncommitted changes left out)"),
        "seconds": seconds,
        "exit": ci.returncode,
        **pytest_counts(output),
    }


SUMMARY = re.compile(r"\b\d+ (passed|failed|errors?)\b.* in [\d.]+s")  # pytest's last line


def pytest_counts(output: str) -> dict[str, int]:
    """``passed`` and ``failed`` (errors counted as failed) of pytest's last summary line."""
    line = next((x for x in reversed(output.splitlines()) if SUMMARY.search(x)), "")
    found = {name: int(n) for n, name in re.findall(r"(\d+) (passed|failed|errors?)", line)}
    return {
        "passed": found.get("passed", 0),
        "failed": found.get("failed", 0) + found.get("error", 0) + found.get("errors", 0),
    }


def _check(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def _missing(option: str) -> tuple[str, str]:
    return f"not taken by this run (`invoke bench {option}` takes it)", "not measured"


def targets_table(runs: list[dict[str, Any]], tested: dict[str, Any] | None) -> list[str]:
    """Markdown rows: each target, what this run measured, whether it is met. ``runs``:
    :func:`bench.scale.measure` results (with :func:`looked_at` under ``"then"``);
    ``tested``: :func:`suite`, or None when the suite was not run."""
    by_size = {(r["combinations"], r["workers"]): r for r in runs}
    by_count = {r["combinations"]: r for r in runs}
    rows: list[tuple[str, str, str]] = []

    small = by_size.get((100_000, 1))
    if small:
        ratio = small["combinations"] / small["seconds"] / small["kernel_rate"]
        rows.append(
            (
                "runner ÷ kernel, 10^5 combinations, 1 worker, report included: ≥ 70 %",
                f"{ratio:.0%} ({small['seconds']:.1f} s; kernel {small['kernel_rate']:,.0f}/s)",
                _check(ratio >= RUNNER_RATIO),
            )
        )
    else:
        rows.append(("runner ÷ kernel, 10^5, 1 worker: ≥ 70 %", *_missing("--runner 100000:1")))

    big = by_size.get((10_000_000, 2))  # the target's "on 2 cores"
    for name, value, limit in (
        (
            "10^7 combinations, 2 workers, end to end, report included: < 15 min",
            "seconds",
            END_TO_END_S,
        ),
        ("10^7: start-up < 30 s", "start-up", START_UP_S),
        ("10^7: writing the results < 60 s", "writing", WRITING_S),
    ):
        if big is None:
            rows.append((name, *_missing("--runner 10000000:2")))
            continue
        got = big["seconds"] if value == "seconds" else big["phases"][value]
        rows.append((name, f"{got:.1f} s ({big['workers']} workers)", _check(got < limit)))

    for size, label in ((1_000_000, "10^6"), (10_000_000, "10^7")):
        run = by_count.get(size)
        seen = run.get("then") if run else None
        if not seen:
            option = "--runner 1000000:2" if size == 1_000_000 else "--runner 10000000:2"
            rows.append((f"report at {label}: ≤ 15 MB, opens < 3 s", *_missing(option)))
        else:
            rows.append(
                (
                    f"report at {label}: ≤ 15 MB, opens in headless Chromium < 3 s",
                    f"{seen['report_mb']:.1f} MB, {seen['open_s']:.2f} s",
                    _check(seen["report_mb"] <= REPORT_MB and seen["open_s"] < OPEN_S),
                )
            )
    seen = (by_count.get(10_000_000) or {}).get("then")
    if not seen:
        rows.append(("explore at 10^7: every answer < 200 ms", *_missing("--runner 10000000:2")))
    else:
        e = seen["explore"]
        rows.append(
            (
                "explore at 10^7: every answer < 200 ms",
                f"slowest {e['answer_ms']:.0f} ms ({e['answer_step']}); a digits part's "
                f"count arrives within {e['count_ms']:.0f} ms",
                _check(e["answer_ms"] < ANSWER_MS),
            )
        )

    name = "test suite, fresh clone, setup included (`bash .ci/run`): < 10 min, none failed"
    if tested is None:
        rows.append((name, *_missing("--suite")))
    elif "error" in tested:
        rows.append((name, tested["error"], "not measured"))
    else:
        clean = tested["failed"] == 0 and tested["exit"] == 0
        rows.append(
            (
                name,
                f"{tested['seconds']:.0f} s, {tested['passed']:,} passed, "
                f"{tested['failed']} failed (exit {tested['exit']}, {tested['commit']})",
                _check(tested["seconds"] < SUITE_S and clean),
            )
        )
    return [
        "| target (issue 26) | this run | met |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
    ]


def looked_at_rows(runs: list[dict[str, Any]]) -> list[str]:
    """Markdown rows of each run's report and explored table (:func:`looked_at`)."""
    lines = [
        "| combinations | report MB | report opens (headless Chromium) s | explore: slowest "
        "answer ms | its step | a digits part's count arrives ms | explore RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        seen = r.get("then")
        if not seen:
            continue
        e = seen["explore"]
        lines.append(
            f"| {r['combinations']:,} | {seen['report_mb']:.1f} | {seen['open_s']:.2f} | "
            f"{e['answer_ms']:.0f} | {e['answer_step']} | {e['count_ms']:.0f} | "
            f"{e['rss_mb']:,.0f} |"
        )
    return lines
