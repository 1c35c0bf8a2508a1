"""`invoke trades` refuses a run whose data file changed or is gone: exit code 2, one
line naming the file, nothing written."""

from __future__ import annotations

from tests.analysis.report_helpers import invoke, small_run


def test_changed_or_missing_data_file_is_refused(tmp_path):
    out = small_run(tmp_path, "--charts", "none", "--no-report")
    bars = tmp_path / "bars.parquet"
    args = ("trades", "--from", out, "--group", "group_GER40_001", "--combo", 0)

    with open(bars, "ab") as handle:
        handle.write(b"\0")  # same name, other bytes
    changed = invoke(*args)
    bars.unlink()
    gone = invoke(*args)

    assert changed.returncode == 2
    assert changed.stderr.strip().splitlines() == [changed.stderr.strip()]
    assert changed.stderr.startswith(f"error: {bars}: sha256 ")
    assert "the file changed since the run" in changed.stderr
    assert gone.returncode == 2
    assert (
        gone.stderr.strip() == f"error: {bars}: the run's data file is gone; nothing can be re-run"
    )
    assert not (out / "trades").exists()
