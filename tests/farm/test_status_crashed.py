"""A runner that crashes on a full disk (a small RLIMIT_FSIZE in the runner's process on the
host) is reported by fab status as crashed, with the exit code and the reason, and the
status exits non-zero; it is never "finished"."""

from __future__ import annotations

import json
import sys

from tests.farm.conftest import run_fab, wait_status, write_hosts

# Bytes per file: the numba caches (~200 KB), the group's part (1000 combinations, ~60 KB) and
# its checkpoint line fit; results_full (the 1000 combinations inline, ~700 KB) does not.
LIMIT = 400_000
WRAPPER = """#!{python}
import os, resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
os.execv({python!r}, [{python!r}, *sys.argv[1:]])
"""


def _big_group(path):
    grid = {
        "sl_mult": [0.1 * i for i in range(1, 26)],
        "tp_mult": [0.5 + 0.1 * i for i in range(40)],
    }
    group = {"group_id": "group_GER40_000", "params": {"ib_end": "10:00"}, "grid": grid}
    path.write_text(json.dumps({"symbol": "GER40", "groups": [group]}))
    return path


def test_full_disk_on_the_host_is_crashed_in_status(ssh_farm, tmp_path):
    # Arrange: the host's venv python is a wrapper that limits file sizes, then runs the real one
    a = ssh_farm.servers[0]
    groups = _big_group(tmp_path / "groups.json")
    base = tmp_path / "remote"
    wrapper = base / "h1" / "venv" / "bin" / "python"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text(WRAPPER.format(python=sys.executable, limit=LIMIT))
    wrapper.chmod(0o755)
    hosts = write_hosts(
        ssh_farm, tmp_path / "hosts.yaml", groups, [(a.address, a.port, "0:1")], base_dir=base
    )
    out = base / "h1" / "output" / "GER40_in_sample"

    # Act
    deploy = run_fab(ssh_farm, hosts, "deploy")
    st = wait_status(hosts, "h1", lambda s: s["state"] != "running")
    status = run_fab(ssh_farm, hosts, "status")

    # Assert
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert (st["state"], st["exit"], st["done"], st["total"]) == ("crashed", 3, 1, 1)
    assert status.returncode == 1
    (row,) = [ln for ln in status.stdout.splitlines() if ln.startswith("h1 ")]
    assert " crashed " in row and "finished" not in row
    (problem,) = [ln for ln in status.stdout.splitlines() if ln.startswith("h1: ")]
    assert problem.startswith(
        "h1: crashed (exit 3: OSError: [Errno 27] File too large (disk full or over a file size "
        f"limit: free space first); traceback in {out}/run.log"
    )
    assert "after 1/1 groups; fix: fab logs --host h1" in problem
    assert "Traceback (most recent call last):" in (out / "run.log").read_text()
