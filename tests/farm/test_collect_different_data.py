"""collect shows each host's data (source and checksum) and refuses to merge hosts whose
runs used different data, saying which; nothing is merged for that symbol."""

from __future__ import annotations

import json

from tests.farm.conftest import recommit, run_fab


def test_parts_run_on_different_data_are_not_merged(ssh_farm, finished_pair, tmp_path):
    # Arrange: h2's committed results say they ran on another file
    h2 = finished_pair.out("h2")
    full = h2 / "results_full_GER40.json"
    doc = json.loads(full.read_text())
    real = doc["metadata"]["data_checksum"]
    other = "f" * 64
    doc["metadata"]["data_checksum"] = other
    doc["metadata"]["data"]["checksum"] = other
    full.write_text(json.dumps(doc))
    recommit(h2)
    dest = tmp_path / "dest"

    # Act
    collect = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(dest))

    # Assert
    assert collect.returncode == 1 and "Traceback" not in collect.stderr
    rows = {
        ln.split()[0]: ln for ln in collect.stdout.splitlines() if ln.startswith(("h1 ", "h2 "))
    }
    assert f" file {real[:12]} " in rows["h1"] and f" file {other[:12]} " in rows["h2"]
    (line,) = [ln for ln in collect.stdout.splitlines() if ln.startswith("GER40: merge refused: ")]
    assert "different data_checksum" in line and real in line and other in line
    assert not (dest / "GER40_in_sample" / "merged").exists()
