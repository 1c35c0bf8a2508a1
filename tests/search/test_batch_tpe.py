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
    ours = batch_tpe(seed=3, multivariate=multivariate)

    # Act
    _, expected = _run(stock, 60, 1)
    _, got = _run(ours, 60, 1, hook=ours.new_batch)

    # Assert
    assert got == expected


def test_a_batch_is_fitted_once_and_each_ask_takes_its_own_best():
    ours = batch_tpe(seed=0, multivariate=True)
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
