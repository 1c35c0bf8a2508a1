"""collect writes only under --dest, whatever a (tampered) host's results name: a group id
that climbs out of the charts folder is refused with the host, the other host is merged."""

from __future__ import annotations

import json

from tests.farm.conftest import own_groups, plant_results, run_fab

# From dest/GER40_in_sample/hosts/h1/charts four levels up is dest; from
# dest/GER40_in_sample/merged/charts it is dest's parent: the chart copy would land there.
ESCAPE = "../../../../GER40_in_sample/hosts/h1/charts/p"


def test_group_id_that_climbs_out_is_refused_and_writes_nothing_outside(
    ssh_farm, finished_pair, tmp_path
):
    # Arrange: h1 reports a group named ESCAPE and serves the chart file it points at
    h1 = finished_pair.out("h1")
    record = {**own_groups(h1)[0], "group_id": ESCAPE}
    plant_results(h1, [record])
    (h1 / "charts").mkdir(exist_ok=True)
    (h1 / "charts" / "p_equity.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"host bytes")
    dest = tmp_path / "dest"

    # Act
    collect = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(dest))

    # Assert
    assert not (tmp_path / "GER40_in_sample").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]
    assert collect.returncode == 1 and "Traceback" not in collect.stderr
    (h1_row,) = [ln for ln in collect.stdout.splitlines() if ln.startswith("h1 ")]
    assert "FAILED: h1: results not merged, they cannot be trusted:" in h1_row
    assert f"group_id '{ESCAPE}' breaks the group id rule" in h1_row
    merged = json.loads(
        (dest / "GER40_in_sample" / "merged" / "results_full_GER40.json").read_text()
    )
    assert [(g["group_id"], g["status"]) for g in merged["groups"]] == [("group_GER40_001", "ok")]
    assert "missing (1): group_GER40_000" in collect.stdout
