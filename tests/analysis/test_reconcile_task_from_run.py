"""``invoke reconcile --from OUT --group G --combo K``: a combination of a real run (the
runner over the helpers' bars, risk 4), re-run with the run's recorded settings; the
files go to OUT (reconcile_GER40.csv/.json/.html)."""

import json

from invoke import Context

from tasks.reconcile import reconcile
from tests.analysis.reconcile_helpers import SERVER_TZ, fixture, shared_bars
from tests.runner.helpers import run_cli


def test_reconcile_a_run_combination(tmp_path_factory, tmp_path):
    bars = shared_bars(tmp_path_factory)
    groups = tmp_path / "groups.json"
    groups.write_text(
        json.dumps(
            {
                "symbol": "GER40",
                "groups": [{"group_id": "g1", "params": {}, "grid": {"tp_mult": [1.0, 2.0]}}],
            }
        )
    )
    out = tmp_path / "run"
    done = run_cli(
        "--groups-file", groups, "--data-file", bars, "--start-date", "2024-01-08",
        "--end-date", "2024-01-19", "--workers", 1, "--output-dir", out, "--skip-charts",
        "--no-report", "--risk", 4,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    reconcile.body(
        Context(), deals=str(fixture("partial_close.csv")), data_file=str(bars), symbol="GER40",
        from_=str(out), group="g1", combo="0", server_tz=SERVER_TZ, account="demo",
    )  # fmt: skip

    document = json.loads((out / "reconcile_GER40.json").read_text())
    assert (out / "reconcile_GER40.csv").is_file() and (out / "reconcile_GER40.html").is_file()
    source = document["provenance"]["source"]
    assert (source["kind"], source["group_id"], source["combo"]) == ("run", "g1", 0)
    assert source["symbol_settings"] == "recorded by the run"
    assert document["provenance"]["params"]["tp_mult"] == 1.0
    (row,) = document["rows"]
    assert (row["status"], row["live_r"], row["r_diff"]) == ("matched", 0.685, -0.315)
