"""One ranking rule for every command: objective, --min-trades, --require-prop-ok, ties."""

import math

import numpy as np
import pandas as pd
import pytest

from backtest.analysis.ranking import RankError, choose, objective_values, r_over_dd, ranking


def frame(**cols):
    base = {
        "trades": [10, 10, 10, 0],
        "total_r": [5.0, 7.0, 7.0, 0.0],
        "prop_ok": [True, False, True, True],
        "max_dd_r": [2.0, 0.0, 3.5, 0.0],
        "profit_factor": [1.5, np.nan, 2.0, np.nan],
        "sharpe": [1.0, 2.0, 2.0, 0.0],
    }
    base.update(cols)
    out = pd.DataFrame(base)
    out["r_over_dd"] = r_over_dd(out["total_r"].to_numpy(), out["max_dd_r"].to_numpy())
    return out


def test_ties_go_to_the_lower_index_and_no_trades_never_ranks():
    assert list(ranking(frame(), "total_r")) == [1, 2, 0]
    assert choose(frame(), "total_r") == 1


def test_filters_drop_rows_before_ranking():
    assert list(ranking(frame(), "total_r", require_prop_ok=True)) == [2, 0]
    assert list(ranking(frame(trades=[10, 5, 30, 0]), "total_r", min_trades=10)) == [2, 0]
    assert choose(frame(trades=[1, 1, 1, 0]), "total_r", min_trades=2) is None


def test_null_profit_factor_with_a_gain_ranks_first():
    values = objective_values(frame(), "profit_factor")
    assert values[1] == math.inf and math.isnan(values[3])
    assert list(ranking(frame(), "profit_factor")) == [1, 2, 0]


def test_r_over_dd_without_drawdown():
    assert list(r_over_dd(np.array([4.0, 3.0, 0.0, -1.0]), np.array([2.0, 0.0, 0.0, 0.0]))) == [
        2.0,
        math.inf,
        0.0,
        0.0,
    ]


def test_unknown_objective_is_one_line():
    with pytest.raises(RankError, match="--rank-by/--objective 'sortino'"):
        ranking(frame(), "sortino")


def test_rank_run_writes_rows_with_the_runs_provenance(tmp_path):
    import json

    from backtest.analysis.ranking import rank_run
    from backtest.runner.outputs import write_results

    meta = {
        "symbol": "GER40",
        "code_version": "v1",
        "data": {"source": "file", "checksum": "c"},
        "risk": 1000.0,
    }
    combos = [
        {
            "params": {"sl_mult": s},
            "metrics": {
                "total_r": r,
                "trades": 50,
                "prop_ok": True,
                "max_dd_r": 1.0,
                "profit_factor": 1.1,
            },
        }
        for s, r in ((0.5, 1.0), (1.0, 3.0))
    ]
    write_results(
        tmp_path,
        "GER40",
        meta,
        [{"group_id": "g", "status": "ok", "elapsed_s": 0.1, "best": 1, "combos": combos}],
        [],
    )

    path, rows = rank_run(tmp_path, "GER40", "total_r", top=5)

    document = json.loads(path.with_suffix(".json").read_text())
    assert [r["combo"] for r in rows] == [1, 0]
    assert document["rows"] == rows
    assert document["metadata"]["data_source"] == "file"
    assert document["metadata"]["code_version"] == "v1"
    assert document["metadata"]["analysis"] == {
        "rank_by": "total_r",
        "min_trades": 0,
        "require_prop_ok": False,
        "top": 5,
    }
