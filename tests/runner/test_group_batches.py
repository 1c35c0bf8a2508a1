"""A group is run and scored in batches: the record, the kept trades and the compact
trades do not depend on the batch size, and only the kept combinations' trades are held."""

from __future__ import annotations

import numpy as np
import pytest

import backtest.runner.main as runner
from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.loaders import load_bars
from backtest.runner.groups import expand_group, load_groups_file
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


@pytest.mark.parametrize("save_trades", [False, 3, True])
def test_batch_size_changes_nothing(group, monkeypatch, save_trades):
    bars, combos = group
    whole = runner.group_outcome(bars, "g", combos, RunSettings(), "fast", save_trades)

    monkeypatch.setattr(runner, "SCORE_BATCH", 3)
    batched = runner.group_outcome(bars, "g", combos, RunSettings(), "fast", save_trades)

    def strip(record):
        return {k: v for k, v in record.items() if k != "elapsed_s"}

    assert strip(batched[0]) == strip(whole[0])
    assert batched[1] == whole[1]  # the best combination's trade records (charts)
    for name, array in whole[2].arrays().items():
        np.testing.assert_array_equal(getattr(batched[2], name), array, err_msg=name)
    kept = [i for i, c in enumerate(batched[0]["combos"]) if "trades" in c]
    assert len(kept) == {False: 0, 3: 3, True: len(combos)}[save_trades]
