"""Merged start/end time are the earliest/latest instants, whatever UTC offset each host wrote."""

import json

from backtest.analysis.merge import merge_dirs
from tests.analysis.helpers import ok_record, write_run


def test_merged_times_compare_instants_not_strings(tmp_path):
    # a: 10:00Z..10:30Z written as +02:00; b: 11:00Z..11:30Z written as +00:00
    first = write_run(
        tmp_path / "a",
        [ok_record(1)],
        host="h1",
        start_time="2026-01-01T12:00:00+02:00",
        end_time="2026-01-01T12:30:00+02:00",
    )
    second = write_run(
        tmp_path / "b",
        [ok_record(2)],
        host="h2",
        start_time="2026-01-01T11:00:00+00:00",
        end_time="2026-01-01T11:30:00+00:00",
    )

    merge_dirs([first, second], tmp_path / "merged")

    meta = json.loads((tmp_path / "merged" / "results_full_GER40.json").read_text())["metadata"]
    assert meta["start_time"] == "2026-01-01T12:00:00+02:00"
    assert meta["end_time"] == "2026-01-01T11:30:00+00:00"
