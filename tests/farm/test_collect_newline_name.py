"""The remote listing is NUL-separated: a file named with a newline in a host's output
folder is listed, ignored with a note, and both hosts' results are merged."""

from __future__ import annotations

import json

from tests.farm.conftest import run_fab


def test_file_named_with_a_newline_is_ignored_and_results_merge(ssh_farm, finished_pair, tmp_path):
    # Arrange
    weird = "evil\nname\tx.json"
    (finished_pair.out("h2") / weird).write_text("{}\n")
    dest = tmp_path / "dest"

    # Act
    collect = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(dest))

    # Assert
    assert collect.returncode == 0, collect.stdout + collect.stderr
    assert f"h2: ignored 1 file(s) with names the runner never writes: {weird!r}" in collect.stdout
    merged = json.loads(
        (dest / "GER40_in_sample" / "merged" / "results_full_GER40.json").read_text()
    )
    assert [(g["group_id"], g["status"]) for g in merged["groups"]] == [
        ("group_GER40_000", "ok"),
        ("group_GER40_001", "ok"),
    ]
    copied = [p.name for p in (dest / "GER40_in_sample" / "hosts" / "h2").iterdir()]
    assert weird not in copied and "results_full_GER40.json" in copied
