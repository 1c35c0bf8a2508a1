"""--period control: the control period's dates and the default output directory."""

from __future__ import annotations

import datetime as dt

from backtest.core.config import DEFAULTS, load_config
from backtest.runner.plan import default_output_dir
from tests.runner.helpers import full_results, run_cli, write_bars, write_groups

CONTROL = DEFAULTS["periods"]["control"]


def test_control_period_uses_its_dates_and_default_output_dir(tmp_path):
    bars = write_bars(tmp_path / "bars.parquet", "2025-10-27", "2025-11-14")
    groups = write_groups(tmp_path / "groups.json", ("group_GER40_001",))
    config = tmp_path / "ibsweep.yaml"
    config.write_text(f"run:\n  output_root: {tmp_path / 'output'}\n")

    result = run_cli(
        "--groups-file",
        groups,
        "--data-file",
        bars,
        "--period",
        "control",
        "--workers",
        1,
        "--skip-charts",
        "--save-trades",
        "--config",
        config,
    )

    out = tmp_path / "output" / "groups_control"
    assert result.returncode == 0, result.stderr
    meta = full_results(out)["metadata"]
    assert (meta["period"], meta["start_date"], meta["end_date"]) == (
        "control",
        CONTROL["start_date"],
        CONTROL["end_date"],
    )
    trades = [t for c in full_results(out)["groups"][0]["combos"] for t in c["trades"]]
    assert trades  # the data before the period would have produced trades too
    first_day = dt.date.fromisoformat(CONTROL["start_date"])
    assert min(dt.datetime.fromisoformat(t["entry_time"]).date() for t in trades) >= first_day


def test_default_output_dir_is_the_groups_file_stem_and_the_period(tmp_path):
    cfg = load_config(None)
    cfg["run"]["output_root"] = str(tmp_path)

    path = default_output_dir("sweeps/groups_GER40.json", "in_sample", cfg)

    assert path == tmp_path / "groups_GER40_in_sample"  # no date: a resume tomorrow resumes
