"""``invoke optimize --trial entry-rule``: the sampler chooses an entry rule, each trial runs
its whole exit sub-grid (``sl_mult`` × ``tp_mult`` of the space, the block's constraints
applied); the trial's value is the best qualifying combination of it, every combination
is a row of the results with its trial, N for the DSR counts every combination, and a
batch cut by a crash is finished from its part (nothing evaluated twice)."""

from __future__ import annotations

import json
import signal

import numpy as np
import pandas as pd
import pytest

from backtest.search.evaluate import slices_by_rule
from backtest.strategy.params import PARAM_NAMES
from tests.runner.helpers import SYMBOL, run_args, run_cli
from tests.search.helpers import (
    END,
    START,
    bars,
    combos,
    invoke,
    metadata,
    optimize_args,
    space,
    trials,
)

IDENTITY = [p for p in PARAM_NAMES if p != "weekdays"]
SL = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]  # the helpers' space: its exit grid
TP = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
CONSTRAINT = "tp_mult == 0 or tp_mult >= sl_mult"
SUB_GRID = sum(1 for s in SL for t in TP if t == 0 or t >= s)  # 37 of 49 kept
TRIALS = 12


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("entry_rule")
    space(folder)
    out = folder / "out"
    args = ["--trials", TRIALS, "--batch", 4, "--seed", 3, "--sampler", "random"]
    command = optimize_args(folder, out, *args, "--trial", "entry-rule", "--save-daily")
    command[command.index("--workers") + 1] = 2  # the pool: a batch cut between sub-grids
    done = invoke(*command, timeout=400)
    assert done.returncode == 0, done.stderr
    return folder, out, done


def _spans(out) -> pd.DataFrame:
    """The evaluated trials with their rows ``[combo_first, combo_first + combos)``."""
    table = trials(out)
    return table[table.outcome == "evaluated"].set_index("trial")


@pytest.fixture(scope="module")
def swept(run):
    """Each evaluated trial's entry rule swept by the runner over the space's exit grid (a
    group of 7 × 7 stops and targets, the space's constraint): the plain sweep's answer."""
    folder, out, _ = run
    rows = combos(out).set_index(["group_id", "combo"]).sort_index()
    groups = []
    for number, t in _spans(out).iterrows():
        first = rows.loc[(t.group_id, int(t.combo_first))]
        entry = {"trade_end": "17:30", "ib_end": first.ib_end, "direction": first.direction}
        groups.append(
            {
                "group_id": f"trial_{number}",
                "params": entry,
                "grid": {"sl_mult": SL, "tp_mult": TP},
                "constraints": [CONSTRAINT],
            }
        )
    path = folder / "groups.json"
    path.write_text(json.dumps({"symbol": SYMBOL, "groups": groups}))
    sweep = folder / "sweep"
    args = run_args(bars(folder), path, sweep, "--no-report")
    args[args.index("--start-date") + 1], args[args.index("--end-date") + 1] = START, END
    done = run_cli(*args, timeout=300)
    assert done.returncode == 0, done.stderr
    return pd.read_parquet(sweep / f"results_combos_{SYMBOL}.parquet")


def test_each_trial_is_its_sub_grid_and_its_value_the_sweeps_best_of_it(run, swept):
    _, out, done = run
    rows = combos(out)
    spans = _spans(out)

    assert len(spans) >= 4
    for number, t in spans.iterrows():
        mine = rows[rows.group_id == t.group_id].set_index("combo").sort_index()
        mine = mine.loc[int(t.combo_first) : int(t.combo_first) + int(t.combos) - 1]
        plain = swept[swept.group_id == f"trial_{number}"].sort_values("combo")
        # the same combinations, in grid order, with the same results
        assert int(t.combos) == len(plain) == SUB_GRID
        assert mine.sl_mult.tolist() == plain.sl_mult.tolist()
        assert mine.tp_mult.tolist() == plain.tp_mult.tolist()
        assert np.allclose(mine.total_r, plain.total_r, rtol=0, atol=1e-12)
        # its value: the best total_r of the qualifying (>= 1 trade) combinations
        qualifying = plain[plain.trades >= 1]
        assert t.value == pytest.approx(qualifying.total_r.max(), abs=1e-12)
        best = mine.loc[int(t.combo)]  # its row is the first best of its sub-grid
        assert best.total_r == t.value and t.total_r == t.value
        assert int(t.combo) == int(t.combo_first) + int(np.argmax(mine.total_r.to_numpy()))
    said = f"{SUB_GRID * len(spans)} combinations evaluated (N for the deflated Sharpe ratio)"
    assert f"{said} in {len(spans)} entry rules" in done.stdout


