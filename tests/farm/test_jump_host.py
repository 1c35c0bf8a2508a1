"""~/.ssh/config and host keys: a ProxyJump hop is verified against known_hosts too (Fabric
builds that gateway Connection itself, with AutoAddPolicy), and a HostName alias is trusted
and checked under the address really dialled."""

from __future__ import annotations

import getpass

from farm.flows import status_hosts
from farm.hosts import load_hosts
from tests.farm.conftest import known_hosts_line, write_groups, write_hosts


def _status_via_jump(ssh_farm, tmp_path, monkeypatch, known_lines: str):
    a, b = ssh_farm.servers
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host {a.address}\n  ProxyJump {getpass.getuser()}@{b.address}:{b.port}\n"
        f"Host {b.address}\n  IdentityFile {ssh_farm.client_key}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    known = tmp_path / "known_hosts"
    known.write_text(known_lines)
    groups = write_groups(tmp_path / "groups.json", 2)
    path = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
        known_hosts=known,
    )
    farm = load_hosts(path)
    return status_hosts(farm, farm.hosts).outcomes[0]


def test_unknown_jump_host_refused(ssh_farm, tmp_path, monkeypatch):
    # Arrange: known_hosts knows the target (a) but not the jump host (b)
    a, b = ssh_farm.servers

    # Act
    outcome = _status_via_jump(ssh_farm, tmp_path, monkeypatch, known_hosts_line(a))

    # Assert
    assert not outcome.ok
    assert outcome.error == (
        f"h1: unknown jump host [{b.address}]:{b.port} "
        "(ProxyJump in ~/.ssh/config; no key in known_hosts); "
        f"fix: check its fingerprint with its admin, then `ssh -p {b.port} {b.address}` once "
        "to record it in ~/.ssh/known_hosts"
    )


def test_known_jump_host_connects(ssh_farm, tmp_path, monkeypatch):
    # Arrange: both keys known
    a, b = ssh_farm.servers

    # Act
    outcome = _status_via_jump(
        ssh_farm, tmp_path, monkeypatch, known_hosts_line(a) + known_hosts_line(b)
    )

    # Assert
    assert outcome.ok, outcome.error
    assert outcome.value["state"] == "not deployed"


def test_ssh_config_alias_is_trusted_and_checked_under_its_hostname(
    ssh_farm, tmp_path, monkeypatch
):
    # Arrange: hosts.yaml names an ~/.ssh/config alias; the project known_hosts starts empty
    from farm.flows import trust

    a = ssh_farm.servers[0]
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(f"Host farm-a\n  HostName {a.address}\n")
    monkeypatch.setenv("HOME", str(home))
    known = tmp_path / "known_hosts"
    known.write_text("")
    path = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        write_groups(tmp_path / "groups.json", 2),
        [("farm-a", a.port, "0:2")],
        base_dir=tmp_path / "remote",
        known_hosts=known,
    )
    farm = load_hosts(path)

    # Act
    before = status_hosts(farm, farm.hosts).outcomes[0]
    trusted = trust(farm, "h1", yes=True, say=lambda line: None)
    after = status_hosts(farm, farm.hosts).outcomes[0]

    # Assert
    assert before.error.startswith(
        f"h1: unknown host [{a.address}]:{a.port} (no key in known_hosts)"
    )
    assert trusted is True and known.read_text() == known_hosts_line(a)
    assert after.ok, after.error
