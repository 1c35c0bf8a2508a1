"""The runner's command starts without the modules only its report or other commands use:
each costs its import time before the first group runs (the analysis layer, charts,
templates, SQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_BEFORE_THE_RUN = ("backtest.analysis", "matplotlib", "jinja2", "duckdb", "optuna", "dask")


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_runner_command_imports_no_module_of_the_report():
    # Act: what `python -m backtest.run_parallel_backtest` imports before it parses
    code = (
        "import json, sys; import backtest.run_parallel_backtest; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)

    # Assert
    assert [m for m in loaded if any(_under(m, p) for p in NOT_BEFORE_THE_RUN)] == []
