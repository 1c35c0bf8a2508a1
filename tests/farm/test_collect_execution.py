"""collect refuses to merge hosts whose runs used different execution settings (spec
section 8), as for costs; a run recorded before those settings ran cost, fixed spread, no
slippage, and merges with a run that says so."""

from __future__ import annotations

import json

from backtest.core.config import LEGACY_EXECUTION
from tests.farm.conftest import recommit, run_fab

EXECUTION = tuple(LEGACY_EXECUTION)  # spread_model, spread_source, spread_unit, slippage


def _set_settings(out, **changes) -> dict:
    """The host's committed symbol_settings changed (a key set to None is removed)."""
    full = out / "results_full_GER40.json"
    doc = json.loads(full.read_text())
    settings = doc["metadata"]["symbol_settings"]
    for key, value in changes.items():
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
    full.write_text(json.dumps(doc))
    recommit(out)
    return settings


def _merged_settings(dest) -> dict:
    merged = dest / "GER40_in_sample" / "merged" / "results_full_GER40.json"
    return json.loads(merged.read_text())["metadata"]["symbol_settings"]


def test_execution_settings_decide_whether_hosts_merge(ssh_farm, finished_pair, tmp_path):
    # Arrange: first h1 says cost, fixed spread, spread unit = point, no slippage, and h2
    # was recorded before execution settings existed (none in its symbol_settings); then,
    # h1 running bid_ask (the default), h2 says cost, slippage 0.5, the data's spread, or
    # is the old cost run
    point = _set_settings(finished_pair.out("h1"), spread_model="cost")["point"]
    old = _set_settings(finished_pair.out("h2"), **dict.fromkeys(EXECUTION))
    dest = tmp_path / "dest"
    different = [
        {"spread_model": "cost"},
        {"slippage": 0.5},
        {"spread_source": "data"},
        dict.fromkeys(EXECUTION),
    ]

    # Act
    same = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(dest))
    merged = _merged_settings(dest)
    refusals = []
    for changes in different:
        finished_pair.reset()
        _set_settings(finished_pair.out("h2"), **changes)
        other = dest.with_name(f"dest{len(refusals)}")
        collect = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(other))
        refused = [ln for ln in collect.stdout.splitlines() if ln.startswith("GER40: merge ")]
        made = {p.name for p in (other / "GER40_in_sample").iterdir()}
        refusals.append((collect.returncode, refused, made))

    # Assert: the old cost run merges with the explicit one
    assert not set(EXECUTION) & set(old)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "merge refused" not in same.stdout
    assert {k: merged.get(k) for k in EXECUTION} == {
        "spread_model": "cost",
        "spread_source": "fixed",
        "spread_unit": point,
        "slippage": 0.0,
    }
    # and different settings are refused, nothing merged
    for (code, refused, made), changes in zip(refusals, different):
        assert code == 1, changes
        assert len(refused) == 1 and "different symbol_settings" in refused[0], (changes, refused)
        assert "merged" not in made, changes
