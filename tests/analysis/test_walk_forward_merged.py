"""Walk-forward on hosts' parts merged into one folder equals walk-forward on one run:
the compact trades travel with the merge (farm runs use the same runner, no second engine)."""

from __future__ import annotations

import json

from backtest.analysis.merge import merge_dirs
from backtest.analysis.walk_forward import WalkForwardSettings, analyse_walk_forward
from tests.runner.helpers import GROUP_IDS, run_cli, write_bars, write_groups

SPAN = ("2024-01-01", "2024-04-30")
SETTINGS = WalkForwardSettings("2M", "1M", with_robustness=False)


def run(bars, groups, out):
    result = run_cli(
        "--groups-file",
        groups,
        "--data-file",
        bars,
        "--start-date",
        SPAN[0],
        "--end-date",
        SPAN[1],
        "--workers",
        1,
        "--skip-charts",
        "--save-daily",
        "--output-dir",
        out,
    )
    assert result.returncode == 0, result.stderr


def test_merged_parts_give_the_same_walk_forward(tmp_path):
    bars = write_bars(tmp_path / "bars.parquet", *SPAN, seed=4)
    whole, part_a, part_b = tmp_path / "whole", tmp_path / "a", tmp_path / "b"
    everything = write_groups(tmp_path / "all.json")
    run(bars, everything, whole)
    document = json.loads(everything.read_text())
    for part, group in zip((part_a, part_b), document["groups"]):  # one host, one group
        one = tmp_path / f"{part.name}.json"
        one.write_text(json.dumps({**document, "groups": [group]}))
        run(bars, one, part)
    merged = tmp_path / "merged"
    merge_dirs([part_a, part_b], merged, groups_file=tmp_path / "all.json")

    one = analyse_walk_forward(whole, "GER40", SETTINGS)["result"]
    two = analyse_walk_forward(merged, "GER40", SETTINGS)["result"]

    assert len(one["windows"]) == 2
    keys = ("group_id", "combo", "train_metrics", "test_metrics")
    assert [{k: w[k] for k in keys} for w in one["windows"]] == [
        {k: w[k] for k in keys} for w in two["windows"]
    ]
    assert sorted(p.name for p in (merged / "daily").iterdir()) == [f"{g}.npz" for g in GROUP_IDS]
