"""fab deploy --dry-run puts each host's exact runner options through the runner's own
checks, here, connecting to nothing: what the host's runner would refuse (exit 2) is
refused by the dry run, in the runner's words, naming the host."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import yaml

from tests.farm.conftest import DATES, REPO, free_port, run_fab, write_groups, write_hosts


def _news_groups(path, n: int, news: set[int]):
    """``n`` small groups; those in ``news`` have the news filter on."""
    write_groups(path, n)
    doc = json.loads(path.read_text())
    for i in news:
        doc["groups"][i]["params"]["news_filter"] = True
    path.write_text(json.dumps(doc))
    return path


def _with_symbol(hosts, **settings):
    doc = yaml.safe_load(hosts.read_text())
    doc["symbols"]["GER40"].update(settings)
    hosts.write_text(yaml.safe_dump(doc, sort_keys=False))
    return hosts


@pytest.fixture
def listener():
    """A "host" that records any connection attempt (nothing may connect to it)."""
    sock = socket.socket()
    sock.bind(("127.0.0.6", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock

    def accepted() -> bool:
        try:
            sock.accept()
        except BlockingIOError:
            return False
        return True

    connected = accepted()
    sock.close()
    assert not connected, "the dry run connected to a host"


def test_news_filtered_groups_without_a_news_file_are_refused(ssh_farm, tmp_path, listener):
    # Arrange: h2's slice holds a news-filtered group; hosts.yaml has no news_file
    groups = _news_groups(tmp_path / "groups.json", 4, {3})
    port = listener.getsockname()[1]
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [("127.0.0.6", port, "0:2"), ("127.0.0.6", port, "2:4")],
        base_dir=tmp_path / "remote",
    )
    local = subprocess.run(  # the runner itself, on the same groups and data, here
        [
            sys.executable,
            "-m",
            "backtest.run_parallel_backtest",
            "--groups-file",
            str(groups),
            "--data-file",
            str(ssh_farm.data_file),
            "--output-dir",
            str(tmp_path / "local"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )

    # Act
    dry = run_fab(ssh_farm, hosts, "deploy", "--dry-run")

    # Assert
    assert local.returncode == 2
    runner_error = local.stderr.strip().removeprefix("error: ")
    assert runner_error == (
        f"{groups}: group group_GER40_003: field 'news_filter': on, but no --news-file was given"
    )
    assert dry.returncode == 2 and dry.stdout == ""
    assert dry.stderr.strip() == (
        "error: h2: its runner would refuse to start (exit 2, checked here by --dry-run): "
        f"{runner_error}; fix: set or correct symbols.GER40.news_file in {hosts}, "
        "then fab deploy --dry-run again"
    )
    assert not (tmp_path / "remote" / "h1" / "output").exists()


def test_with_the_news_file_the_plan_is_checked_and_printed(ssh_farm, tmp_path, capsys):
    # Arrange: the same grid with a news file and the other per-symbol settings; the
    # fab task in this process, every socket connect refused, the data loads counted
    from invoke import Context

    import backtest.data.loaders as loaders
    import fabfile
    from tests.farm.conftest import no_connections

    groups = _news_groups(tmp_path / "groups.json", 4, {3})
    news = tmp_path / "calendar.csv"
    news.write_text("time,currency,impact\n2024-01-10T13:30:00Z,EUR,high\n")
    port = free_port("127.0.0.6")
    hosts = _with_symbol(
        write_hosts(
            ssh_farm,
            tmp_path / "hosts.yaml",
            groups,
            [("127.0.0.6", port, "0:2"), ("127.0.0.6", port, "2:4")],
            base_dir=tmp_path / "remote",
        ),
        news_file="calendar.csv",
        server_tz="Europe/Athens",
        spread_model="cost",
        slippage=0.5,
    )
    loads = []
    real_load = loaders.load_period_bars

    def counted(*args, **kwargs):
        loads.append(args[:3])
        return real_load(*args, **kwargs)

    # Act
    with no_connections() as attempts, pytest.MonkeyPatch.context() as mp:
        mp.setattr(loaders, "load_period_bars", counted)
        fabfile.deploy(Context(), dry_run=True, hosts_file=str(hosts))
    out = capsys.readouterr().out

    # Assert
    assert attempts == []
    assert len(loads) == 1  # the two hosts' options differ only in their slice: one check
    checks = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("check ")]
    accepted = [ln for ln in checks if "the runner accepts these options" in ln]
    assert len(accepted) == 2
    for line in accepted:
        assert "(checked here): 2 group(s), 8 combinations, file data " in line
        assert f"bars {DATES[0]}..{DATES[1]})" in line
    assert any("server_tz Europe/Athens not used" in ln for ln in checks)
    remote_news = f"{tmp_path}/remote/h2/data/news/calendar.csv"
    assert f"put  {news} -> {remote_news}" in out
    (command,) = [ln for ln in out.splitlines() if "nohup" in ln and "/h2/" in ln]
    assert f"--news-file {remote_news} --server-tz Europe/Athens" in command
    assert "--spread-model cost --slippage 0.5" in command
    assert "(dry run: nothing was connected to)" in out


def test_data_not_covering_the_dates_is_refused_for_each_host(ssh_farm, tmp_path, listener):
    # Arrange: hosts.yaml's in_sample dates run past the data file (strict_data, default)
    groups = write_groups(tmp_path / "groups.json", 2)
    port = listener.getsockname()[1]
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [("127.0.0.6", port, "0:1"), ("127.0.0.6", port, "1:2")],
        base_dir=tmp_path / "remote",
    )
    _with_symbol(
        hosts,
        in_sample={
            "data_file": str(ssh_farm.data_file),
            "start_date": DATES[0],
            "end_date": "2024-03-29",
        },
    )

    # Act
    dry = run_fab(ssh_farm, hosts, "deploy", "--dry-run")

    # Assert
    lines = dry.stderr.strip().splitlines()
    assert dry.returncode == 2 and [ln.split(":")[0] for ln in lines] == ["error"] * 2
    assert [ln.split()[1] for ln in lines] == ["h1:", "h2:"]
    for line in lines:
        assert "its runner would refuse to start (exit 2, checked here by --dry-run): " in line
        assert str(ssh_farm.data_file) in line and "--strict-data" in line
        assert (
            "fix: set or correct symbols.GER40.in_sample (data_file, start_date, end_date) "
            f"or strict_data: false in {hosts}, then fab deploy --dry-run again"
        ) in line
