"""The farm runs what a local run runs: an MT5 export with its broker clock (server_tz),
news-filtered groups with hosts.yaml's news_file (pushed to each host like the data, only
when changed) and the execution settings, on real loopback hosts; the collected results
equal a local run with the same options, and the printed local command for the groups no
host ran uses the local files and the same settings."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import subprocess
import sys

import yaml

from backtest.data.sample import generate_bars
from tests.farm.conftest import DATES, REPO, run_fab, wait_status, write_groups, write_hosts

SERVER_TZ = "Europe/Athens"
SETTINGS = {"spread_source": "data", "slippage": 0.5}


def _mt5_export(path):
    """The farm tests' bars as an MT5 export: broker server time, a <SPREAD> column."""
    frame = generate_bars("GER40", *DATES, seed=11)
    local = frame["time"].dt.tz_convert(SERVER_TZ)
    lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    for t, o, h, lo, c in zip(local, frame["open"], frame["high"], frame["low"], frame["close"]):
        lines.append(f"{t:%Y.%m.%d}\t{t:%H:%M:%S}\t{o:.2f}\t{h:.2f}\t{lo:.2f}\t{c:.2f}\t10\t0\t150")
    path.write_text("\n".join(lines) + "\n")
    return path


def _news(path, hours=range(8, 17)):
    """EUR high-impact events on every weekday of the dates, on the hour (UTC)."""
    rows = ["time,currency,impact"]
    day = dt.date.fromisoformat(DATES[0])
    while day <= dt.date.fromisoformat(DATES[1]):
        if day.weekday() < 5:
            rows += [f"{day}T{h:02d}:00:00Z,EUR,high" for h in hours]
        day += dt.timedelta(days=1)
    path.write_text("\n".join(rows) + "\n")
    return path


def _records(path):
    data = json.loads(path.read_text())
    return {
        g["group_id"]: (g["status"], g["best"], [(c["params"], c["metrics"]) for c in g["combos"]])
        for g in data["groups"]
    }


def _news_checksum(out):
    """The checksum of the news events the run filtered with (its checkpoint header)."""
    from backtest.runner.checkpoint import CHECKPOINT_FILE, read_checkpoint

    header, _ = read_checkpoint(out / CHECKPOINT_FILE)
    return header["settings"]["news_checksum"]


