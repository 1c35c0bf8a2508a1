"""The run's start/end time are ISO 8601 in UTC (+00:00) whatever the host's time zone,
so runs of hosts in different zones compare and merge."""

from __future__ import annotations

import datetime as dt
import json
import time

from backtest.runner.main import main
from tests.runner.helpers import SYMBOL, run_args


def test_start_and_end_time_are_utc_on_a_host_in_tokyo(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    out = tmp_path / "out"
    try:
        code = main(
            [
                str(a)
                for a in run_args(
                    dataset.bars, dataset.groups, out, "--skip-charts", "--workers", "1"
                )
            ]
        )
    finally:
        monkeypatch.undo()
        time.tzset()

    meta = json.loads((out / f"results_full_{SYMBOL}.json").read_text())["metadata"]
    assert code == 0
    for key in ("start_time", "end_time"):
        assert meta[key].endswith("+00:00"), meta[key]
        assert dt.datetime.fromisoformat(meta[key]).utcoffset() == dt.timedelta(0)
