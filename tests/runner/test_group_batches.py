"""A group is run and scored in batches: the record, its part's rows, the kept trades and
the compact trades do not depend on the batch size, and a group given as an iterator is
consumed batch by batch. Its rows given back are written with the same part and digest."""

from __future__ import annotations

import numpy as np
import pytest

import backtest.runner.group_run as group_run
from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.loaders import load_bars
from backtest.runner.groups import expand_group, load_groups_file
from backtest.runner.store import ParamsDigest
from tests.runner.helpers import write_bars, write_groups


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batches")
    bars = load_bars(
        write_bars(folder / "b.parquet", "2024-01-01", "2024-02-29"), symbol_spec("GER40")
    )
    loaded = load_groups_file(write_groups(folder / "g.json"))
    combos = [c for g in loaded.groups for c in expand_group(g)]
    return bars, combos


def _strip(record):
    return {k: v for k, v in record.items() if k != "elapsed_s"}


@pytest.mark.parametrize("save_trades", [False, 3, True])
def test_batch_size_changes_nothing(group, monkeypatch, save_trades):
    # Arrange
    bars, combos = group
    whole = group_run.group_outcome(bars, "g", combos, RunSettings(), "fast", save_trades)

    # Act
    monkeypatch.setattr(group_run, "SCORE_BATCH", 3)
    batched = group_run.group_outcome(bars, "g", iter(combos), RunSettings(), "fast", save_trades)

    # Assert
    assert _strip(batched.record) == _strip(whole.record)
    assert batched.best_trades == whole.best_trades  # the best combination's trades (charts)
    assert len(batched.tables) == -(-len(combos) // 3)  # one table per batch
    import pyarrow as pa

    assert pa.concat_tables(batched.tables).equals(pa.concat_tables(whole.tables))
    for name, array in whole.compact.arrays().items():
        np.testing.assert_array_equal(getattr(batched.compact, name), array, err_msg=name)
    kept = sorted(int(i) for i in batched.record.get("trades", {}))
    totals = pa.concat_tables(whole.tables).column("total_r").to_numpy()
    expected = np.argsort(-totals, kind="stable")[
        : {False: 0, 3: 3, True: len(combos)}[save_trades]
    ]
    assert kept == sorted(expected.tolist())


def test_best_is_the_highest_total_r_with_ties_to_the_lower_index(group, monkeypatch):
    # Arrange
    bars, combos = group
    monkeypatch.setattr(group_run, "SCORE_BATCH", 2)

    # Act
    outcome = group_run.group_outcome(bars, "g", combos + combos, RunSettings(), "fast", False)

    # Assert: the second copy ties with the first; the first copy's index wins
    import pyarrow as pa

    totals = pa.concat_tables(outcome.tables).column("total_r").to_numpy()
    assert outcome.record["best"] == int(np.argmax(totals)) < len(combos)
    assert outcome.record["combos_count"] == 2 * len(combos)
    assert outcome.record["best_combo"]["metrics"]["total_r"] == totals.max()


def test_rows_given_back_are_written_with_their_combinations_digest(group, tmp_path):
    # Arrange
    bars, combos = group
    written = group_run.group_outcome(
        bars, "g", combos, RunSettings(), "fast", False, out_dir=tmp_path / "worker"
    )
    back = group_run.group_outcome(bars, "g", combos, RunSettings(), "fast", False)

    # Act
    finished = group_run.finish_remote(tmp_path / "runner", back.record, back.tables)

    # Assert
    assert "params_sha256" not in back.record  # made where the rows are written
    digest = ParamsDigest()
    digest.update(combos)
    assert finished["params_sha256"] == written.record["params_sha256"] == digest.hexdigest()
    assert finished["part"] == written.record["part"]  # the same bytes, the same name
    assert _strip(finished) == _strip(written.record)
