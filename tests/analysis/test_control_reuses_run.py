"""`invoke control` after a run on the user's MT5 export: same settings, the control file,
never sample data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.loaders import load_bars
from backtest.data.sample import generate_bars
from backtest.engines.run import run_combos
from tests.runner.helpers import REPO, run_cli, write_groups

SERVER_TZ = "Europe/Athens"
CONTROL = ("2025-11-03", "2025-11-28")


def write_mt5_export(path: Path, start: str, end: str, seed: int) -> Path:
    """Sample bars as an MT5 export in broker server time (tab-separated, <DATE> <TIME>)."""
    frame = generate_bars("GER40", start, end, seed)
    local = frame["time"].dt.tz_convert(SERVER_TZ)
    lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    for t, o, h, lo, c in zip(local, frame["open"], frame["high"], frame["low"], frame["close"]):
        lines.append(f"{t:%Y.%m.%d}\t{t:%H:%M:%S}\t{o:.2f}\t{h:.2f}\t{lo:.2f}\t{c:.2f}\t10\t0\t100")
    path.write_text("\n".join(lines) + "\n")
    return path


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "invoke"), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def in_sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("ctl_reuse")
    data = write_mt5_export(root / "in_sample.csv", "2025-09-01", "2025-10-31", 3)
    control = write_mt5_export(root / "control.csv", "2025-11-01", "2025-11-30", 9)
    out = root / "out"
    result = run_cli(
        "--groups-file",
        write_groups(root / "groups.json"),
        "--data-file",
        data,
        "--server-tz",
        SERVER_TZ,
        "--start-date",
        "2025-09-01",
        "--end-date",
        "2025-10-31",
        "--risk",
        500,
        "--account-size",
        50000,
        "--workers",
        1,
        "--skip-charts",
        "--output-dir",
        out,
    )
    assert result.returncode == 0, result.stderr
    return root, out, control


def test_control_uses_the_control_file_and_the_runs_settings(in_sample):
    root, out, control = in_sample
    cfg = root / "with_control.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "periods": {
                    "control": {
                        "start_date": CONTROL[0],
                        "end_date": CONTROL[1],
                        "data_file": str(control),
                    }
                }
            }
        )
    )

    result = invoke("control", "--from", str(out), "--top", "100%", "--config", str(cfg))

    assert result.returncode == 0, result.stderr
    document = json.loads((out / "control_vs_in_sample_GER40.json").read_text())
    meta = document["metadata"]
    assert meta["control"]["data"] == {
        "source": "file",
        "path": str(control),
        "checksum": meta["control"]["data"]["checksum"],
    }
    assert meta["control"]["server_tz"] == SERVER_TZ
    assert (meta["settings"]["risk"], meta["settings"]["account_size"]) == (500.0, 50000.0)
    assert str(control) in result.stdout
    # the control metrics are those of a direct run with the same settings and server time
    bars = load_bars(control, symbol_spec("GER40"), SERVER_TZ).between(*CONTROL)
    rows = document["rows"]
    params = [
        json.loads((out / "results_full_GER40.json").read_text())["groups"][
            int(r["group_id"][-1]) - 1
        ]["combos"][r["combo"]]["params"]
        for r in rows
    ]
    direct = run_combos(bars, params, RunSettings(risk=500.0, account_size=50000.0))
    assert [r["ctl_total_r"] for r in rows] == [d.metrics["total_r"] for d in direct]
    assert [r["ctl_trades"] for r in rows] == [d.metrics["trades"] for d in direct]


def test_control_refuses_sample_data_after_a_run_on_real_data(in_sample, tmp_path):
    _, out, _ = in_sample
    cfg = tmp_path / "no_control.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {"periods": {"control": {"data_file": str(tmp_path / "missing_{symbol}.parquet")}}}
        )
    )
    before = sorted(p.name for p in out.iterdir())

    result = invoke("control", "--from", str(out), "--config", str(cfg))

    assert result.returncode == 2
    assert "never sample data" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == before
