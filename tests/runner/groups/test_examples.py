"""The README's example groups files load and expand as described."""

from __future__ import annotations

from backtest.core.config import REPO_ROOT
from backtest.runner.groups import combo_count, expand_group, load_groups_file


def test_ger40_example():
    loaded = load_groups_file(REPO_ROOT / "examples" / "groups_GER40.json")
    assert loaded.symbol == "GER40"
    assert [combo_count(g) for g in loaded.groups] == [16, 16, 16, 16]
    assert sum(len(expand_group(g)) for g in loaded.groups) == 64


def test_xauusd_example():
    loaded = load_groups_file(REPO_ROOT / "examples" / "groups_XAUUSD.json")
    assert loaded.symbol == "XAUUSD"
    assert [combo_count(g) for g in loaded.groups] == [16, 16, 16]
