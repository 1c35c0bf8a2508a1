"""Two real runner halves of a sweep merge into what the whole sweep gives."""

import json

from backtest.analysis.merge import merge_dirs
from backtest.runner.main import main
from tests.runner.helpers import END, START, write_bars

GROUPS = [
    {
        "group_id": f"group_GER40_00{n}",
        "params": {"ib_end": ib_end},
        "grid": {"sl_mult": [0.5, 1.0], "tp_mult": [1.0, 2.0]},
    }
    for n, ib_end in ((1, "09:30"), (2, "10:00"), (3, "10:30"))
]


def _run(tmp_path, name, groups, bars):
    groups_file = tmp_path / f"{name}.json"
    groups_file.write_text(json.dumps({"symbol": "GER40", "groups": groups}))
    out = tmp_path / name
    code = main(
        [
            "--groups-file",
            str(groups_file),
            "--data-file",
            str(bars),
            "--start-date",
            START,
            "--end-date",
            END,
            "--workers",
            "1",
            "--output-dir",
            str(out),
            "--skip-charts",
        ]
    )
    assert code == 0
    return out


def _groups_without_timing(directory):
    full = json.loads((directory / "results_full_GER40.json").read_text())
    return [{k: v for k, v in g.items() if k != "elapsed_s"} for g in full["groups"]]


def test_real_halves_merge_into_the_whole_run(tmp_path):
    bars = write_bars(tmp_path / "bars.parquet", "2024-01-01", END)
    whole = _run(tmp_path, "whole", GROUPS, bars)
    first = _run(tmp_path, "first", GROUPS[:2], bars)
    second = _run(tmp_path, "second", GROUPS[2:], bars)

    report = merge_dirs([second, first], tmp_path / "merged")

    merged = tmp_path / "merged"
    for name in ("results_summary_GER40.csv", "results_combos_GER40.csv"):
        assert (merged / name).read_text() == (whole / name).read_text()
    assert _groups_without_timing(merged) == _groups_without_timing(whole)
    assert report.merged == [g["group_id"] for g in GROUPS]