def test_every_combination_is_a_row_with_its_trial_and_none_twice(run):
    _, out, _ = run
    rows, spans, table = combos(out), _spans(out), trials(out)
    records = [json.loads(line) for line in (out / "checkpoint.jsonl").read_text().splitlines()[1:]]

    assert len(rows) == spans.combos.sum() == SUB_GRID * len(spans)
    assert not rows.duplicated(subset=IDENTITY).any()
    numbers = {}  # (group, combo) -> trial, from the checkpoint's record of each batch
    for record in records:
        for combo, number in enumerate(record["trials"]):
            numbers[(record["group_id"], combo)] = number
    assert len(numbers) == len(rows)
    for number, t in spans.iterrows():
        sampled = json.loads(t.params)
        assert set(sampled) == {"ib_end", "direction"}  # the sampler sees the entry rule only
        for combo in range(int(t.combo_first), int(t.combo_first) + int(t.combos)):
            assert numbers[(t.group_id, combo)] == number
            row = rows[(rows.group_id == t.group_id) & (rows.combo == combo)].iloc[0]
            minutes = int(row.ib_end[:2]) * 60 + int(row.ib_end[3:])
            assert (minutes, row.direction) == (sampled["ib_end"], sampled["direction"])
    # a trial that samples an entry rule again is told its values and runs nothing
    for _, t in table[table.outcome == "duplicate"].iterrows():
        first = spans.loc[int(t.same_as)]
        assert t.value == first.value and t.params == first.params and pd.isna(t.group_id)


def test_the_dsr_counts_every_combination_not_every_trial(run):
    _, out, _ = run
    search = metadata(out)["optimize"]
    evaluated = len(_spans(out))

    done = invoke("robustness", "--from", out, "--samples", 200)

    assert search["trial"] == "entry-rule"
    assert search["evaluated"] == SUB_GRID * evaluated == len(combos(out))
    assert search["evaluated_trials"] == evaluated < search["evaluated"]
    assert done.returncode == 0, done.stderr
    robustness = json.loads((out / f"robustness_{SYMBOL}.json").read_text())
    assert robustness["dsr"]["n_trials"] == SUB_GRID * evaluated


def test_killed_after_its_part_the_sub_grids_are_finished_from_it(tmp_path):
    space(tmp_path)
    out = tmp_path / "out"
    args = optimize_args(
        tmp_path, out, "--trials", 16, "--batch", 4, "--sampler", "random", "--trial", "entry-rule"
    )

    killed = invoke(*args, fault="kill-after-part:2")
    pending = json.loads((out / "parts" / "trials_0000004.pending.json").read_text())
    resumed = invoke(*args)

    assert killed.returncode == -signal.SIGKILL
    assert resumed.returncode == 0, resumed.stderr
    rows = sum(pending["sizes"])
    assert rows == SUB_GRID * len(pending["rows"]) > 0
    log = (out / "run.log").read_text()
    assert (
        f"resuming: trials_0000004: finished from its part ({rows} rows, not evaluated again)"
        in log
    )
    table, results = trials(out), combos(out)
    assert len(table) == 16 and (table.state != "RUNNING").all()
    assert not results.duplicated(subset=IDENTITY).any()  # no combination evaluated twice
    assert len(results) == table.combos.sum()
    assert (results.group_id == "trials_0000004").sum() == rows


def test_a_batch_is_cut_between_sub_grids_never_inside_one():
    combos_ = [{"trial": t, "row": r} for t, size in enumerate([3, 5, 2, 4]) for r in range(size)]

    order, slices = slices_by_rule(combos_, 2, units=[3, 5, 2, 4])

    assert order == list(range(14))  # the batch's order kept (a sub-grid is one entry rule)
    assert [[c["trial"] for c in s] for s in slices] == [[0] * 3 + [1] * 5, [2] * 2 + [3] * 4]
