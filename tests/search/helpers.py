"""Shared pieces of the search tests: two months of GER40 bars, a small space, the
``invoke optimize`` command as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.runner.helpers import REPO, SYMBOL, write_bars

START, END = "2024-01-08", "2024-02-23"
SPACE = """\
symbol: GER40
params:
  trade_end: "17:30"
grid:
  ib_end: {start: "09:15", stop: "10:30", step: 15}
  sl_mult: {start: 0.5, stop: 2.0, step: 0.25}
  tp_mult: {start: 0.0, stop: 3.0, step: 0.5}
  direction: [both, long, short]
constraints:
  - "tp_mult == 0 or tp_mult >= sl_mult"
"""


def bars(folder: Path) -> Path:
    """Two months of synthetic GER40 M1 bars (the same file for a folder)."""
    path = folder / "bars.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_bars(path, "2024-01-01", "2024-02-29")
    return path


def space(folder: Path, text: str = SPACE, name: str = "space.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def env(fault: str | None = None) -> dict[str, str]:
    out = {
        k: v
        for k, v in os.environ.items()
        if k not in ("IBSWEEP_FAULT", "IBSWEEP_CONFIG", "IBSWEEP_OPTIMIZE_FAULT")
    }
    if fault:
        out["IBSWEEP_OPTIMIZE_FAULT"] = fault
    return out


def optimize_args(folder: Path, out: Path, *extra: Any) -> list[Any]:
    """``invoke optimize`` on the folder's bars and space into ``out``."""
    return [
        "optimize",
        "--space",
        folder / "space.yaml",
        "--data-file",
        bars(folder),
        "--start-date",
        START,
        "--end-date",
        END,
        "--output-dir",
        out,
        "--workers",
        1,
        *extra,
    ]


def invoke(
    *args: Any, fault: str | None = None, timeout: float = 240
) -> subprocess.CompletedProcess:
    """An invoke task as a real process, from the repository."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "invoke"), *map(str, args)],
        cwd=REPO,
        env=env(fault),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def popen(*args: Any, fault: str | None = None) -> subprocess.Popen:
    """An invoke task started as a real process (its own process group)."""
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "invoke"), *map(str, args)],
        cwd=REPO,
        env=env(fault),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def trials(out: Path):
    """The run's trials table (pandas)."""
    import pandas as pd

    return pd.read_parquet(out / f"optimize_trials_{SYMBOL}.parquet")


def combos(out: Path):
    import pandas as pd

    return pd.read_parquet(out / f"results_combos_{SYMBOL}.parquet")


def metadata(out: Path) -> dict[str, Any]:
    return json.loads((out / f"results_full_{SYMBOL}.json").read_text())["metadata"]


def study(url: str, name: str):
    """The study as Optuna reads it from its storage."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=url)


def walk_forward(root: Path, span: tuple[str, str], *search: Any) -> tuple[Path, Path, Any, dict]:
    """``invoke walk-forward`` with a search (``search``: its options) of the folder's space
    over ``span`` (synthetic bars, seed 21; train 2M, test 1M, one worker) into
    ``root/out``: the bars, that folder, the finished process and the JSON it wrote."""
    bars = write_bars(root / "bars.parquet", *span, seed=21)
    space(root)
    out = root / "out"
    done = invoke(
        "walk-forward",
        "--space",
        root / "space.yaml",
        "--data-file",
        bars,
        "--start-date",
        span[0],
        "--end-date",
        span[1],
        "--train",
        "2M",
        "--test",
        "1M",
        *search,
        "--workers",
        1,
        "--output-dir",
        out,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return bars, out, done, json.loads((out / f"walk_forward_{SYMBOL}.json").read_text())
