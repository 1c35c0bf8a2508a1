"""Small real runs (the runner as a process) for the report and trades tests."""

from __future__ import annotations

import subprocess
import sys
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
