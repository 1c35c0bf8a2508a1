"""fab setup's real path on a bare host: a fresh venv from the host's python, pip install -r,
and nothing redone the second time."""

from __future__ import annotations

import sys

import yaml

from backtest.core.checksum import file_checksum
from farm.flows import setup_hosts
from farm.hosts import load_hosts
from tests.farm.conftest import write_groups, write_hosts


def test_setup_creates_venv_then_is_idempotent(ssh_farm, tmp_path):
    # Arrange: the host's bare interpreter, an own venv, and an empty requirements file (no network)
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 2)
    path = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "bare host",
        link_venv=False,
    )
    doc = yaml.safe_load(path.read_text())
    doc["defaults"].update({"python": sys._base_executable, "venv": "venv"})
    path.write_text(yaml.safe_dump(doc))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing to download in this test\n")
    farm = load_hosts(path)

    # Act
    first = setup_hosts(farm, farm.hosts, requirements=requirements).outcomes[0]
    venv_python = tmp_path / "bare host" / "h1" / "venv" / "bin" / "python"
    created = venv_python.stat().st_mtime_ns
    second = setup_hosts(farm, farm.hosts, requirements=requirements).outcomes[0]

    # Assert
    assert first.ok, first.error
    assert first.value.endswith("requirements installed)")
    assert second.ok and second.value.endswith("requirements up to date)")
    assert venv_python.stat().st_mtime_ns == created
    assert (
        tmp_path / "bare host" / "h1" / ".requirements.sha256"
    ).read_text().strip() == file_checksum(requirements)
