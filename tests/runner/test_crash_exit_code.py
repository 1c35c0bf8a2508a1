"""A full disk (simulated with a small RLIMIT_FSIZE in the runner's process) is a crash:
exit code 3, one line on stderr, the traceback in run.log, nothing committed; the same
command without the limit resumes."""

from __future__ import annotations

import resource

from tests.runner.helpers import SYMBOL, checkpoint_lines, run_args, run_cli

# Bytes: the checkpoint header (~1.4 KB) and the first group's line (~5.5 KB) fit, the
# second group's line does not; run.log (~0.5 KB) stays under it.
LIMIT = 8000


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
    assert line.startswith("error: the run crashed: OSError: [Errno 27] File too large")
    assert f"traceback in {out / 'run.log'}" in line and "the same command resumes" in line
    assert "ERROR - the run crashed: OSError: [Errno 27] File too large" in log
    assert "Traceback (most recent call last):" in log and "checkpoint.py" in log
    assert "Traceback" not in crashed.stdout
    assert left == [".lock", "checkpoint.jsonl", "run.log"]
    assert resumed.returncode == 0, resumed.stderr
    assert "1 of 2 groups already finished" in resumed.stdout
    assert [r.get("group_id") for r in checkpoint_lines(out)[1:]] == [
        "group_GER40_001",
        "group_GER40_002",
    ]
    assert (out / f"results_manifest_{SYMBOL}.json").exists()
