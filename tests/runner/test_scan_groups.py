"""The up-front scan of a run's groups (validate, count, sample) gives the same
answer in one process or several, and the error of the first bad group in file order."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _full_scan(loaded):
    """The scan by expanding every combination (the scan before it counted key products)."""
    import operator

    counts, news, tables = {}, None, {}
    key = operator.itemgetter(*groups_mod.TABLE_PARAMS)
    for group in loaded.groups:
        combos = list(groups_mod.iter_group(group, where=f"{loaded.path}: group {group.group_id}"))
        counts[group.group_id] = len(combos)
        if news is None and any(c["news_filter"] for c in combos):
            news = group.group_id
        for combo in combos:
            tables.setdefault(key(combo), combo)
    return counts, news, list(tables.values())


GRIDS = {
    "ib_start": ["07:00", "08:00", "09:30"],
    "ib_end": ["09:00", "10:00"],
    "trade_end": ["09:30", "17:00"],
    "news_filter": [False, True],
    "sl_mult": [0.5, 1.0, 2.0],
    "tp_mult": [0.0, 1.0, 1.5],
    "max_trades_per_day": [1, 2],
}


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(st.sampled_from(sorted(GRIDS)), min_size=1, max_size=5, unique=True),
    constraint=st.sampled_from([None, "tp_mult >= sl_mult", "max_trades_per_day == 1"]),
)
def test_the_key_product_scan_equals_expanding_every_combination(
    tmp_path_factory, names, constraint
):
    # Arrange: grids over times (some combinations break the time order), the news filter,
    # free parameters, and a constraint over free or key parameters
    groups = [
        {
            "group_id": f"g{n}",
            "params": {"ib_start": "08:00"} if "ib_start" not in names and n else {},
            "grid": {name: GRIDS[name] for name in (names if n else names[::-1])},
            **({"constraints": [constraint]} if constraint else {}),
        }
        for n in range(2)
    ]
    path = tmp_path_factory.mktemp("scan") / "g.json"
    path.write_text(json.dumps({"symbol": "GER40", "groups": groups}))
    loaded = load_groups_file(path, expand=False)

    # Act
    try:
        expected = _full_scan(loaded)
    except GroupsError as exc:
        with pytest.raises(GroupsError) as raised:
            scan_groups(loaded)
        # Assert: the same first bad combination, numbered in the whole product
        assert str(raised.value) == str(exc)
        return
    scan = scan_groups(loaded)

    # Assert
    assert (scan.counts, scan.news_group, scan.table_combos) == expected
