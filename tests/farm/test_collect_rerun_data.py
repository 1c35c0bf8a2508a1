"""The local re-run command that collect prints names the local data file of hosts.yaml for
the symbol and period, never the hosts' copy under their base_dir."""

from __future__ import annotations

import shlex
import shutil

from tests.farm.conftest import run_fab


def test_rerun_command_uses_the_local_data_file(ssh_farm, finished_pair, tmp_path):
    # Arrange: h2's output is gone, so its group is missing
    shutil.rmtree(finished_pair.out("h2"))
    dest = tmp_path / "dest"

    # Act
    collect = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(dest))

    # Assert
    assert collect.returncode == 1
    (line,) = [ln for ln in collect.stdout.splitlines() if ln.startswith("or locally: ")]
    args = shlex.split(line.removeprefix("or locally: "))
    assert args[args.index("--data-file") + 1] == str(ssh_farm.data_file)
    assert str(finished_pair.base_dir) not in line
    assert args[args.index("--start-date") + 1] == "2024-01-02"
