"""Resuming an output directory: refused when the conditions changed, unless --fresh;
a torn last checkpoint line is dropped and its group run again."""

from __future__ import annotations

import json

import pandas as pd

from tests.runner.helpers import (
    checkpoint_lines,
    copy_run,
    full_results,
    run_args,
    run_cli,
    summary_bytes,
    without_run_time,
)


def test_resume_is_refused_when_the_data_file_changed(baseline, dataset, tmp_path):
    out = copy_run(baseline.out, tmp_path / "out")
    changed = tmp_path / "bars.parquet"
    frame = pd.read_parquet(dataset.bars)
    frame.loc[500, "close"] = frame.loc[500, "open"]  # still a valid bar
    frame.to_parquet(changed)
    before = summary_bytes(out)

    refused = run_cli(*run_args(changed, dataset.groups, out, "--skip-charts"))
    after_refusal = summary_bytes(out)
    fresh = run_cli(*run_args(changed, dataset.groups, out, "--skip-charts", "--fresh"))

    assert refused.returncode == 2
    assert "checkpoint.jsonl" in refused.stderr and "data_checksum differs" in refused.stderr
    assert "--fresh" in refused.stderr
    assert after_refusal == before
    assert fresh.returncode == 0, fresh.stderr
    assert (
        checkpoint_lines(out)[0]["data_checksum"] == full_results(out)["metadata"]["data_checksum"]
    )
    assert (
        full_results(out)["metadata"]["data_checksum"]
        != full_results(baseline.out)["metadata"]["data_checksum"]
    )


def test_resume_is_refused_when_a_groups_parameters_changed(baseline, dataset, tmp_path):
    out = copy_run(baseline.out, tmp_path / "out")
    groups = json.loads(dataset.groups.read_text())
    groups["groups"][0]["grid"]["tp_mult"] = [0.5, 1.0, 1.5, 3.0]
    changed = tmp_path / "groups.json"
    changed.write_text(json.dumps(groups))

    result = run_cli(*run_args(dataset.bars, changed, out, "--skip-charts"))

    assert result.returncode == 2
    assert "group 'group_GER40_001' has different resolved parameters" in result.stderr
    assert summary_bytes(out) == summary_bytes(baseline.out)


def test_torn_last_checkpoint_line_is_dropped_and_its_group_rerun(baseline, dataset, tmp_path):
    out = copy_run(baseline.out, tmp_path / "out")
    path = out / "checkpoint.jsonl"
    text = path.read_text()
    last_start = text.rstrip("\n").rfind("\n") + 1
    torn_group = json.loads(text[last_start:])["group_id"]
    path.write_text(text[:last_start] + text[last_start : last_start + 200])  # killed mid-write

    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"))

    assert result.returncode == 0, result.stderr
    assert "dropped a torn last line" in result.stdout
    assert f"{torn_group}: R=" in result.stdout
    assert [line.get("group_id") for line in checkpoint_lines(out)][1:] == [
        g for g in ("group_GER40_001", "group_GER40_002") if g != torn_group
    ] + [torn_group]
    assert without_run_time(full_results(out)) == without_run_time(full_results(baseline.out))
