"""``invoke optimize`` end to end: the study in its storage, every evaluated trial a row of
the sweep's results (its trial number in the trials table), provenance with the sampler,
its settings, the seed and the number of trials, duplicates never evaluated again."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from backtest.strategy.params import PARAM_NAMES
from tests.runner.helpers import SYMBOL
from tests.search.helpers import combos, invoke, metadata, optimize_args, space, study, trials

N = 160


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("optimize")
    space(folder)
    out = folder / "out"
    done = invoke(
        *optimize_args(folder, out, "--trials", N, "--batch", 40, "--seed", 1, "--save-daily")
    )
    return done, out


def test_it_ends_well_and_says_where_and_how_many(run):
    done, out = run

    assert done.returncode == 0, done.stderr
    assert f"results: {out}" in done.stdout
    assert f"{N} trials of {N}" in done.stdout
    assert "N for the deflated Sharpe ratio" in done.stdout
    for name in (
        f"results_summary_{SYMBOL}.csv",
        f"results_combos_{SYMBOL}.csv",
        f"results_combos_{SYMBOL}.parquet",
        f"results_full_{SYMBOL}.json",
        f"results_manifest_{SYMBOL}.json",
        f"optimize_trials_{SYMBOL}.csv",
        f"optimize_trials_{SYMBOL}.parquet",
        f"optimize_{SYMBOL}.html",
        f"report_{SYMBOL}.html",
        "optuna.db",
    ):
        assert (out / name).is_file(), name
    assert not list((out / "parts").glob("*.pending.json"))


def test_every_evaluated_trial_is_a_row_and_nothing_else_is(run):
    _, out = run
    table, rows = trials(out), combos(out)

    evaluated = table[table.outcome == "evaluated"]

    assert sorted(table.trial) == list(range(N))
    assert len(rows) == len(evaluated) > 0
    keyed = rows.set_index(["group_id", "combo"])
    for t in evaluated.itertuples():
        row = keyed.loc[(t.group_id, t.combo)]
        params = json.loads(t.params)
        assert row["sl_mult"] == params["sl_mult"] and row["direction"] == params["direction"]
        assert row["total_r"] == pytest.approx(t.total_r)
        first = int(t.group_id.removeprefix("trials_"))
        assert first <= t.trial < first + 40  # the batch named by its first trial
    identity = [p for p in PARAM_NAMES if p != "weekdays"]
    assert not rows.duplicated(subset=identity).any()  # no combination evaluated twice


def test_a_duplicate_is_told_its_first_evaluation_and_never_run(run):
    _, out = run
    table = trials(out).set_index("trial")

    duplicates = table[table.outcome == "duplicate"]

    for number, t in duplicates.iterrows():
        first = table.loc[int(t.same_as)]
        assert first.outcome == "evaluated" and int(t.same_as) != number
        assert t.value == first.value and t.params == first.params
        assert pd.isna(t.group_id)  # no row of its own
    infeasible = table[table.outcome == "infeasible"]
    assert all("tp_mult == 0 or tp_mult >= sl_mult" in r for r in infeasible.reason)
    assert (infeasible.state == "PRUNED").all()


def test_provenance_names_the_sampler_its_settings_the_seed_and_the_trials(run):
    _, out = run
    meta = metadata(out)

    search = meta["optimize"]

    assert search["sampler"] == "tpe" and search["seed"] == 1
    assert search["sampler_settings"]["class"].startswith("BatchTPESampler")
    assert search["sampler_settings"]["seed"] == 1 and search["batch"] == 40
    assert search["n_trials"] == N and search["trials"] == N
    counts = trials(out).outcome.value_counts().to_dict()
    assert search["evaluated"] == counts["evaluated"] == search["evaluated_here"]
    assert search["space"]["source"].endswith("space.yaml") and search["space"]["size"] == 882
    assert search["objectives"] == ["total_r"] and search["directions"] == ["maximize"]
    assert meta["symbol_settings"]["spread_model"] == "bid_ask"  # spec section 8's default
    assert meta["groups_file"].endswith("space.yaml")


def test_the_storage_holds_the_study_as_optuna_reads_it(run):
    _, out = run
    meta = metadata(out)["optimize"]

    read = study(f"sqlite:///{out / 'optuna.db'}", meta["study_name"])

    assert len(read.trials) == N
    assert {t.state.name for t in read.trials} <= {"COMPLETE", "PRUNED"}
    best = meta["best"][0]
    assert read.best_trial.number == best["trial"]
    assert read.best_value == pytest.approx(best["values"][0])
    assert read.best_trial.user_attrs["ibsweep:group"] == best["group_id"]


def test_the_run_is_read_by_the_run_readers(run):
    _, out = run

    done = invoke("robustness", "--from", out, "--samples", 200)

    assert done.returncode == 0, done.stderr
    robustness = json.loads((out / f"robustness_{SYMBOL}.json").read_text())
    assert robustness["dsr"]["n_trials"] == metadata(out)["optimize"]["evaluated"]
    assert robustness["search"]["sampler"] == "tpe"


def test_the_dsr_counts_every_trial_the_study_evaluated_wherever_it_ran(run):
    # Arrange: this folder holds some of the study's evaluated trials (another host ran
    # the rest): metadata.optimize.evaluated says how many the study evaluated in all
    import dataclasses

    from backtest.analysis.panel import load_panel
    from backtest.analysis.robustness import robustness

    _, out = run
    panel = load_panel(out, SYMBOL)
    meta = panel.metadata
    shared = {**meta, "optimize": {**meta["optimize"], "evaluated": 50 * len(panel)}}

    # Act
    here = robustness(panel, n_samples=100)
    everywhere = robustness(dataclasses.replace(panel, metadata=shared), n_samples=100)

    # Assert
    assert here["dsr"]["n_trials"] == len(panel) == here["pbo"]["n_trials"]
    assert everywhere["dsr"]["n_trials"] == 50 * len(panel)
    assert everywhere["pbo"]["n_trials"] == len(panel)  # PBO: the evaluated trials held here
    assert everywhere["dsr"]["dsr"] < here["dsr"]["dsr"]
    assert everywhere["search"]["columns"] == len(panel)
    assert "PBO is computed over the evaluated trials only" in everywhere["search"]["note"]
