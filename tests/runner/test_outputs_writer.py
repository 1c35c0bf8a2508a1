"""backtest.runner.outputs.write_results: a pure function of its inputs (sorting, cells, atomic)."""

from __future__ import annotations

import csv

from backtest.runner.outputs import read_results, write_results


def _group(group_id, totals, status="ok"):
    combos = [
        {
            "params": {"sl_mult": 1.0, "weekdays": [0, 2]},
            "metrics": {
                "total_r": r,
                "sharpe": 0.5,
                "trades": 3,
                "winrate": 0.5,
                "profit_factor": None,
                "max_dd_r": 1.0,
                "prop_ok": True,
            },
        }
        for r in totals
    ]
    best = max(range(len(totals)), key=lambda i: (totals[i], -i)) if totals else None
    return {
        "group_id": group_id,
        "status": status,
        "elapsed_s": 0.1,
        "combos": combos,
        "best": best,
    }


def test_ties_keep_group_order_and_cells_are_json(tmp_path):
    groups = [
        _group("a", [1.0, 2.0]),
        _group("b", [2.0]),
        _group("c", [3.0]),
        {
            "group_id": "d",
            "status": "failed",
            "error": "boom",
            "elapsed_s": 0.0,
            "combos": [],
            "best": None,
        },
    ]

    paths = write_results(
        tmp_path, "GER40", {"symbol": "GER40"}, groups, [{"group_id": "d", "error": "boom"}]
    )

    with open(paths["summary"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["group_id"] for r in rows] == ["c", "a", "b"]
    assert rows[1]["profit_factor"] == "" and rows[1]["weekdays"] == "[0, 2]"
    assert rows[1]["prop_ok"] == "true" and rows[1]["total_r"] == "2.0"
    with open(paths["combos"], newline="") as handle:
        combos = [(r["group_id"], r["combo"]) for r in csv.DictReader(handle)]
    assert combos == [("c", "0"), ("a", "1"), ("b", "0"), ("a", "0")]
    assert read_results(tmp_path, "GER40")["groups"] == groups
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_same_input_gives_the_same_bytes(tmp_path):
    groups = [_group("a", [0.5, -1.25]), _group("b", [0.75])]

    first = write_results(tmp_path / "one", "GER40", {"symbol": "GER40"}, groups, [])
    second = write_results(tmp_path / "two", "GER40", {"symbol": "GER40"}, groups, [])

    for kind in ("summary", "combos", "full", "failed"):
        assert first[kind].read_bytes() == second[kind].read_bytes()
