"""The report shows the control, walk-forward and robustness sections when their files
are in OUT (the robustness verdict prominently, its cost stress table), the execution
settings and git commit of the run in its header, MT5's recovery factor and expected
payoff, and says where trades come from."""

from __future__ import annotations

import json
import re

import pytest

from backtest.analysis.report import report_data, write_report
from backtest.runner.reading import ResultsError
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


EXECUTION = {
    "spread_model": "bid_ask",
    "spread_source": "data",
    "spread_unit": 0.1,
    "slippage": 0.5,
}
SETTINGS = {
    **dict(spread=1.0, commission=0.0, point=0.01, value_per_point=1.0),
    **dict(volume_min=0.01, volume_step=0.01, timezone="Europe/Berlin", currencies=["EUR"]),
}


def test_the_header_shows_the_execution_settings_and_the_git_commit(tmp_path):
    out = write_run(
        tmp_path / "run",
        [ok_record(1)],
        symbol_settings={**SETTINGS, **EXECUTION},
        git_commit="0123456789ab-dirty",
    )

    html = write_report(out).read_text()

    assert "<b>execution</b> bid_ask, spread data x 0.1, slippage 0.5</div>" in html
    assert 'git <span class="mono">0123456789ab-dirty</span>; engine' in html


def test_a_run_from_before_execution_models_says_so(tmp_path):
    out = write_run(tmp_path / "run", [ok_record(1)], symbol_settings=SETTINGS)

    html = write_report(out).read_text()

    assert (
        "<b>execution</b> cost, spread fixed, slippage 0 "
        "(not recorded: a run from before execution models)</div>"
    ) in html
    assert "git commit not recorded; engine" in html


def test_an_execution_setting_that_is_not_a_number_is_refused(tmp_path):
    out = write_run(
        tmp_path / "run", [ok_record(1)], symbol_settings={**SETTINGS, **EXECUTION, "slippage": "x"}
    )

    with pytest.raises(ResultsError) as refused:
        write_report(out)

    assert "results_full_GER40.json: metadata.symbol_settings.slippage 'x' is not" in str(
        refused.value
    )


def _level(label, spread, slippage, total_r, survives, surviving):
    return {
        "level": label,
        "factor": 1.0,
        "extra_slippage_points": 0,
        "spread": spread,
        "spread_unit": 0.01,
        "slippage": slippage,
        "commission": 0.0,
        "selected": {
            "trades": 40,
            "total_r": total_r,
            "avg_r": total_r / 40,
            "profit_factor": None,
            "survives": survives,
        },
        "top_n": 20,
        "top_surviving": surviving,
        "top_median_total_r": 0.5,
    }


STRESS = {
    "combinations": [{"group_id": "group_GER40_002", "combo": 1}],
    "execution": {"spread_model": "bid_ask"},
    "levels": [
        _level("costs x1", 1.0, 0.5, 6.5, True, 12),
        _level("costs x1.5", 1.5, 0.75, 2.25, True, 7),
        _level("costs x2", 2.0, 1.0, -1.75, False, 2),
        _level("slippage +1 point", 1.0, 0.51, 5.5, True, 11),
    ],
    "survives_1_5x": True,
    "rule": "R per trade > 0 and total R > 0 at every cost x 1.5",
    "text": "survives 1.5x costs: yes",
}


def _robustness(out, stress):
    _analysis_files(out)
    path = out / "robustness_GER40.json"
    document = json.loads(path.read_text())
    document["cost_stress"] = stress
    document["verdict"]["cost_stress"] = stress.get("text") or "cost stress MISSING"
    path.write_text(json.dumps(document))


