"""--dry-run prints every command and transfer per host and opens no connection."""

from __future__ import annotations

import socket

from tests.farm.conftest import run_fab, write_groups, write_hosts


def test_dry_run_prints_plan_without_connecting(ssh_farm, tmp_path):
    # Arrange: the "host" is a listening socket that records any connection attempt
    listener = socket.socket()
    listener.bind(("127.0.0.6", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    groups = write_groups(tmp_path / "groups.json", 2)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [("127.0.0.6", port, "0:2")],
        base_dir=tmp_path / "my base",
        output_dir="it's out",
    )

    # Act
    deploy = run_fab(ssh_farm, hosts, "deploy", "--dry-run")
    setup = run_fab(ssh_farm, hosts, "setup", "--dry-run")
    try:
        listener.accept()
        connected = True
    except BlockingIOError:
        connected = False
    finally:
        listener.close()

    # Assert
    assert not connected
    assert deploy.returncode == 0 and setup.returncode == 0, deploy.stderr + setup.stderr
    out = deploy.stdout
    base = f"{tmp_path}/my base/h1"
    assert "== h1 (" in out and f"@127.0.0.6:{port}) GER40 0:2" in out
    assert f"put  {groups} -> {base}/it's out/groups.json" in out
    assert f"--range 0:2 --out '{base}/it'\"'\"'s out/groups_filtered.json'" in out
    assert "nohup sh -c" in out and "< /dev/null &" in out
    assert "put  " in out and ".tar.gz" in out
    assert "-m venv" in setup.stdout or "pip install" in setup.stdout
    assert "(dry run: nothing was connected to)" in out


def test_dry_run_tasks_open_no_socket(ssh_farm, tmp_path, capsys):
    # Arrange: the fab tasks in this process, every socket connect refused and recorded;
    # the host is a port nothing listens on
    import pytest
    from invoke import Context, Exit

    import fabfile
    from tests.farm.conftest import free_port, no_connections

    groups = write_groups(tmp_path / "groups.json", 2)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [("127.0.0.6", free_port("127.0.0.6"), "0:2")],
        base_dir=tmp_path / "remote",
    )

    # Act
    with no_connections() as attempts:
        fabfile.setup(Context(), dry_run=True, hosts_file=str(hosts))
        fabfile.deploy(Context(), dry_run=True, hosts_file=str(hosts))
        with pytest.raises(Exit) as nothing_collected:
            fabfile.retry(
                Context(), dry_run=True, hosts_file=str(hosts), dest=str(tmp_path / "empty")
            )
    out = capsys.readouterr().out

    # Assert
    assert attempts == []
    assert (
        nothing_collected.value.message
        == "nothing to retry from: no results yet in --dest (run fab collect first)"
    )
    assert out.count("(dry run: nothing was connected to)") == 2
    assert "run_parallel_backtest" in out and "pip install" in out
