"""collect writes only under its own directory, whatever file names a (tampered) host lists."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from farm import steps
from farm.hosts import Host


class ListingHost:
    """A Remote whose output directory lists ``names``; records what is downloaded."""

    def __init__(self, names: list[str]) -> None:
        self.names, self.fetched = names, []

    def run(self, command: str, **kwargs):
        return SimpleNamespace(
            stdout="".join(f"{n}\t5\t1700000000.0\n" for n in self.names), ok=True
        )

    def put(self, local, remote=None, **kwargs):
        raise AssertionError("collect never uploads")

    def get(self, remote: str, local=None, **kwargs):
        self.fetched.append(remote)
        Path(local).write_text("{}\n")


def test_download_refuses_names_outside_the_output_dir(tmp_path):
    # Arrange
    host = Host(
        "h1",
        "127.0.0.9",
        22,
        None,
        None,
        tmp_path / "kh",
        "GER40",
        "0:2",
        0,
        2,
        "/srv/ib",
        "python3",
        "venv",
        1,
        "in_sample",
        "out",
        5,
        60,
    )
    remote = ListingHost(
        ["results_full_GER40.json", "../../escaped.json", "/etc/cron.d/x", "a/../../b.json"]
    )
    local = tmp_path / "dest" / "hosts" / "h1"

    # Act
    got = steps.download(remote, host, local)

    # Assert
    assert got["fetched"] == ["results_full_GER40.json"]
    assert remote.fetched == ["/srv/ib/out/results_full_GER40.json"]
    assert [b.split(":")[0] for b in got["bad"]] == [
        "../../escaped.json",
        "/etc/cron.d/x",
        "a/../../b.json",
    ]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["results_full_GER40.json"]
