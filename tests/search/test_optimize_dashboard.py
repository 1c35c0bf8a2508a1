"""optuna-dashboard works on an optimize run's storage: opened on its SQLite file on
127.0.0.1, it lists the study with its trials and shows a trial's values and ibsweep's
attributes (outcome, row, metrics)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.search.helpers import invoke, metadata, optimize_args, space


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, timeout: float = 60.0) -> dict:
    """JSON of ``url`` once the server answers (it takes a moment to start)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.loads(answer.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_dashboard_lists_the_study(tmp_path):
    # Arrange
    space(tmp_path)
    out = tmp_path / "out"
    done = invoke(*optimize_args(tmp_path, out, "--trials", 40, "--batch", 20, "--no-report"))
    assert done.returncode == 0, done.stderr
    name = metadata(out)["optimize"]["study_name"]
    port = _free_port()
    dashboard = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "optuna-dashboard"),
            f"sqlite:///{out / 'optuna.db'}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Act
        studies = _get(f"http://127.0.0.1:{port}/api/studies")["study_summaries"]
        one = next(s for s in studies if s["study_name"] == name)
        detail = _get(f"http://127.0.0.1:{port}/api/studies/{one['study_id']}")
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=30)

    # Assert
    assert [s["study_name"] for s in studies] == [name]
    assert len(detail["trials"]) == 40
    evaluated = [t for t in detail["trials"] if t["state"] == "Complete"]
    attrs = {a["key"]: a["value"] for a in evaluated[0]["user_attrs"]}
    assert attrs["ibsweep:outcome"] in ("evaluated", "duplicate")
    assert "total_r" in attrs or "ibsweep:same_as" in attrs
