"""``invoke walk-forward --search random --trials N --trial entry-rule``: each window's
search runs entry rules with their whole exit sub-grid (as ``invoke optimize --trial
entry-rule``), its choice is the best trial's best combination, and the deflated Sharpe
ratios count every combination of every sub-grid: a window's N is its rows, the stitched
series' N their sum."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.runner.helpers import SYMBOL
from tests.search.helpers import invoke, walk_forward

SPAN = ("2024-01-01", "2024-05-31")
TRIALS = 4
SUB_GRID = 37  # the helpers' space: 7 sl_mult x 7 tp_mult, tp_mult == 0 or >= sl_mult


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    root = tmp_path_factory.mktemp("wf_entry_rule")
    search = ("--search", "random", "--trials", TRIALS, "--batch", 2, "--trial", "entry-rule")
    bars, out, _, document = walk_forward(root, SPAN, *search)
    return root, bars, out, document


def test_a_window_counts_every_combination_of_its_entry_rules(walked):
    # Arrange
    _, _, out, document = walked

    # Act
    windows, search = document["windows"], document["search"]

    # Assert
    assert len(windows) == 3
    for row in windows:
        trials = pd.read_parquet(out / row["folder"] / f"optimize_trials_{SYMBOL}.parquet")
        rows = pd.read_parquet(out / row["folder"] / f"results_combos_{SYMBOL}.parquet")
        evaluated = trials[trials.outcome == "evaluated"]
        best = evaluated[evaluated.qualifies.fillna(False)]
        best = best.sort_values(["value", "trial"], ascending=[False, True]).iloc[0]
        assert len(trials) == row["trials"] == TRIALS
        assert row["evaluated"] == len(rows) == SUB_GRID * len(evaluated)
        assert row["train_dsr"]["n_trials"] == row["evaluated"]
        assert row["trial"] == best.trial
        assert row["train_metrics"]["total_r"] == pytest.approx(best.value, abs=1e-9)
    assert search["trial"] == "entry-rule"
    assert search["dsr"]["n_trials"] == sum(r["evaluated"] for r in windows)
    assert document["metadata"]["analysis"]["search"]["trial"] == "entry-rule"


def test_a_bad_trial_kind_is_refused_before_anything_runs(walked, tmp_path):
    # Arrange
    root, bars, _, _ = walked
    common = ("--space", root / "space.yaml", "--data-file", bars, "--output-dir", tmp_path / "o")

    # Act
    bad = invoke("walk-forward", *common, "--search", "tpe", "--trials", 5, "--trial", "rule")
    alone = invoke("walk-forward", *common, "--trial", "entry-rule")

    # Assert
    assert bad.returncode == 2 and "--trial 'rule'" in bad.stderr
    assert alone.returncode == 2 and "--search and --trials go together" in alone.stderr
    assert not (tmp_path / "o").exists()
