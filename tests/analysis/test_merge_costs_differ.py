"""Parts run with other costs, or on sample data beside real data, do not merge."""

from __future__ import annotations

import pytest

from backtest.analysis.merge import MergeError, merge_dirs
from backtest.runner.outputs import write_results


def part(folder, gid, spread, source, **extra):
    meta = {
        "symbol": "GER40",
        "period": "in_sample",
        "start_date": "2024-01-01",
        "end_date": "2024-01-31",
        "data_checksum": "abc",
        "code_version": "v",
        "risk": 1000.0,
        "account_size": 100000.0,
        "daily_loss_limit_pct": 5.0,
        "max_loss_limit_pct": 10.0,
        "symbol_settings": {"spread": spread},
        "data": {"source": source, "checksum": "abc"},
        **extra,
    }
    metrics = {
        "total_r": 1.0,
        "trades": 3,
        "winrate": 0.5,
        "profit_factor": 1.2,
        "max_dd_r": 0.5,
        "sharpe": 0.3,
    }
    group = {
        "group_id": gid,
        "status": "ok",
        "elapsed_s": 0.1,
        "best": 0,
        "combos": [{"params": {"sl_mult": 1.0}, "metrics": metrics}],
    }
    write_results(folder, "GER40", meta, [group], [])
    return folder


@pytest.mark.parametrize(
    "b_spread, b_source, reason",
    [
        (1.5, "file", "different symbol_settings"),
        (1.0, "sample", "different data_source"),
    ],
)
def test_parts_that_disagree_are_refused(tmp_path, b_spread, b_source, reason):
    a = part(tmp_path / "a", "g1", 1.0, "file")
    b = part(tmp_path / "b", "g2", b_spread, b_source)

    with pytest.raises(MergeError, match=reason):
        merge_dirs([a, b], tmp_path / "out")

    assert merge_dirs([a, part(tmp_path / "c", "g3", 1.0, "file")], tmp_path / "ok").merged == [
        "g1",
        "g3",
    ]


@pytest.mark.parametrize(
    ("key", "a_value", "b_value"),
    [
        ("news_checksum", "n1", "n2"),
        ("server_tz", "broker:NY+7", "Europe/Athens"),
        ("drop_invalid", False, True),
    ],
)
def test_parts_read_with_other_news_clock_or_dropped_bars_are_refused(
    tmp_path, key, a_value, b_value
):
    # Arrange
    a = part(tmp_path / "a", "g1", 1.0, "file", **{key: a_value})
    b = part(tmp_path / "b", "g2", 1.0, "file", **{key: b_value})
    # Act / Assert
    with pytest.raises(MergeError, match=f"different {key}"):
        merge_dirs([a, b], tmp_path / "out")
