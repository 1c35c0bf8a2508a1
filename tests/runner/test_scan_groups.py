"""The up-front scan of a run's groups (validate, count, digest, sample) gives the same
answer in one process or several, and the error of the first bad group in file order."""

from __future__ import annotations

import json

import pytest

import backtest.runner.groups as groups_mod
from backtest.runner.groups import GroupsError, load_groups_file, scan_groups


def _groups(tmp_path, bad=()):
    groups = [
        {
            "group_id": f"g{n}",
            "params": {"ib_start": "10:30" if n in bad else "08:00", "news_filter": n == 2},
            "grid": {"ib_end": ["09:00", "10:00"], "sl_mult": [0.5, 1.0, 2.0]},
        }
        for n in range(5)
    ]
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"symbol": "GER40", "groups": groups}))
    return load_groups_file(path, expand=False)


def test_several_processes_give_the_one_process_scan(tmp_path, monkeypatch):
    # Arrange
    loaded = _groups(tmp_path)
    serial = scan_groups(loaded, processes=1)

    # Act
    monkeypatch.setattr(groups_mod, "PARALLEL_SCAN", 0)
    parallel = scan_groups(loaded, processes=2)

    # Assert
    assert parallel == serial
    assert serial.counts == {f"g{n}": 6 for n in range(5)}
    assert serial.news_group == "g2"
    assert len(serial.table_combos) == 4  # (ib_end 09:00 | 10:00) x (news off | on)


def test_the_first_bad_group_in_file_order_is_named(tmp_path, monkeypatch):
    # Arrange: groups 1 and 3 have ib_start after ib_end
    loaded = _groups(tmp_path, bad=(1, 3))
    monkeypatch.setattr(groups_mod, "PARALLEL_SCAN", 0)

    # Act / Assert
    for processes in (1, 2):
        with pytest.raises(GroupsError, match=r"g\.json: group g1: grid combination 1 "):
            scan_groups(loaded, processes=processes)
