"""Refusals before anything runs: an unsafe private key, a changed host key, an unknown host;
each one line naming the host, the cause and the fix."""

from __future__ import annotations

import shutil
import subprocess

from tests.farm.conftest import known_hosts_line, run_fab, write_groups, write_hosts


def _status(ssh_farm, tmp_path, **kw):
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 2)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
        **kw,
    )
    return run_fab(ssh_farm, hosts, "status")


def _problem_line(out: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.startswith("h1: ")]
    return line


def test_key_readable_by_others_refused(ssh_farm, tmp_path):
    # Arrange
    key = tmp_path / "keys" / "id_test"
    key.parent.mkdir()
    shutil.copy(ssh_farm.client_key, key)
    key.chmod(0o644)

    # Act
    res = _status(ssh_farm, tmp_path, identity=key)

    # Assert
    assert res.returncode == 1
    assert _problem_line(res.stdout) == (
        f"h1: private key {key} has mode 0644 (readable by others); fix: chmod 600 {key}"
    )


def test_key_tracked_by_git_refused(ssh_farm, tmp_path):
    # Arrange: a key committed to a repository, even with mode 600
    repo = tmp_path / "repo"
    repo.mkdir()
    key = repo / "deploy_key"
    shutil.copy(ssh_farm.client_key, key)
    key.chmod(0o600)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-f", "deploy_key"], check=True)

    # Act
    res = _status(ssh_farm, tmp_path, identity=key)

    # Assert
    assert res.returncode == 1
    line = _problem_line(res.stdout)
    assert line.startswith(
        f"h1: private key {key} is tracked by git; fix: move it out of the repository"
    )


def test_host_key_mismatch_refused(ssh_farm, tmp_path):
    # Arrange: known_hosts records server b's key for server a
    a, b = ssh_farm.servers
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(a, key=b.host_key))

    # Act
    res = _status(ssh_farm, tmp_path, known_hosts=known)

    # Assert
    assert res.returncode == 1
    line = _problem_line(res.stdout)
    assert "does not match known_hosts" in line
    assert (
        f"fix: if the VM was reinstalled: ssh-keygen -R '[{a.address}]:{a.port}' -f {known}" in line
    )
    assert "fab trust --host h1" in line


def test_unknown_host_refused_then_trusted(ssh_farm, tmp_path):
    # Arrange: an empty known_hosts
    a = ssh_farm.servers[0]
    known = tmp_path / "known_hosts"
    known.write_text("")
    expected_fp = subprocess.run(
        ["ssh-keygen", "-lf", f"{a.host_key}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]

    # Act
    refused = _status(ssh_farm, tmp_path, known_hosts=known)
    hosts = tmp_path / "hosts.yaml"
    shown = run_fab(ssh_farm, hosts, "trust", "--host", "h1")
    recorded_after_show = known.read_text()
    trusted = run_fab(ssh_farm, hosts, "trust", "--host", "h1", "--yes")
    again = run_fab(ssh_farm, hosts, "status")

    # Assert
    assert refused.returncode == 1
    assert _problem_line(refused.stdout) == (
        f"h1: unknown host [{a.address}]:{a.port} (no key in known_hosts); "
        "fix: check the fingerprint with the VM's admin, "
        f"then run `fab trust --host h1` (records it in {known})"
    )
    assert shown.returncode == 1 and expected_fp in shown.stdout and "--yes" in shown.stderr
    assert recorded_after_show == ""
    assert trusted.returncode == 0 and f"recorded {expected_fp}" in trusted.stdout
    assert again.returncode == 0, again.stdout
    assert "not deployed" in again.stdout


def test_key_not_authorized_names_the_key(ssh_farm, tmp_path):
    # Arrange: a fresh key the servers do not know
    from tests.farm.conftest import keygen

    key = keygen(tmp_path / "other_key", "stranger")

    # Act
    res = _status(ssh_farm, tmp_path, identity=key)

    # Assert
    a = ssh_farm.servers[0]
    assert res.returncode == 1
    assert _problem_line(res.stdout).startswith(
        f"h1: Permission denied (publickey) for key {key} at {a.address}:{a.port}; "
        "fix: use the right key"
    )


def test_default_key_readable_by_others_refused(ssh_farm, tmp_path, monkeypatch):
    # Arrange: no identity_file, so paramiko would try ~/.ssh/id_ed25519 on its own; it is mode 0644
    import yaml

    from farm.flows import status_hosts
    from farm.hosts import load_hosts

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    shutil.copy(ssh_farm.client_key, key)
    key.chmod(0o644)
    monkeypatch.setenv("HOME", str(home))
    a = ssh_farm.servers[0]
    path = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        write_groups(tmp_path / "groups.json", 2),
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
    )
    doc = yaml.safe_load(path.read_text())
    doc["defaults"]["identity_file"] = None
    path.write_text(yaml.safe_dump(doc))
    farm = load_hosts(path)

    # Act
    outcome = status_hosts(farm, farm.hosts).outcomes[0]

    # Assert
    assert (
        outcome.error
        == f"h1: private key {key} has mode 0644 (readable by others); fix: chmod 600 {key}"
    )


def test_key_with_passphrase_points_to_the_agent(ssh_farm, tmp_path):
    # Arrange: an authorized key, encrypted with a passphrase, and no agent
    key = tmp_path / "locked_key"
    shutil.copy(ssh_farm.client_key, key)
    key.chmod(0o600)
    subprocess.run(
        ["ssh-keygen", "-q", "-p", "-N", "s3cret", "-f", str(key)], check=True, capture_output=True
    )

    # Act
    res = _status(ssh_farm, tmp_path, identity=key)

    # Assert
    assert res.returncode == 1
    assert _problem_line(res.stdout) == (
        f"h1: private key {key} needs its passphrase (fab never asks for one); "
        f"fix: ssh-add it to your ssh-agent (fab uses the agent's keys too)"
    )


def test_trust_records_only_after_a_yes(ssh_farm, tmp_path):
    # Arrange: an empty project known_hosts; the prompt answered "n", then "y"
    from farm.flows import trust
    from farm.hosts import load_hosts

    a = ssh_farm.servers[0]
    known = tmp_path / "known_hosts"
    known.write_text("")
    path = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        write_groups(tmp_path / "groups.json", 2),
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
        known_hosts=known,
    )
    farm = load_hosts(path)
    said: list[str] = []

    # Act
    declined = trust(farm, "h1", yes=False, say=said.append, ask=lambda prompt: "n")
    after_no = known.read_text()
    accepted = trust(farm, "h1", yes=False, say=said.append, ask=lambda prompt: "y")

    # Assert
    assert (declined, after_no) == (False, "")
    assert accepted is True and known.read_text() == known_hosts_line(a)
    assert said[0].startswith(f"h1 ({a.address}:{a.port}) presents ssh-ed25519 key SHA256:")
    assert said[1] == "not recorded"
