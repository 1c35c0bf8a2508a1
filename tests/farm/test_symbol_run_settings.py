"""hosts.yaml's per-symbol runner settings (server_tz, news_file, spread_model,
spread_source, slippage): checked at load as the runner checks its options, each error
naming the file and the field, and put on every host's runner command line, quoted,
through the runner's own option table."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from backtest.runner.options import build_parser
from farm.errors import HostsFileError
from farm.hosts import load_hosts
from farm.steps import runner_command
from tests.farm.conftest import REPO, write_groups

HOST = {"address": "127.0.0.9", "symbol": "GER40", "range": "0:2"}
RUNNER_KEYS = ("server_tz", "news_file", "spread_model", "spread_source", "slippage")


def _write(tmp_path: Path, base_dir: str = "/srv/ibsweep", **symbol) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    groups = write_groups(tmp_path / "g.json", 2)
    doc = {
        "defaults": {"base_dir": base_dir},
        "symbols": {"GER40": {"groups_file": str(groups), "allow_sample": True, **symbol}},
        "hosts": {"a": HOST},
    }
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _parsed(command: str):
    """The host's command line read back as the runner reads it."""
    words = shlex.split(command)
    assert words[1:3] == ["-m", "backtest.run_parallel_backtest"], words
    return build_parser().parse_args(words[3:])


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"server_tz": "Europe/Athens"}, {"server_tz": "Europe/Athens"}),
        ({"server_tz": "broker:NY+7"}, {"server_tz": "broker:NY+7"}),
        ({"spread_model": "cost"}, {"spread_model": "cost"}),
        ({"spread_model": "bid_ask", "spread_source": "data"}, {"spread_source": "data"}),
        ({"spread_source": "fixed"}, {"spread_source": "fixed"}),
        ({"slippage": 0}, {"slippage": 0.0}),
        ({"slippage": 0.5}, {"slippage": 0.5}),
        ({"news_file": "news/calendar.csv"}, {}),
        ({"server_tz": None, "slippage": None}, {"server_tz": None, "slippage": None}),
    ],
)
def test_each_setting_is_read_as_written(tmp_path, settings, expected):
    # Act
    farm = load_hosts(_write(tmp_path, **settings))

    # Assert
    setup = farm.symbols["GER40"]
    for key, value in expected.items():
        assert getattr(setup, key) == value
        assert type(getattr(setup, key)) is type(value)
    if "news_file" in settings:  # a local path, relative to the hosts file like data files
        assert setup.news_file == tmp_path / "news" / "calendar.csv"
    unset = [k for k in RUNNER_KEYS if k not in settings]
    assert [getattr(setup, k) for k in unset] == [None] * len(unset)


@pytest.mark.parametrize(
    ("settings", "field", "message"),
    [
        ({"server_tz": "UTC+2"}, "server_tz", "'UTC+2' is not a time zone name"),
        ({"server_tz": "Europe/Atlantis"}, "server_tz", "is not an IANA time zone"),
        ({"server_tz": "broker:NY+30"}, "server_tz", "is not a broker clock"),
        ({"server_tz": 2}, "server_tz", "must be a non-empty string"),
        ({"news_file": 7}, "news_file", "must be a path string"),
        ({"news_file": "news/.."}, "news_file", "must name a file"),
        ({"news_file": "bad\nname.csv"}, "news_file", "without control characters"),
        ({"spread_model": "mid"}, "spread_model", "'mid' is not one of bid_ask, cost"),
        ({"spread_model": True}, "spread_model", "is not one of bid_ask, cost"),
        ({"spread_source": "ticks"}, "spread_source", "'ticks' is not one of fixed, data"),
        (
            {"spread_model": "cost", "spread_source": "data"},
            "spread_source",
            "'data' needs spread_model bid_ask",
        ),
        ({"slippage": -0.5}, "slippage", "must be >= 0"),
        ({"slippage": "0.5"}, "slippage", "is not a number"),
        ({"slippage": True}, "slippage", "is not a number"),
        ({"slippage": float("nan")}, "slippage", "is not a finite number"),
    ],
)
def test_bad_setting_is_one_error_naming_file_and_field(tmp_path, settings, field, message):
    # Arrange
    path = _write(tmp_path, **settings)

    # Act
    with pytest.raises(HostsFileError) as err:
        load_hosts(path)

    # Assert
    text = str(err.value)
    assert text.startswith(f"{path}: symbols.GER40.{field}: "), text
    assert message in text and "\n" not in text


def test_runner_command_carries_the_settings_quoted(tmp_path):
    # Arrange: a base dir and a news file name that need quoting; another hosts file
    # without the settings
    from farm.steps import news_remote_path

    base = "/srv/ib sweep/it's $(touch x)"
    farm = load_hosts(
        _write(
            tmp_path,
            base_dir=base,
            server_tz="broker:NY+7",
            news_file="my news; $(id).csv",
            spread_model="bid_ask",
            spread_source="data",
            slippage=0.25,
        )
    )
    (host,) = farm.hosts
    setup = farm.symbols["GER40"]
    run_dir = host.remote_out
    news = news_remote_path(host, setup)
    plain = load_hosts(_write(tmp_path / "plain"))

    # Act
    command = runner_command(host, setup, run_dir, f"{base}/data/in_sample/d.csv", news)
    args = _parsed(command)
    plain_args = _parsed(
        runner_command(plain.hosts[0], plain.symbols["GER40"], plain.hosts[0].remote_out, None)
    )

    # Assert
    assert news == f"{base}/data/news/my news; $(id).csv"
    assert (args.server_tz, args.news_file) == ("broker:NY+7", news)
    assert (args.spread_model, args.spread_source, args.slippage) == ("bid_ask", "data", 0.25)
    assert (args.groups_file, args.output_dir) == (f"{run_dir}/groups_filtered.json", run_dir)
    assert args.data_file == f"{base}/data/in_sample/d.csv"
    assert (args.period, args.workers, args.skip_charts, args.strict_data) == (
        "in_sample",
        "1",
        True,
        True,
    )
    assert shlex.quote(news) in command and shlex.quote(run_dir) in command
    # without them in hosts.yaml, the runner's config decides (no option given)
    assert [getattr(plain_args, k) for k in RUNNER_KEYS] == [None] * len(RUNNER_KEYS)
    assert plain_args.data_file is None


def test_shipped_hosts_file_examples_of_the_settings_are_valid(tmp_path):
    # Arrange: hosts.yaml's commented-out examples of the settings, uncommented, in a copy
    lines = (REPO / "hosts.yaml").read_text().splitlines()
    examples = [
        n
        for n, line in enumerate(lines)
        if line.lstrip().startswith(tuple(f"# {k}:" for k in RUNNER_KEYS))
        and line.startswith("    #")
    ]
    for n in examples:
        lines[n] = lines[n].replace("# ", "", 1)
    path = tmp_path / "hosts.yaml"
    path.write_text("\n".join(lines) + "\n")

    # Act
    farm = load_hosts(path)

    # Assert
    shown = {lines[n].split(":")[0].strip() for n in examples}
    assert shown == set(RUNNER_KEYS)
    set_somewhere = {
        k for s in farm.symbols.values() for k in RUNNER_KEYS if getattr(s, k) is not None
    }
    assert set_somewhere == set(RUNNER_KEYS)
