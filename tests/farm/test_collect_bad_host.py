"""One host with bad results does not break collect for the others: results whose "best"
indexes no combination, or a checkpoint with a corrupt middle line, mark that host
failed with the reason; the other host is merged."""

from __future__ import annotations

import json

import pytest

from tests.farm.conftest import recommit, run_fab


def _best_99(out):
    full = out / "results_full_GER40.json"
    doc = json.loads(full.read_text())
    doc["groups"][0]["best"] = 99
    full.write_text(json.dumps(doc))
    recommit(out)


def _corrupt_checkpoint_line(out):
    (out / "results_manifest_GER40.json").unlink()  # not committed: collect reads the checkpoint
    lines = (out / "checkpoint.jsonl").read_text().splitlines(keepends=True)
    lines.insert(1, '{"group_id": "group_GER40_000", "status": \n')
    (out / "checkpoint.jsonl").write_text("".join(lines))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_best_99, "group group_GER40_000: best 99 is not an index of its 4 combos"),
        (_corrupt_checkpoint_line, "checkpoint.jsonl: line 2 is corrupt"),
    ],
)
def test_bad_host_is_failed_with_the_reason_the_other_merged(
    ssh_farm, finished_pair, tmp_path, tamper, reason
):
    # Arrange
    tamper(finished_pair.out("h1"))
    dest = tmp_path / "dest"

    # Act
    collect = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(dest))

    # Assert
    assert collect.returncode == 1
    assert "Traceback" not in collect.stdout + collect.stderr
    (h1_row,) = [ln for ln in collect.stdout.splitlines() if ln.startswith("h1 ")]
    assert "FAILED: h1: results not merged, they cannot be trusted:" in h1_row
    assert reason in h1_row
    (h2_row,) = [ln for ln in collect.stdout.splitlines() if ln.startswith("h2 ")]
    assert "fetched" in h2_row and "FAILED" not in h2_row
    merged = json.loads(
        (dest / "GER40_in_sample" / "merged" / "results_full_GER40.json").read_text()
    )
    assert [(g["group_id"], g["status"]) for g in merged["groups"]] == [("group_GER40_001", "ok")]
