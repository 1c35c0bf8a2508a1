"""The report shows the control, walk-forward and robustness sections when their files
are in OUT (the robustness verdict prominently), and says where trades come from."""

from __future__ import annotations

import json

from backtest.analysis.report import report_data, write_report
from tests.analysis.helpers import ok_record, write_run

VERDICT = (
    "the selected combination is NOT distinguishable from luck: do not trade it on this evidence"
)


def _analysis_files(out):
    (out / "robustness_GER40.json").write_text(
        json.dumps(
            {
                "verdict": {
                    "distinguishable_from_luck": False,
                    "rule": "DSR >= 0.95 and PBO <= 0.25",
                    "text": VERDICT,
                },
                "selected": {"group_id": "group_GER40_002", "combo": 1, "rank_by": "total_r"},
                "pbo": {"pbo": 0.625, "n_splits": 70, "n_trials": 4},
                "dsr": {"dsr": 0.125, "sharpe_annual": 0.5},
                "bootstrap": {"p_any_breach": 0.25},
            }
        )
    )
    (out / "walk_forward_GER40.json").write_text(
        json.dumps(
            {
                "windows": [
                    {
                        "window": 0,
                        "train_start": "2024-01-01",
                        "train_end": "2024-02-29",
                        "test_start": "2024-03-01",
                        "test_end": "2024-03-31",
                        "group_id": "group_GER40_001",
                        "combo": 0,
                        "train_metrics": {"total_r": 3.0},
                        "test_metrics": {"total_r": -1.25, "trades": 7},
                    },
                ],
                "stitched": {
                    "total_r": -1.25,
                    "days": 21,
                    "trades": 7,
                    "sharpe": -0.5,
                    "equity_r": [0.0, -1.25],
                },
                "walk_forward_efficiency": None,
                "choice_changes": 0,
            }
        )
    )
    (out / "control_vs_in_sample_GER40.json").write_text(
        json.dumps(
            {
                "metadata": {
                    "control": {
                        "start_date": "2025-11-04",
                        "end_date": "2026-01-20",
                        "trading_days": 55,
                    }
                },
                "rows": [
                    {
                        "group_id": "group_GER40_001",
                        "combo": 0,
                        "is_total_r": 1.0,
                        "ctl_total_r": -2.0,
                        "ctl_trades": 12,
                        "control_loses_money": True,
                        "breaks_prop_limits": False,
                    }
                ],
            }
        )
    )


def test_sections_appear_when_their_files_are_there(tmp_path):
    out = write_run(tmp_path / "run", [ok_record(1), ok_record(2)])
    bare = write_report(out).read_text()
    _analysis_files(out)

    html = write_report(out).read_text()

    for section in ('id="robustness"', 'id="walk-forward"', 'id="control"'):
        assert section not in bare
        assert section in html
    assert f'<div class="verdict bad" id="verdict">{VERDICT}</div>' in html
    assert "2025-11-04 .. 2026-01-20 (55 trading days)" in html
    assert "n/a (in-sample R not positive)" in html


def test_trades_source_is_said_when_there_are_none(tmp_path):
    out = write_run(
        tmp_path / "run", [ok_record(1), ok_record(2)]
    )  # data file data/x.parquet: gone

    data = report_data(out, "GER40")

    assert data["detail_source"] == "none"
    assert data["details"] == {}
    assert data["meta"]["combinations"] == 4
    assert data["columns"]["params"] == ["sl_mult", "tp_mult"]  # the parameters that vary
