"""A crash is exit code 3 with one line on stderr, never Python's 1 ("some groups failed"):
a full disk (simulated with a small RLIMIT_FSIZE in the runner's process) leaves the
traceback in run.log and nothing committed, and the same command without the limit
resumes without computing a group again; an error outside any run leaves its traceback
in a temporary file."""

from __future__ import annotations

import resource
import subprocess
import sys

from tests.runner.helpers import REPO, SYMBOL, checkpoint_lines, run_args, run_cli, runner_env

# Bytes: each group's part file (~10 KB), the checkpoint (~3 KB) and run.log fit; the
# results Parquet table (~17 KB), the first result file written, does not.
LIMIT = 12000


def _file_size_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_full_disk_exits_3_with_one_line_and_the_traceback_in_run_log(baseline, dataset, tmp_path):
    # Arrange: baseline ran first, so the numba caches exist and need no writing
    out = tmp_path / "out"

    # Act
    crashed = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--skip-charts"), preexec_fn=_file_size_limit
    )
    left = sorted(p.name for p in out.iterdir())
    log = (out / "run.log").read_text()
    resumed = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"))

    # Assert
    assert crashed.returncode == 3
    (line,) = crashed.stderr.splitlines()
    assert line.startswith("error: the run crashed: OSError: [Errno 27]")
    assert "File too large (disk full or over a file size limit: free space first)" in line
    assert f"traceback in {out / 'run.log'}" in line and "the same command resumes" in line
    assert "ERROR - the run crashed: OSError: [Errno 27]" in log
    assert "Traceback (most recent call last):" in log and "outputs.py" in log
    assert "Traceback" not in crashed.stdout
    assert left == [".lock", "checkpoint.jsonl", "parts", "run.log"]
    assert resumed.returncode == 0, resumed.stderr
    assert "2 of 2 groups already finished" in resumed.stdout
    assert "INFO - [" not in resumed.stdout  # no group computed again
    # each group once; the order is the order the two workers finished them in
    assert sorted(r.get("group_id") for r in checkpoint_lines(out)[1:]) == [
        "group_GER40_001",
        "group_GER40_002",
    ]
    assert (out / f"results_manifest_{SYMBOL}.json").exists()


def test_error_outside_any_run_is_one_line_and_exit_3(tmp_path):
    # Arrange: an entry point that fails before a run exists (as a broken option would)
    code = (
        "from backtest.runner.main import run_and_exit\n"
        "def entry():\n"
        "    raise AttributeError(\"'Namespace' object has no attribute 'x'\")\n"
        "run_and_exit(entry)\n"
    )
    env = {**runner_env(), "TMPDIR": str(tmp_path)}

    # Act
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )

    # Assert
    assert result.returncode == 3
    (line,) = result.stderr.splitlines()
    (saved,) = tmp_path.glob("ibsweep-crash-*.log")
    assert line == (
        "error: the run crashed: AttributeError: 'Namespace' object has no attribute 'x'; "
        f"traceback in {saved}"
    )
    assert "Traceback (most recent call last):" in saved.read_text()
