"""backtest.runner.host_tools, the commands a host runs: filter a groups file, report run state."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from backtest.runner import host_tools
from tests.farm.conftest import write_groups

LOG = """2026-02-08 10:15:00 - INFO - workers: 1
2026-02-08 10:15:01 - INFO - [1/3] group_GER40_000: R=12.50, Trades=342, ETA: 45.2min
2026-02-08 10:15:02 - ERROR - [2/3] group_GER40_001: failed: boom
"""


def _run_dir(tmp_path, pid: int, exit_code: str | None):
    out = tmp_path / "out"
    out.mkdir(parents=True)
    write_groups(out / "groups_filtered.json", 3)
    (out / "run.log").write_text(LOG)
    (out / "runner.pid").write_text(f"{pid}\n")
    if exit_code is not None:
        (out / "runner.exit").write_text(exit_code + "\n")
    return out


def _commit(out):
    """A committed (empty) result set in ``out``, as a runner that reached its end writes."""
    from backtest.runner.outputs import write_results

    write_results(out, "GER40", {"symbol": "GER40"}, [], [])
    return out


def test_filter_writes_the_slice(tmp_path):
    groups = write_groups(tmp_path / "g.json", 5)

    code = host_tools.main(
        ["filter", "--groups", str(groups), "--range", "1:3", "--out", str(tmp_path / "f.json")]
    )

    data = json.loads((tmp_path / "f.json").read_text())
    assert code == 0
    assert data["symbol"] == "GER40"
    assert [g["group_id"] for g in data["groups"]] == ["group_GER40_001", "group_GER40_002"]


def test_status_of_a_dead_runner(tmp_path):
    gone_pid = 2**22 + 17  # above pid_max defaults: never a live process
    out = _run_dir(tmp_path, gone_pid, "137")

    st = host_tools.status(out)

    assert (st["state"], st["done"], st["total"], st["exit"]) == ("dead", 2, 3, 137)
    assert st["failed"] == ["group_GER40_001"] and st["last_group"] == "group_GER40_001"
    assert st["eta_min"] is None
    assert st["mem_free_mb"] > 0 and len(st["load"]) == 3


def test_status_of_a_running_runner_reads_eta(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "run_parallel_backtest"]
    )
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    while b"run_parallel_backtest" not in cmdline.read_bytes():  # until the child has exec'd
        time.sleep(0.01)
    try:
        out = _run_dir(tmp_path, proc.pid, None)

        st = host_tools.status(out)
    finally:
        proc.kill()
        proc.wait()

    assert (st["state"], st["done"], st["total"], st["eta_min"]) == ("running", 2, 3, 45.2)


def test_status_prefers_the_newest_retry(tmp_path):
    out = _run_dir(tmp_path, 2**22 + 17, "137")
    retry = out / "retry-1"
    retry.mkdir()
    write_groups(retry / "groups_filtered.json", 1)
    (retry / "run.log").write_text(
        "x - INFO - [1/1] group_GER40_000: R=1.00, Trades=3, ETA: 0.0min\n"
    )
    (retry / "runner.pid").write_text(f"{2**22 + 18}\n")
    (retry / "runner.exit").write_text("0\n")
    _commit(retry)

    st = host_tools.status(out)

    assert (st["run"], st["state"], st["done"], st["total"]) == (str(retry), "finished", 1, 1)


def test_exit_1_is_finished_with_failures_exit_2_is_refused(tmp_path):
    gone = 2**22 + 17
    finished = host_tools.status(_commit(_run_dir(tmp_path / "a", gone, "1")))
    refused_dir = _run_dir(tmp_path / "b", gone, "2")
    (refused_dir / "runner.out").write_text("error: g.json: field 'groups': no groups to run\n")

    refused = host_tools.status(refused_dir)

    assert (finished["state"], finished["failed"]) == ("finished", ["group_GER40_001"])
    assert (refused["state"], refused["error"]) == (
        "refused",
        "error: g.json: field 'groups': no groups to run",
    )


def test_exit_3_or_exit_1_without_committed_results_is_crashed(tmp_path):
    # Arrange: the runner's own crash (3), and Python's 1 for an error outside its edge
    gone = 2**22 + 17
    own = _run_dir(tmp_path / "a", gone, "3")
    (own / "runner.out").write_text(
        "x - INFO - [1/3] ...\nerror: the run crashed: OSError: [Errno 28] No space left on "
        "device; traceback in /srv/out/run.log\n"
    )
    early = _run_dir(tmp_path / "b", gone, "1")
    (early / "runner.out").write_text("ModuleNotFoundError: No module named 'pyarrow'\n")

    # Act
    states = [host_tools.status(d) for d in (own, early)]

    # Assert
    assert [(st["state"], st["exit"], st["error"]) for st in states] == [
        (
            "crashed",
            3,
            "error: the run crashed: OSError: [Errno 28] No space left on device; "
            "traceback in /srv/out/run.log",
        ),
        ("crashed", 1, "ModuleNotFoundError: No module named 'pyarrow'"),
    ]


def test_status_before_the_first_progress_line(tmp_path):
    # Arrange: a runner that has started but logged nothing yet (no run.log, empty runner.out)
    from farm.flows import status_rows
    from farm.hosts import Host
    from farm.report import FarmResult, HostOutcome

    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "run_parallel_backtest"]
    )
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    while b"run_parallel_backtest" not in cmdline.read_bytes():
        time.sleep(0.01)
    out = tmp_path / "out"
    out.mkdir()
    write_groups(out / "groups_filtered.json", 3)
    (out / "runner.pid").write_text(f"{proc.pid}\n")
    (out / "runner.out").write_text("")
    host = Host(
        "h1",
        "127.0.0.9",
        22,
        None,
        None,
        tmp_path / "kh",
        "GER40",
        "0:3",
        0,
        3,
        "/srv",
        "python3",
        "venv",
        1,
        "in_sample",
        "out",
        5,
        60,
    )

    # Act
    try:
        st = host_tools.status(out)
    finally:
        proc.kill()
        proc.wait()
    (row,) = status_rows(FarmResult([HostOutcome(host, st)]))

    # Assert
    assert (st["state"], st["done"], st["total"], st["last_group"], st["eta_min"]) == (
        "running",
        0,
        3,
        None,
        None,
    )
    assert (row["state"], row["done"], row["last"], row["eta"], row["failed"]) == (
        "running",
        "0/3",
        None,
        None,
        0,
    )
