"""hosts.yaml ``save_daily: true`` makes the hosts keep compact trades, so that a
collected farm run can be walked forward and judged like a local one."""

from __future__ import annotations

import pytest
import yaml

from farm.errors import HostsFileError
from farm.hosts import load_hosts
from farm.steps import runner_command
from tests.farm.conftest import write_groups


def _farm(tmp_path, **defaults):
    groups = write_groups(tmp_path / "g.json", 2)
    doc = {
        "defaults": {"base_dir": "/srv/ibsweep", **defaults},
        "symbols": {"GER40": {"groups_file": str(groups), "allow_sample": True}},
        "hosts": {"a": {"address": "127.0.0.9", "symbol": "GER40", "range": "0:2"}},
    }
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_hosts(path)


@pytest.mark.parametrize("save_daily", [True, False])
def test_runner_command_follows_save_daily(tmp_path, save_daily):
    farm = _farm(tmp_path, save_daily=save_daily)
    (host,) = farm.hosts

    command = runner_command(host, farm.symbols["GER40"], "/srv/ibsweep/out", None)

    assert ("--save-daily" in command.split()) is save_daily


def test_save_daily_must_be_a_boolean(tmp_path):
    with pytest.raises(HostsFileError, match="save_daily"):
        _farm(tmp_path, save_daily="yes")