def _rows(html, table):
    body = re.search(f'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "|", row).strip("|").split("||") for row in body.split("</tr>")[:-1]]


def test_the_cost_stress_table_and_its_verdict_line(tmp_path):
    out = write_run(tmp_path / "run", [ok_record(1), ok_record(2)])
    _robustness(out, STRESS)

    html = write_report(out).read_text()

    assert (
        '<div class="verdict-line good" id="stress-verdict">survives 1.5x costs: yes</div>' in html
    )
    assert _rows(html, "cost-stress") == [
        ["costs x1", "1.0", "0.5", "0.0", "40", "6.50", "0.163", "n/a", "yes", "12 of 20"],
        ["costs x1.5", "1.5", "0.75", "0.0", "40", "2.25", "0.056", "n/a", "yes", "7 of 20"],
        ["costs x2", "2.0", "1.0", "0.0", "40", "-1.75", "-0.044", "n/a", "no", "2 of 20"],
        [
            "slippage +1 point",
            "1.0",
            "0.51",
            "0.0",
            "40",
            "5.50",
            "0.138",
            "n/a",
            "yes",
            "11 of 20",
        ],
    ]


def test_a_missing_cost_stress_is_shown_as_missing_with_its_command(tmp_path):
    out = write_run(tmp_path / "run", [ok_record(1), ok_record(2)])
    command = f"invoke robustness --from {out} on the machine that has the run's data file"
    _robustness(out, {"missing": "data/x.parquet: the run's data file is gone", "command": command})

    html = write_report(out).read_text()

    assert (
        '<div class="verdict-line bad" id="stress-verdict">cost stress MISSING: '
        "data/x.parquet: the run&#39;s data file is gone</div>"
    ) in html
    assert f"<code>{command.replace(chr(39), '&#39;')}</code>" in html
    assert 'id="cost-stress"' not in html


def test_a_cost_stress_level_that_is_not_what_the_page_shows_is_refused(tmp_path):
    out = write_run(tmp_path / "run", [ok_record(1), ok_record(2)])
    bad = json.loads(json.dumps(STRESS))
    bad["levels"][2]["selected"]["survives"] = "yes"
    _robustness(out, bad)

    with pytest.raises(ResultsError) as refused:
        write_report(out)

    assert "robustness_GER40.json: cost_stress.levels[2].selected.survives 'yes' is not" in str(
        refused.value
    )


def test_the_mt5_columns_recovery_factor_and_expected_payoff(tmp_path):
    out = write_run(tmp_path / "run", [ok_record(1), ok_record(2)])

    data = report_data(out, "GER40")

    metric = data["columns"]["metric"]
    assert metric["recovery_factor"] == [t / 2.0 for t in metric["total_r"]]  # max_dd_r 2.0
    assert metric["expected_payoff"] == [p / 10 for p in metric["total_pnl"]]  # 10 trades
    assert data["definitions"]["recovery_factor"].startswith("total_r / max_dd_r: MT5's")
    assert data["definitions"]["expected_payoff"].startswith("total_pnl / trades: MT5's")
    assert data["lead"][-2:] == ["recovery_factor", "expected_payoff"]


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def reconcile_document():
    """A reconcile_{SYMBOL}.json as invoke reconcile writes it, hostile text in the
    fields a broker's file fills (a deal's comment, the deals path)."""
    return {
        "format": 1,
        "kind": "reconcile",
        "symbol": "GER40",
        "summary": {
            "account": "demo",
            "match_rate": 0.5,
            "counts": {"backtest": 2, "live": 2, "matched": 1, "missed": 1, "extra": 1},
            "slippage": {
                "sides": {"entry": {"n": 1, "median_points": 5.0, "p95_points": 5.0}},
                "suggestion": "slippage 0.05 covers 95 % of the entries",
            },
            "r_per_trade": {"backtest": 0.5, "live": 0.25},
            "reasons": {"opened_twice": 1},
            "server_time_offset": None,
            "period": {"start_date": "2024-01-08", "end_date": "2024-01-19"},
        },
        "notes": ["server time zone broker:NY+7 (the default: give --server-tz)"],
        "provenance": {
            "deals": {"path": HOSTILE, "format": "csv", "sha256": "ab" * 32},
            "bars": {"path": "bars.parquet", "sha256": "cd" * 32, "bars": 100},
            "source": {"kind": "run", "dir": "out"},
            "server_tz": "broker:NY+7",
            "code_version": "v1",
        },
        "rows": [
            {"status": "matched", "trading_day": "2024-01-08", "bt_r": 1.0, "live_r": 0.9},
            {"status": "missed", "trading_day": "2024-01-09", "reasons": []},
            {"status": "extra", "live_comment": HOSTILE, "reasons": [{"code": "x", "text": "y"}]},
        ],
    }


def test_the_reconcile_is_a_section_of_the_report_when_its_file_is_there(tmp_path):
    out = write_run(tmp_path / "run", [ok_record(1), ok_record(2)])
    bare = write_report(out).read_text()
    (out / "reconcile_GER40.json").write_text(json.dumps(reconcile_document()))
    alone = write_report(out).read_text()
    (out / "reconcile_GER40.html").write_text("<!DOCTYPE html>")

    html = write_report(out).read_text()

    assert 'id="reconcile"' not in bare
    for page in (alone, html):
        assert page.count('<section id="reconcile">') == 1
        assert '<tr class="matched">' in page and '<tr class="missed">' in page
        assert '<tr class="extra">' in page and '<td class="text">' in page
        assert "<h2>Reconcile · GER40 · demo · 2024-01-08 .. 2024-01-19</h2>" in page
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "opened_twice" not in page.split('id="report-data"')[1]  # not in the JSON block
    assert 'id="reconcile-page"' not in alone
    assert '<a id="reconcile-page" href="reconcile_GER40.html">' in html


def test_a_reconcile_file_that_is_not_one_is_refused(tmp_path):
    out = write_run(tmp_path / "run", [ok_record(1), ok_record(2)])
    document = reconcile_document()
    document["summary"]["counts"] = [1, 2]
    (out / "reconcile_GER40.json").write_text(json.dumps(document))

    with pytest.raises(ResultsError) as refused:
        write_report(out)

    assert "reconcile_GER40.json: summary.counts (a list) is not an object" in str(refused.value)
