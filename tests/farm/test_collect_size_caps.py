"""fab collect's caps (hosts.yaml collect_max_file_mb / collect_max_host_mb), against the
real loopback sshd: a file over the file cap is not fetched (its host fails, naming it
and the fix; the other host merges), a host whose output passes the host cap fetches
nothing, and a PNG is checked by its header, never read whole."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from farm import steps
from farm.connect import connection
from farm.hosts import load_hosts
from tests.farm.conftest import REPO, run_fab, write_groups, write_hosts

PNG_HEADER = b"\x89PNG\r\n\x1a\n"
MB = 1 << 20


def _fake_png(path: Path, size: int) -> Path:
    """A PNG header followed by zeros up to ``size`` bytes (sparse: no disk used)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(PNG_HEADER)
        handle.truncate(size)
    return path


def _with_caps(hosts_file: Path, tmp_path: Path, file_mb: int, host_mb: int) -> Path:
    """A copy of ``hosts_file`` whose defaults set both caps."""
    doc = yaml.safe_load(hosts_file.read_text())
    doc["defaults"].update(collect_max_file_mb=file_mb, collect_max_host_mb=host_mb)
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _row(stdout: str, host: str) -> str:
    (row,) = [line for line in stdout.splitlines() if line.startswith(f"{host} ")]
    return row


def test_a_file_over_the_file_cap_is_not_fetched(ssh_farm, finished_pair, tmp_path):
    # Arrange: h1 serves a 40 MB "chart"; the file cap is 16 MB (the report is ~5 MB)
    _fake_png(finished_pair.out("h1") / "charts" / "huge_equity.png", 40 * MB)
    hosts = _with_caps(finished_pair.hosts_file, tmp_path, file_mb=16, host_mb=1000)
    dest = tmp_path / "dest"

    # Act
    collect = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))

    # Assert
    assert collect.returncode == 1 and "Traceback" not in collect.stderr, collect.stderr
    assert not list(dest.rglob("huge_equity.png"))
    assert (
        "FAILED: h1: files over collect_max_file_mb 16 not fetched: "
        "charts/huge_equity.png (40.0 MB); fix: inspect them on the host, or raise "
        "collect_max_file_mb in hosts.yaml"
    ) in _row(collect.stdout, "h1")
    assert "fetched" in _row(collect.stdout, "h2")
    assert (dest / "GER40_in_sample" / "merged" / "results_full_GER40.json").exists()


def test_a_host_over_the_host_cap_fetches_nothing(ssh_farm, finished_pair, tmp_path):
    # Arrange: two 6 MB charts on h1, each within the 8 MB file cap, together past 10 MB
    for name in ("a_equity.png", "b_equity.png"):
        _fake_png(finished_pair.out("h1") / "charts" / name, 6 * MB)
    hosts = _with_caps(finished_pair.hosts_file, tmp_path, file_mb=8, host_mb=10)
    dest = tmp_path / "dest"

    # Act
    collect = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))

    # Assert
    assert collect.returncode == 1 and "Traceback" not in collect.stderr, collect.stderr
    h1_copy = dest / "GER40_in_sample" / "hosts" / "h1"
    assert not h1_copy.exists() or not [p for p in h1_copy.rglob("*") if p.is_file()]
    row = _row(collect.stdout, "h1")
    assert "FAILED: h1: its output holds" in row
    assert "more than collect_max_host_mb 10; nothing more fetched" in row
    assert "raise collect_max_host_mb in hosts.yaml" in row
    assert "fetched" in _row(collect.stdout, "h2")


def test_a_png_is_checked_by_its_header_only(tmp_path):
    # Arrange: a 2 GB PNG (sparse) and a process allowed 1 GB of address space
    png = _fake_png(tmp_path / "big.png", 2048 * MB)
    script = "import sys, pathlib, farm.steps; farm.steps.check_parses(pathlib.Path(sys.argv[1]))"

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    # Act
    result = subprocess.run(
        [sys.executable, "-c", script, str(png)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_memory,
    )

    # Assert
    assert result.returncode == 0, result.stderr


def test_bytes_past_the_limit_are_never_read_whatever_the_size_says(ssh_farm, tmp_path):
    # Arrange: /proc/cpuinfo's size is 0 but it holds more: what a file growing during
    # the transfer, or a size that lies, looks like to the download
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 1)
    hosts = write_hosts(
        ssh_farm, tmp_path / "hosts.yaml", groups, [(a.address, a.port, "0:1")], base_dir=tmp_path
    )
    host = load_hosts(hosts).hosts[0]
    local = tmp_path / "copy.txt"
    conn = connection(host)

    # Act
    try:
        with pytest.raises(steps.FileTooBig) as stopped:
            steps.get(conn, host, "/proc/cpuinfo", local, limit=100)
    finally:
        conn.close()

    # Assert: stopped at the 101st byte, nothing kept
    assert os.stat("/proc/cpuinfo").st_size == 0
    assert stopped.value.size == 101
    assert not local.exists()
