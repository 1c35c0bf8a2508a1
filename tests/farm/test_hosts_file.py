"""hosts.yaml validation happens before any connection; every error names the file and field."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from farm.errors import HostsFileError
from farm.hosts import load_hosts
from tests.farm.conftest import REPO, write_groups


def _hosts_file(tmp_path, hosts, symbols=None, defaults=None):
    doc = {
        "defaults": {"base_dir": "/srv/ibsweep", **(defaults or {})},
        "symbols": symbols
        if symbols is not None
        else {"GER40": {"groups_file": str(write_groups(tmp_path / "g.json", 4))}},
        "hosts": hosts,
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_shipped_hosts_file_describes_the_four_vms(tmp_path):
    # Arrange: a copy, so that no file of the working tree (a groups_GER40.json of another
    # size at the repository root, written by an example) changes what it reads
    path = tmp_path / "hosts.yaml"
    path.write_text((REPO / "hosts.yaml").read_text())

    # Act
    farm = load_hosts(path)

    got = [(h.address, h.symbol, h.start, h.stop, h.workers) for h in farm.hosts]

    # Assert
    assert got == [
        ("10.10.32.11", "GER40", 0, 30, 20),
        ("10.10.32.12", "GER40", 30, 60, 20),
        ("10.10.32.13", "XAUUSD", 0, 23, 20),
        ("10.10.32.14", "XAUUSD", 23, 46, 20),
    ]


def test_unknown_key_names_host_and_key(tmp_path):
    path = _hosts_file(
        tmp_path, {"vm1": {"address": "127.0.0.9", "symbol": "GER40", "range": "0:4", "wokers": 3}}
    )

    with pytest.raises(HostsFileError, match=r"hosts.yaml: hosts.vm1: unknown key 'wokers'"):
        load_hosts(path)


def test_overlapping_ranges_name_both_hosts(tmp_path):
    path = _hosts_file(
        tmp_path,
        {
            "a": {"address": "127.0.0.9", "symbol": "GER40", "range": "0:3"},
            "b": {"address": "127.0.0.10", "symbol": "GER40", "range": "2:4"},
        },
    )

    with pytest.raises(
        HostsFileError, match=r"hosts.b.range: '2:4' overlaps host a \('0:3'\) at group index 2"
    ):
        load_hosts(path)


def test_range_outside_groups_file(tmp_path):
    path = _hosts_file(tmp_path, {"a": {"address": "127.0.0.9", "symbol": "GER40", "range": "2:6"}})

    with pytest.raises(
        HostsFileError, match=r"hosts.a.range: '2:6' is outside the groups file \(4 groups"
    ):
        load_hosts(path)


def test_uncovered_groups_are_an_error_unless_allowed(tmp_path):
    # Arrange: 4 groups, the one host runs 1:3
    hosts = {"a": {"address": "127.0.0.9", "symbol": "GER40", "range": "1:3"}}
    groups = str(write_groups(tmp_path / "g.json", 4))
    strict = _hosts_file(tmp_path / "strict", hosts, {"GER40": {"groups_file": groups}})
    allowed = _hosts_file(
        tmp_path / "allowed", hosts, {"GER40": {"groups_file": groups, "allow_uncovered": True}}
    )

    # Act
    with pytest.raises(HostsFileError) as refused:
        load_hosts(strict)
    farm = load_hosts(allowed)

    # Assert
    message = str(refused.value)
    assert message.startswith(f"{strict}: symbols.GER40: groups 0:1, 3:4 of {groups} (4 entries)")
    assert 'fix: e.g. a range: "0:4"' in message and "allow_uncovered: true" in message
    assert [(h.start, h.stop) for h in farm.hosts] == [(1, 3)] and farm.notes == []


def test_relative_remote_base_dir_refused(tmp_path):
    path = _hosts_file(
        tmp_path,
        {"a": {"address": "127.0.0.9", "symbol": "GER40", "range": "0:4"}},
        defaults={"base_dir": "~/ibsweep"},
    )

    with pytest.raises(HostsFileError, match=r"hosts.a.base_dir: must be an absolute remote path"):
        load_hosts(path)


def test_cli_bad_hosts_file_is_one_line_exit_2(tmp_path):
    path = _hosts_file(tmp_path, {"a": {"address": "127.0.0.9", "symbol": "GER40", "range": "0:x"}})

    res = subprocess.run(
        [str(REPO / ".venv/bin/fab"), "status", "--hosts-file", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )

    assert res.returncode == 2
    assert (
        res.stderr.strip()
        == f"error: {path}: hosts.a.range: range must look like '0:30' (start:stop), got '0:x'"
    )


def test_deploy_with_missing_data_file_is_exit_2_before_connecting(tmp_path):
    groups = str(write_groups(tmp_path / "g.json", 4))
    path = _hosts_file(
        tmp_path,
        {"a": {"address": "127.0.0.9", "symbol": "GER40", "range": "0:4"}},
        {
            "GER40": {
                "groups_file": groups,
                "in_sample": {"data_file": str(write_groups(tmp_path / "in.json", 1))},
                "control": {"data_file": "GER40_control.parquet"},
            }
        },
    )

    res = subprocess.run(
        [str(REPO / ".venv/bin/fab"), "deploy", "--period", "control", "--hosts-file", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )

    assert res.returncode == 2
    assert res.stderr.strip() == (
        f"error: {path}: symbols.GER40.control.data_file: {tmp_path}/GER40_control.parquet "
        f"not found (period control)"
    )


def test_missing_groups_file_names_it_and_the_command(tmp_path, monkeypatch):
    # Arrange: the shipped hosts.yaml in a fresh directory, before any groups file exists
    path = tmp_path / "hosts.yaml"
    path.write_text((REPO / "hosts.yaml").read_text())
    monkeypatch.chdir(tmp_path)

    # Act
    with pytest.raises(HostsFileError) as err:
        load_hosts(path, need_groups=True)

    # Assert
    assert str(err.value) == (
        f"{path}: symbols.GER40.groups_file: groups file {tmp_path}/groups_GER40.json not found; "
        "fix: write it with `invoke make-groups --symbol GER40 --grid GRID.yaml --groups 60 "
        "--output groups_GER40.json` "
        f"(grid format: docs/ANALYSIS.md, e.g. examples/grid_GER40.yaml), "
        f"then check the ranges with fab deploy --dry-run"
    )


def test_host_name_that_would_escape_the_collect_dir_refused(tmp_path):
    path = _hosts_file(
        tmp_path, {"../vm1": {"address": "127.0.0.9", "symbol": "GER40", "range": "0:4"}}
    )

    with pytest.raises(
        HostsFileError, match=r"hosts\.\.\./vm1: host name '\.\./vm1' may only hold letters"
    ):
        load_hosts(path)
