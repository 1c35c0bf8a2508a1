"""``invoke walk-forward --search tpe --trials N``: each train window is searched (a study of
N trials of its own), its choice is the search's best qualifying evaluated trial, the test
window reports what a plain runner process of that combination gives over the test dates,
and the deflated Sharpe ratios count every trial the searches evaluated."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from backtest.strategy.metrics import METRIC_KEYS
from tests.runner.helpers import SYMBOL, run_cli
from tests.search.helpers import invoke, walk_forward

SPAN = ("2024-01-01", "2024-05-31")
TRIALS = 30


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    root = tmp_path_factory.mktemp("wf_search")
    search = ("--search", "tpe", "--trials", TRIALS, "--batch", 10)
    bars, out, done, document = walk_forward(root, SPAN, *search)
    return root, bars, out, done, document


def test_each_window_chooses_its_searchs_best_trial(walked):
    _, _, out, done, document = walked
    windows = document["windows"]

    assert len(windows) == 3
    for row in windows:
        trials = pd.read_parquet(out / row["folder"] / f"optimize_trials_{SYMBOL}.parquet")
        evaluated = trials[(trials.outcome == "evaluated") & trials.qualifies.fillna(False)]
        best = evaluated.sort_values(["value", "trial"], ascending=[False, True]).iloc[0]
        assert len(trials) == row["trials"] == TRIALS
        assert (trials.outcome == "evaluated").sum() == row["evaluated"]
        assert (row["trial"], row["group_id"], row["combo"]) == (
            best.trial,
            best.group_id,
            best.combo,
        )
        assert row["train_metrics"]["total_r"] == pytest.approx(best.value, abs=1e-9)
    assert "searches: 90 trials" in done.stdout


def test_the_test_window_is_what_a_plain_run_of_the_choice_gives(walked, tmp_path):
    _, bars, _, _, document = walked
    row = document["windows"][1]
    groups = tmp_path / "chosen.json"
    groups.write_text(
        json.dumps({"symbol": SYMBOL, "groups": [{"group_id": "chosen", "params": row["params"]}]})
    )

    plain = run_cli(
        "--groups-file",
        groups,
        "--data-file",
        bars,
        "--start-date",
        row["test_start"],
        "--end-date",
        row["test_end"],
        "--workers",
        1,
        "--skip-charts",
        "--no-report",
        "--output-dir",
        tmp_path / "plain",
    )

    assert plain.returncode == 0, plain.stderr
    full = json.loads((tmp_path / "plain" / f"results_full_{SYMBOL}.json").read_text())
    metrics = full["groups"][0]["combos"][0]["metrics"]
    for key in METRIC_KEYS:
        assert row["test_metrics"][key] == pytest.approx(metrics[key], abs=1e-9), key


def test_the_deflated_sharpe_ratios_count_every_trial_evaluated(walked):
    _, _, _, _, document = walked
    windows, search = document["windows"], document["search"]

    evaluated = sum(r["evaluated"] for r in windows)
    assert search["evaluated"] == evaluated > 0
    assert search["trials_run"] == 3 * TRIALS
    assert search["dsr"]["n_trials"] == evaluated
    assert search["dsr"]["n_obs"] == sum(r["test_days"] for r in windows)
    for row in windows:
        assert row["train_dsr"]["n_trials"] == row["evaluated"]
        assert row["train_dsr"]["n_obs"] == row["train_days"]
    stitched = document["stitched"]
    assert stitched["total_r"] == pytest.approx(sum(r["test_metrics"]["total_r"] for r in windows))
    assert document["metadata"]["analysis"]["search"]["sampler"] == "tpe"


def test_search_options_are_checked_before_anything_runs(walked, tmp_path):
    root, bars, _, _, _ = walked
    common = ("--space", root / "space.yaml", "--data-file", bars, "--output-dir", tmp_path / "o")

    no_trials = invoke("walk-forward", *common, "--search", "tpe")
    bad_sampler = invoke("walk-forward", *common, "--search", "grid", "--trials", 10)

    assert no_trials.returncode == 2 and "--search and --trials go together" in no_trials.stderr
    assert bad_sampler.returncode == 2 and "--search 'grid'" in bad_sampler.stderr
    assert not (tmp_path / "o").exists()
