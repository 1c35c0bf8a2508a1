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


def test_an_old_cost_run_merges_with_an_explicit_cost_run(ssh_farm, finished_pair, tmp_path):
    # Arrange: h1 says cost, fixed spread, spread unit = point, no slippage; h2 was recorded
    # before execution settings existed (none of them in its symbol_settings)
    point = _set_settings(finished_pair.out("h1"), spread_model="cost")["point"]
    old = _set_settings(finished_pair.out("h2"), **dict.fromkeys(EXECUTION))
    dest = tmp_path / "dest"

    # Act
    collect = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(dest))

    # Assert
    assert not set(EXECUTION) & set(old)
    assert collect.returncode == 0, collect.stdout + collect.stderr
    assert "merge refused" not in collect.stdout
    merged = _merged_settings(dest)
    assert {k: merged.get(k) for k in EXECUTION} == {
        "spread_model": "cost",
        "spread_source": "fixed",
        "spread_unit": point,
        "slippage": 0.0,
    }


def test_runs_with_different_execution_settings_are_not_merged(ssh_farm, finished_pair, tmp_path):
    # Arrange: h1 ran bid_ask (the default); h2 says cost, another time slippage 0.5, and
    # once the old cost run (no settings) against h1's bid_ask
    dest = tmp_path / "dest"
    cases = [
        {"spread_model": "cost"},
        {"slippage": 0.5},
        {"spread_source": "data"},
        dict.fromkeys(EXECUTION),
    ]
    lines = []

    # Act
    for changes in cases:
        finished_pair.reset()
        _set_settings(finished_pair.out("h2"), **changes)
        collect = run_fab(ssh_farm, finished_pair.hosts_file, "collect", "--dest", str(dest))
        lines.append(
            (
                collect.returncode,
                [ln for ln in collect.stdout.splitlines() if ln.startswith("GER40: merge refused")],
            )
        )

    # Assert
    for (code, refused), changes in zip(lines, cases):
        assert code == 1, changes
        assert len(refused) == 1 and "different symbol_settings" in refused[0], (changes, refused)
    assert not (dest / "GER40_in_sample" / "merged").exists()
