"""hosts.yaml env values never appear on a command line: not in the host's ps output while
the runner runs, not in --dry-run; the runner still gets them, and their file is gone."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.farm.conftest import kill_runner_tree, run_fab, wait_status, write_groups, write_hosts

SECRET = "tok-3f9a1c77e2b04d51"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def test_env_value_not_in_ps_nor_dry_run(ssh_farm, tmp_path):
    # Arrange: a runner that stays busy, with a secret-looking env value
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 1)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:1")],
        base_dir=tmp_path / "remote",
        env={"API_TOKEN": SECRET, "IBSWEEP_FAULT": "group_GER40_000:sleep=120"},
    )
    out = tmp_path / "remote" / "h1" / "output" / "GER40_in_sample"

    # Act
    dry = run_fab(ssh_farm, hosts, "deploy", "--dry-run")
    deploy = run_fab(ssh_farm, hosts, "deploy")
    st = wait_status(hosts, "h1", lambda s: s["state"] == "running")
    try:
        ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
        environ = Path(f"/proc/{st['pid']}/environ").read_bytes().split(b"\0")
        cmdlines = [_read(p) for p in Path("/proc").glob("[0-9]*/cmdline")]
    finally:
        kill_runner_tree(st["pid"])

    # Assert
    assert dry.returncode == 0 and deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert (
        SECRET not in dry.stdout and "(environment: API_TOKEN=***, IBSWEEP_FAULT=***)" in dry.stdout
    )
    assert "run_parallel_backtest" in ps and SECRET not in ps
    assert not any(SECRET.encode() in c for c in cmdlines)
    assert f"API_TOKEN={SECRET}".encode() in environ
    assert not (out / "runner.env").exists()