def _local_run(out, groups, data, news):
    args = ["--groups-file", groups, "--data-file", data, "--news-file", news]
    args += ["--server-tz", SERVER_TZ, "--spread-source", "data", "--slippage", "0.5"]
    args += ["--start-date", DATES[0], "--end-date", DATES[1], "--strict-data"]
    args += ["--workers", "2", "--output-dir", out, "--skip-charts"]
    res = subprocess.run(
        [sys.executable, "-m", "backtest.run_parallel_backtest", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return out / "results_full_GER40.json"


def test_news_file_pushed_and_used_like_a_local_run(ssh_farm, tmp_path):
    # Arrange: three news-filtered groups, two hosts running the first two (the third
    # left to the local command collect prints); hosts.yaml names the news file relative
    # to itself, the broker clock and the execution settings
    a, b = ssh_farm.servers
    groups = write_groups(tmp_path / "groups.json", 3)
    doc = json.loads(groups.read_text())
    for group in doc["groups"]:
        group["params"]["news_filter"] = True
    groups.write_text(json.dumps(doc))
    data = _mt5_export(tmp_path / "GER40_M1.csv")
    news = _news(tmp_path / "calendar.csv")
    base = tmp_path / "remote"
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:1"), (b.address, b.port, "1:2")],
        base_dir=base,
        symbol={
            "groups_file": str(groups),
            "allow_uncovered": True,
            "in_sample": {"data_file": str(data), "start_date": DATES[0], "end_date": DATES[1]},
            "news_file": "calendar.csv",
            "server_tz": SERVER_TZ,
            **SETTINGS,
        },
    )
    dest = tmp_path / "collected"

    # Act
    dry = run_fab(ssh_farm, hosts, "deploy", "--dry-run")
    deploy = run_fab(ssh_farm, hosts, "deploy")
    done = [wait_status(hosts, h, lambda s: s["state"] != "running") for h in ("h1", "h2")]
    collect = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))
    local = _local_run(tmp_path / "local", groups, data, news)
    quiet = _local_run(tmp_path / "no_news", groups, data, _news(tmp_path / "none.csv", ()))

    # Assert: each host has the news file and its runner used it, as the local run did
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert [d["state"] for d in done] == ["finished", "finished"], done
    local_meta = json.loads(local.read_text())["metadata"]
    for name in ("h1", "h2"):
        remote_news = base / name / "data" / "news" / "calendar.csv"
        assert remote_news.read_bytes() == news.read_bytes()
        out = base / name / "output" / "GER40_in_sample"
        meta = json.loads((out / "results_full_GER40.json").read_text())["metadata"]
        assert meta["news_file"] == str(remote_news)
        assert _news_checksum(out) == _news_checksum(local.parent) is not None
        assert meta["server_tz"] == SERVER_TZ
        assert meta["symbol_settings"] == local_meta["symbol_settings"]
        assert {k: meta["symbol_settings"][k] for k in SETTINGS} == SETTINGS
        record = json.loads((out / "farm_deploy.json").read_text())
        assert record["news"]["path"] == str(remote_news)
    # the collected results are the local run's, and the news made a difference
    merged = dest / "GER40_in_sample" / "merged" / "results_full_GER40.json"
    farm_records, local_records = _records(merged), _records(local)
    assert set(farm_records) == {"group_GER40_000", "group_GER40_001"}
    assert farm_records == {g: local_records[g] for g in farm_records}
    assert farm_records != {g: _records(quiet)[g] for g in farm_records}
    # the local command for the group no host ran: the local files, the same settings
    assert collect.returncode == 1, collect.stdout + collect.stderr
    (line,) = [ln for ln in collect.stdout.splitlines() if ln.startswith("or locally: ")]
    command = shlex.split(line.removeprefix("or locally: "))
    options = dict(zip(command[3::2], command[4::2]))
    assert options["--news-file"] == str(news) and options["--data-file"] == str(data)
    assert (options["--server-tz"], options["--spread-source"]) == (SERVER_TZ, "data")
    assert float(options["--slippage"]) == 0.5
    rerun = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    rerun_full = merged.parent.with_name("merged_rerun") / "results_full_GER40.json"
    assert _records(rerun_full) == {"group_GER40_002": local_records["group_GER40_002"]}


def test_news_file_pushed_only_when_changed(ssh_farm, tmp_path):
    # Arrange: one host deployed once with a news file (its groups do not filter news)
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 1)
    news = _news(tmp_path / "calendar.csv")
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:1")],
        base_dir=tmp_path / "remote",
    )
    doc = yaml.safe_load(hosts.read_text())
    doc["symbols"]["GER40"]["news_file"] = str(news)
    hosts.write_text(yaml.safe_dump(doc))
    remote_news = tmp_path / "remote" / "h1" / "data" / "news" / "calendar.csv"
    first = run_fab(ssh_farm, hosts, "deploy")
    wait_status(hosts, "h1", lambda s: s["state"] != "running")
    os.utime(remote_news, (1_000_000_000, 1_000_000_000))  # marks this copy

    # Act
    unchanged = run_fab(ssh_farm, hosts, "deploy")
    wait_status(hosts, "h1", lambda s: s["state"] != "running")
    kept = remote_news.stat().st_mtime
    news.write_text(news.read_text() + "2024-01-19T15:30:00Z,EUR,high\n")
    changed = run_fab(ssh_farm, hosts, "deploy")
    wait_status(hosts, "h1", lambda s: s["state"] != "running")

    # Assert
    assert first.returncode == 0 and unchanged.returncode == 0, first.stdout + unchanged.stdout
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert kept == 1_000_000_000
    assert remote_news.read_bytes() == news.read_bytes()
