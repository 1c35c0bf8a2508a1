"""The control comparison re-runs the top in-sample combinations on the control dates."""

import copy
import csv

import pytest

from backtest.analysis.control import ControlError, compare_control, top_count
from backtest.core.config import DEFAULTS, period, symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.loaders import load_bars
from backtest.data.sample import generate_bars, write_parquet
from backtest.engines.run import run_combos
from backtest.runner.outputs import write_results
from backtest.strategy.params import resolve_params

TP_VALUES = (0.5, 1.0, 1.5, 2.0, 3.0)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """In-sample results of 5 combinations (2 groups) and a control data file."""
    root = tmp_path_factory.mktemp("control")
    cfg = copy.deepcopy(DEFAULTS)
    cfg["periods"]["control"].update(
        start_date="2025-11-04",
        end_date="2025-11-28",
        data_file=str(root / "control_{symbol}.parquet"),
    )
    write_parquet(
        generate_bars("GER40", "2025-11-01", "2025-11-30", 7, cfg), root / "control_GER40.parquet"
    )
    in_file = root / "in_sample.parquet"
    write_parquet(generate_bars("GER40", "2025-09-01", "2025-10-31", 3, cfg), in_file)
    settings = RunSettings(risk=500.0, account_size=50000.0)
    bars = load_bars(in_file, symbol_spec("GER40"))
    combos = [resolve_params("GER40", {"tp_mult": tp}) for tp in TP_VALUES]
    results = run_combos(bars, combos, settings)
    groups = []
    for gid, part in (("group_GER40_001", results[:2]), ("group_GER40_002", results[2:])):
        combo_records = [{"params": r.params, "metrics": r.metrics} for r in part]
        best = max(range(len(part)), key=lambda i: (part[i].metrics["total_r"], -i))
        groups.append(
            {
                "group_id": gid,
                "status": "ok",
                "elapsed_s": 0.1,
                "combos": combo_records,
                "best": best,
            }
        )
    meta = {
        "symbol": "GER40",
        "period": "in_sample",
        "start_date": "2025-09-01",
        "end_date": "2025-10-31",
        "risk": 500.0,
        "account_size": 50000.0,
        "daily_loss_limit_pct": 5.0,
        "max_loss_limit_pct": 10.0,
    }
    out = root / "in_sample_out"
    out.mkdir()
    write_results(out, "GER40", meta, groups, [])
    return cfg, out, results, settings


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_top_share_rows_sorted_by_in_sample_total_r(setup):
    cfg, out, results, _ = setup
    ranked = sorted(results, key=lambda r: -r.metrics["total_r"])

    path = compare_control(out, top="40%", min_count=1, cfg=cfg)

    rows = _rows(path)
    assert path.name == "control_vs_in_sample_GER40.csv"
    assert [float(r["tp_mult"]) for r in rows] == [r.params["tp_mult"] for r in ranked[:2]]
    assert [float(r["is_total_r"]) for r in rows] == [r.metrics["total_r"] for r in ranked[:2]]


def test_control_metrics_match_a_direct_run_on_control_dates(setup):
    cfg, out, results, settings = setup
    span = period("control", cfg)
    control_bars = load_bars(span.data_path("GER40"), symbol_spec("GER40"))
    direct = run_combos(
        control_bars.between(span.start_date, span.end_date), [r.params for r in results], settings
    )
    by_tp = {r.params["tp_mult"]: r.metrics for r in direct}

    rows = _rows(compare_control(out, top="10%", min_count=5, output_dir=out / "ctl", cfg=cfg))

    assert len(rows) == 5
    for row in rows:
        expected = by_tp[float(row["tp_mult"])]
        assert float(row["ctl_total_r"]) == expected["total_r"]
        assert int(row["ctl_trades"]) == expected["trades"]
        assert float(row["ctl_total_pnl"]) == expected["total_pnl"]
        assert row["control_loses_money"] == ("true" if expected["total_pnl"] < 0 else "false")
        assert row["breaks_prop_limits"] == ("false" if expected["prop_ok"] else "true")
        assert float(row["r_per_trade_diff"]) == pytest.approx(
            expected["avg_r"] - float(row["is_avg_r"])
        )
        assert "ratio_r_per_trade" not in row  # a ratio whose sign can flip is not reported


def test_top_count_rules():
    assert top_count("10%", 95, 3) == 10  # 9.5 rounded up
    assert top_count("10%", 20, 5) == 5  # at least min_count
    assert top_count("25", 8, 1) == 8  # at most all
    with pytest.raises(ControlError):
        top_count("ten", 8, 1)
