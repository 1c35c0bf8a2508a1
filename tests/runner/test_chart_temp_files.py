"""Charts are written through an unpredictable temporary file in the charts folder: a
symlink planted at a guessable temporary name (or at the chart itself) is never
written through."""

from __future__ import annotations

from backtest.runner.charts import chart_path, write_group_charts


def _combos() -> list[dict]:
    return [
        {"params": {"sl_mult": sl, "tp_mult": 1.0}, "metrics": {"total_r": r, "trades": 3}}
        for sl, r in ((0.5, 1.5), (1.0, -0.5))
    ]


def test_planted_symlinks_are_replaced_not_followed(tmp_path):
    # Arrange: symlinks to a victim file at the old fixed temp name and at the chart path
    charts = tmp_path / "charts"
    charts.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    equity = chart_path(charts, "g1", "equity")
    (charts / (equity.name + ".tmp")).symlink_to(victim)
    heatmap = chart_path(charts, "g1", "heatmap")
    heatmap.symlink_to(victim)

    # Act
    written = write_group_charts(charts, "g1", _combos(), [], 100_000.0, "GER40")

    # Assert
    assert victim.read_text() == "keep me\n"
    assert written == [equity, heatmap]
    for png in written:
        assert not png.is_symlink() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in charts.iterdir()) == sorted(
        [equity.name, equity.name + ".tmp", heatmap.name]
    )
