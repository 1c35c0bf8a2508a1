"""A batch written in two transactions is, read back by Optuna, what Optuna's own
``study.add_trial`` writes; writers sharing a study never give two trials one number, and
stop at the study's number of trials."""

from __future__ import annotations

import threading

import optuna
import pytest

from backtest.search.storage import BatchWriter, StorageError, open_storage

DISTS = {
    "x": optuna.distributions.FloatDistribution(0.25, 3.0, step=0.25),
    "n": optuna.distributions.IntDistribution(540, 720, step=15),
    "c": optuna.distributions.CategoricalDistribution(["both", "long", "[0, 1, 2]"]),
    "y": optuna.distributions.FloatDistribution(0.0, 1.0),
}


def _templates():
    states = optuna.trial.TrialState
    out = []
    for i in range(12):
        params = {
            "x": 0.25 * (1 + i % 11),
            "n": 540 + 15 * (i % 12),
            "c": ["both", "long", "[0, 1, 2]"][i % 3],
            "y": i / 13,
        }
        state = [states.COMPLETE, states.PRUNED, states.FAIL][i % 3]
        values = {0: [float(i) - 3.5, -float(i)], 1: None, 2: None}[i % 3]
        if i == 3:
            values = [float("-inf"), float("inf")]
        out.append(
            optuna.trial.create_trial(
                params=params,
                distributions=DISTS,
                values=values,
                state=state,
                user_attrs={"ibsweep:outcome": "evaluated", "ibsweep:combo": i, "total_r": 1.5 * i},
                system_attrs={"cma:generation": i // 4, "x_for_tell": [0.1 * i, 0.2]},
            )
        )
    return out


def _seen(trial):
    return (
        trial.number,
        trial.state,
        trial.params,
        trial.distributions,
        trial.values,
        trial.user_attrs,
        trial.system_attrs,
    )


def test_rows_read_back_as_optunas_own(tmp_path):
    # Arrange
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    storage = open_storage(url)
    directions = ["maximize", "minimize"]
    theirs = optuna.create_study(storage=storage, study_name="theirs", directions=directions)
    ours = optuna.create_study(storage=storage, study_name="ours", directions=directions)
    templates = _templates()

    # Act
    theirs.add_trials(templates)
    writer = BatchWriter(storage, ours._study_id)
    reserved, _ = writer.reserve(templates)
    ids = [tid for tid, _ in reserved]
    writer.finish(
        ids,
        [t.state for t in templates],
        [t.values for t in templates],
        [t.user_attrs for t in templates],
        [t.system_attrs for t in templates],
    )

    # Assert: a fresh reader (another process would be one) sees the same study
    read = {name: optuna.load_study(study_name=name, storage=url) for name in ("theirs", "ours")}
    assert [_seen(t) for t in read["ours"].trials] == [_seen(t) for t in read["theirs"].trials]
    assert [n for _, n in reserved] == list(range(12))
    assert read["ours"].best_trials[0].number == read["theirs"].best_trials[0].number


def test_finishing_twice_changes_nothing(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'optuna.db'}")
    study = optuna.create_study(storage=storage, study_name="s")
    writer = BatchWriter(storage, study._study_id)
    template = optuna.trial.create_trial(
        params={"x": 0.5}, distributions={"x": DISTS["x"]}, value=1.0
    )
    ((tid, _),), _ = writer.reserve([template])
    done = optuna.trial.TrialState.COMPLETE

    first = writer.finish([tid], [done], [[1.0]], [{"a": 1}])
    second = writer.finish([tid], [done], [[2.0]], [{"a": 2}])

    assert (first, second) == (1, 0)
    assert study.trials[0].value == 1.0 and study.trials[0].user_attrs == {"a": 1}


def test_writers_sharing_a_study_number_its_trials_once_and_stop_at_its_size(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(storage=open_storage(url), study_name="shared")
    template = optuna.trial.create_trial(
        params={"x": 0.5}, distributions={"x": DISTS["x"]}, value=1.0
    )
    numbers: list[int] = []
    lock = threading.Lock()

    def write():
        writer = BatchWriter(open_storage(url), study._study_id)  # its own engine
        for _ in range(10):
            got, _ = writer.reserve([template] * 7, limit=150)
            with lock:
                numbers.extend(n for _, n in got)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(numbers) == list(range(150))  # 4 x 10 x 7 = 280 asked, 150 allowed


@pytest.mark.parametrize(
    "url, says",
    [
        (
            "sqlite:////nonexistent-folder/x/optuna.db",
            "cannot be opened: /nonexistent-folder/x is not a folder",
        ),
        ("postgresql://someone:secret@127.0.0.1:1/nothing", "cannot be opened"),
        ("not a url", "not a database URL"),
    ],
)
def test_a_storage_that_cannot_be_opened_is_one_line(url, says):
    with pytest.raises(StorageError) as caught:
        open_storage(url)

    message = str(caught.value)
    assert says in message and "\n" not in message
    assert "secret" not in message  # the password is never echoed


def test_a_key_reserved_before_is_named_with_its_first_trial(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'optuna.db'}")
    study = optuna.create_study(storage=storage, study_name="s")
    one, two = (BatchWriter(open_storage(storage.url), study._study_id) for _ in range(2))
    template = optuna.trial.create_trial(
        params={"x": 0.5}, distributions={"x": DISTS["x"]}, value=1.0
    )

    first, none_before = one.reserve([template] * 3, keys=["a", "b", None], key_attr="k")
    failed = first[1][0]
    one.finish([failed], [optuna.trial.TrialState.FAIL], [None], [{}])
    second, before = two.reserve([template] * 3, keys=["b", "a", "c"], key_attr="k")

    assert none_before == {}
    assert before == {"a": 0}  # "b" was reserved by trial 1, which failed: free again
    assert [n for _, n in second] == [3, 4, 5]
    assert study.trials[4].user_attrs == {"k": "a"}
