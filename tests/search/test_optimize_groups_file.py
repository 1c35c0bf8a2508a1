"""A groups file is a space too: each group a block (its params fixed, its grid sampled,
its constraints kept), the block sampled first; the study's evaluated points are the
groups' own combinations."""

from __future__ import annotations

import json

from tests.runner.helpers import write_groups
from tests.search.helpers import END, START, bars, combos, invoke, trials


def test_a_groups_file_searched(tmp_path):
    # Arrange: 2 groups x 8 combinations (ib_end fixed per group; sl x tp)
    groups = write_groups(tmp_path / "groups.json")
    spec = json.loads(groups.read_text())["groups"]
    allowed = {
        (g["params"]["ib_end"], sl, tp)
        for g in spec
        for sl in g["grid"]["sl_mult"]
        for tp in g["grid"]["tp_mult"]
    }
    out = tmp_path / "out"

    # Act
    done = invoke(
        "optimize",
        "--groups-file",
        groups,
        "--data-file",
        bars(tmp_path),
        "--start-date",
        START,
        "--end-date",
        END,
        "--output-dir",
        out,
        "--workers",
        1,
        "--trials",
        40,
        "--batch",
        10,
        "--sampler",
        "random",
        "--no-report",
    )

    # Assert
    assert done.returncode == 0, done.stderr
    rows = combos(out)
    assert {(r.ib_end, r.sl_mult, r.tp_mult) for r in rows.itertuples()} <= allowed
    assert len(rows) == len(rows.drop_duplicates(["ib_end", "sl_mult", "tp_mult"]))
    table = trials(out)
    assert all("block" in json.loads(p) for p in table.params)
    assert len(table) == 40 and len(rows) <= 16
