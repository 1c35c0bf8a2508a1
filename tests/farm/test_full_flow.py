"""setup → deploy → status until finished → collect on two hosts; merged == a local run
(the hosts run 1 worker each, the local run 2: results must not depend on it)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.farm.conftest import (
    DATES,
    REPO,
    run_fab,
    status_json,
    wait_status,
    write_groups,
    write_hosts,
)


def _records(path):
    data = json.loads(path.read_text())
    return {
        g["group_id"]: (g["status"], g["best"], [(c["params"], c["metrics"]) for c in g["combos"]])
        for g in data["groups"]
    }


def test_full_flow_two_hosts_equals_local_run(ssh_farm, tmp_path):
    # Arrange: remote names and an env value with spaces, quotes and shell syntax that would
    # create a marker file if any remote command left them unquoted
    a, b = ssh_farm.servers
    groups = write_groups(tmp_path / "groups.json", 6)
    markers = [tmp_path / f"pwned{i}" for i in range(6)]
    base = tmp_path / f"remote base 'it''s' \"q\" $(touch {markers[0]}) ; touch {markers[1]} &&"
    out_name = f"out dir 'x' $HOME `id` `touch {markers[2]}` |touch {markers[3]}"
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:3"), (b.address, b.port, "3:6")],
        base_dir=base,
        output_dir=out_name + "/{symbol}",
        workers=1,
        env={"IBSWEEP_NOTE": f"$(touch {markers[4]}); `touch {markers[5]}`"},
        link_code=False,  # the code archive is uploaded and unpacked, as on a fresh host
    )
    dest = tmp_path / "collected"

    # Act
    setup = run_fab(ssh_farm, hosts, "setup")
    deploy = run_fab(ssh_farm, hosts, "deploy")
    done = [wait_status(hosts, h, lambda s: s["state"] != "running") for h in ("h1", "h2")]
    status = run_fab(ssh_farm, hosts, "status")
    logs = run_fab(ssh_farm, hosts, "logs", "--host", "h2", "--lines", "1")
    collect = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))
    collect_again = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))
    local_out = tmp_path / "local"
    local = subprocess.run(
        [
            sys.executable,
            "-m",
            "backtest.run_parallel_backtest",
            "--groups-file",
            str(groups),
            "--data-file",
            str(ssh_farm.data_file),
            "--start-date",
            DATES[0],
            "--end-date",
            DATES[1],
            "--workers",
            "2",
            "--output-dir",
            str(local_out),
            "--skip-charts",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )

    # Assert
    assert local.returncode == 0, local.stderr
    assert setup.returncode == 0 and setup.stdout.count("ready (3.") == 2, (
        setup.stdout + setup.stderr
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert [d["state"] for d in done] == ["finished", "finished"]
    assert [(d["done"], d["total"]) for d in done] == [(3, 3), (3, 3)]
    assert status.returncode == 0 and status.stdout.count("finished") == 2, status.stdout
    assert (base / "h1" / out_name / "GER40" / "results_full_GER40.json").exists()
    assert logs.returncode == 0 and logs.stdout.strip().endswith(
        f"done: 3 of 3 groups ok, 0 failed, 0 interrupted; results in {base}/h2/{out_name}/GER40"
    )
    assert collect.returncode == 0, collect.stdout + collect.stderr
    assert "0 fetched" in collect_again.stdout and "fetched" in collect.stdout
    merged = dest / "GER40_in_sample" / "merged" / "results_full_GER40.json"
    assert _records(merged) == _records(local_out / "results_full_GER40.json")
    meta = [
        json.loads(p.read_text())["metadata"]
        for p in (merged, local_out / "results_full_GER40.json")
    ]
    assert meta[0]["code_version"] == meta[1]["code_version"]  # the pushed archive is this code
    assert status_json(hosts, "h1")["failed"] == []
    assert [m.name for m in markers if m.exists()] == []
