"""Checklist line "survives 1.5x costs" (issue 20 item 5), from the robustness file's
cost stress: a combination that makes money at the run's costs but not with every cost
x 1.5 FAILs only that line; a robustness file without a cost stress (made before it) or
whose cost stress could not be made (the run's data file gone) is MISSING evidence."""

import json
import shutil

import pytest
from invoke import Context

from backtest.analysis.control import compare_control
from backtest.core.config import load_config
from tasks.robust import robustness
from tests.analysis.promote_helpers import (
    GROUP,
    judge,
    make_bot,
    only_failure,
    promote_fails,
    reason,
    scenario,
    statuses,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_a_combination_that_does_not_survive_1_5x_costs_fails_only_that_line(s, tmp_path, capsys):
    # Arrange: spread 12.00 (1200 points, charged as a cost) on the 2000-point IB: a "W"
    # day makes (2000 - 1200) / 2000 = +0.4 R, the "L" day -1.6 R: 9 x 0.4 - 1.6 = +2.0 R
    # in-sample; at 1.5x (1800 points) 9 x 0.1 - 1.9 = -1.0 R. The stop-distance rule off
    # (0): this test is about the cost stress alone.
    config = s.config_with(
        tmp_path / "wide.yaml",
        {
            "symbols": {"GER40": {"spread_model": "cost", "spread": 12.0}},
            "prop_firm": {"stop_min_cost_multiple": 0},
        },
    )
    cfg = load_config(config)
    run = s.sweep(tmp_path / "run", s.real_bars, config=config)
    compare_control(run, top="100%", min_count=0, cfg=cfg)
    judge(run, GROUP, 0, cfg)
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="0", config=config)
    # Assert
    assert only_failure(output) == "survives 1.5x costs"
    assert "MISSING" not in statuses(output).values()
    assert reason(output, "survives 1.5x costs") == (
        "robustness_GER40.json: group_GER40_001 combo 0: survives 1.5x costs: no (10 trades, "
        "total R -1.00, R per trade -0.100 at spread 18, slippage 0); cost, spread fixed, "
        "slippage 0"
    )
    assert reason(output, "positive after costs").startswith("in-sample total_r +2.00")
    assert "survives 1.5x costs FAIL" in message


def test_a_robustness_file_made_before_the_cost_stress_is_missing_evidence(s, tmp_path, capsys):
    # Arrange: the judged run's robustness file as an older version wrote it
    run = s.copy_run(tmp_path / "run", s.judged(0))
    path = run / "robustness_GER40.json"
    document = json.loads(path.read_text())
    del document["cost_stress"], document["verdict"]["cost_stress"]
    path.write_text(json.dumps(document))
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="0", config=s.config)
    # Assert
    found = statuses(output)
    assert [n for n, st in found.items() if st in ("FAIL", "MISSING")] == ["survives 1.5x costs"]
    assert found["survives 1.5x costs"] == "MISSING"
    assert reason(output, "survives 1.5x costs") == (
        "robustness_GER40.json has no cost stress (made before it): run invoke robustness "
        f"--from {run}"
    )


def test_a_cost_stress_that_could_not_be_made_is_missing_evidence(s, tmp_path, capsys):
    # Arrange: a run whose data file is gone when `invoke robustness` runs (a farm run
    # merged on another machine): its cost stress is recorded as missing
    bars = shutil.copy(s.real_bars, tmp_path / "elsewhere.parquet")
    run = s.sweep(tmp_path / "run", bars)
    compare_control(run, top="100%", min_count=0, cfg=s.cfg)
    bars.unlink()
    robustness.body(Context(), from_=str(run), samples=200)
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="1", config=s.config)
    # Assert
    assert statuses(output)["survives 1.5x costs"] == "MISSING"
    text = reason(output, "survives 1.5x costs")
    assert text.startswith("robustness_GER40.json: the cost stress could not be made (")
    assert "elsewhere.parquet" in text
    assert text.endswith(
        f"run invoke robustness --from {run} on the machine that has the run's data file"
    )
