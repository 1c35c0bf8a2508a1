"""The batch TPE is Optuna's TPE: asked one at a time it proposes exactly what
``TPESampler(constant_liar=False)`` proposes with the same seed; asked a batch at a time
its proposals are each one ask's best of its own candidates, fitted on the same trials."""

from __future__ import annotations

import optuna
import pytest

from backtest.search.samplers import batch_tpe

SPACE = {
    "x": optuna.distributions.FloatDistribution(-5, 5, step=0.25),
    "n": optuna.distributions.IntDistribution(0, 60, step=5),
    "c": optuna.distributions.CategoricalDistribution(["a", "b", "c"]),
    "y": optuna.distributions.FloatDistribution(0.0, 1.0),
}


def _value(params):
    return (
        -((params["x"] - 1.5) ** 2)
        - abs(params["n"] - 30) / 10
        + (params["c"] == "b")
        + params["y"]
    )


def _run(sampler, batches, size, hook=None):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    proposals = []
    for _ in range(batches):
        if hook:
            hook(size)
        asked = [study.ask(SPACE) for _ in range(size)]
        proposals.append([t.params for t in asked])
        for trial in asked:
            study.tell(trial, _value(trial.params))
    return study, proposals


@pytest.mark.parametrize("multivariate", [True, False])
def test_one_at_a_time_it_is_optunas_tpe(multivariate):
    # Arrange
    stock = optuna.samplers.TPESampler(seed=3, multivariate=multivariate, constant_liar=False)
    ours = batch_tpe(seed=3, multivariate=multivariate, avoid_duplicates=False)

    # Act
    _, expected = _run(stock, 60, 1)
    _, got = _run(ours, 60, 1, hook=ours.new_batch)

    # Assert
    assert got == expected


def test_a_batch_is_fitted_once_and_each_ask_takes_its_own_best():
    ours = batch_tpe(seed=0, multivariate=True, avoid_duplicates=False)
    fits = []
    original = ours._fit

    def counting_fit(*args):
        key = args[-1]
        if key not in ours._fitted:
            fits.append(key)
        return original(*args)

    ours._fit = counting_fit

    study, proposals = _run(ours, 6, 64, hook=ours.new_batch)

    after_startup = proposals[1:]
    assert len(fits) == 5  # one fit per batch once the startup trials are in
    assert all(len({tuple(sorted(p.items())) for p in batch}) > 16 for batch in after_startup)
    assert study.best_value > max(_value(p) for p in proposals[0])  # it learns from the batches


def _repeats(proposals):
    seen, repeated = set(), 0
    for batch in proposals:
        for p in batch:
            point = (p["x"], p["n"], p["c"])
            repeated += point in seen
            seen.add(point)
    return repeated


def test_avoiding_duplicates_proposes_points_no_trial_holds():
    grid = {k: v for k, v in SPACE.items() if k != "y"}  # a grid of 41 x 13 x 3 points

    def run(avoid):
        sampler = batch_tpe(seed=5, multivariate=True, avoid_duplicates=avoid)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        proposals = []
        for _ in range(8):
            sampler.new_batch(64)
            asked = [study.ask(grid) for _ in range(64)]
            proposals.append([t.params for t in asked])
            for trial in asked:
                study.tell(trial, _value({**trial.params, "y": 0.0}))
        return proposals, study.best_value

    plain, plain_best = run(False)
    avoiding, avoiding_best = run(True)

    assert _repeats(plain) > 100  # TPE without the constant liar repeats itself on a grid
    assert _repeats(avoiding) < _repeats(plain) / 4
    assert avoiding_best >= plain_best - 1e-9
