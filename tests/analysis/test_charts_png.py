"""Group charts are valid PNGs of 1200 × 700 px; heatmap, bar chart or none by variation."""

import itertools
import struct

from backtest.runner.charts import chart_path, write_group_charts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _combos(**grid):
    names = list(grid)
    return [
        {
            "params": dict(zip(names, values), direction="both"),
            "metrics": {
                "total_r": float(i) - 3.0,
                "trades": 10,
                "winrate": 0.5,
                "profit_factor": 1.2,
                "max_dd_r": 2.0,
            },
        }
        for i, values in enumerate(itertools.product(*grid.values()))
    ]


TRADES = [
    {
        "entry_time": "2024-03-04T09:12:00+00:00",
        "exit_time": "2024-03-04T11:40:00+00:00",
        "r": 1.5,
        "pnl_money": 1500.0,
    },
    {
        "entry_time": "2024-03-05T09:30:00+00:00",
        "exit_time": "2024-03-05T10:02:00+00:00",
        "r": -1.0,
        "pnl_money": -1000.0,
    },
    {
        "entry_time": "2024-03-06T10:01:00+00:00",
        "exit_time": "2024-03-06T20:59:00+00:00",
        "r": 0.4,
        "pnl_money": 400.0,
    },
]


def test_equity_and_heatmap_for_two_varied_parameters(tmp_path):
    combos = _combos(sl_mult=[0.5, 1.0, 1.5], tp_mult=[1.0, 2.0], ib_end=["09:30", "10:00"])

    paths = write_group_charts(
        tmp_path / "charts", "group_GER40_001", combos, TRADES, 100000.0, "GER40"
    )

    assert paths == [
        chart_path(tmp_path / "charts", "group_GER40_001", "equity"),
        chart_path(tmp_path / "charts", "group_GER40_001", "heatmap"),
    ]
    assert [_png_size(p) for p in paths] == [(1200, 700), (1200, 700)]


def test_one_varied_parameter_still_draws_a_chart(tmp_path):
    paths = write_group_charts(
        tmp_path, "g1", _combos(tp_mult=[1.0, 2.0, 3.0]), TRADES, 100000.0, "GER40"
    )

    assert [p.name for p in paths] == ["g1_equity.png", "g1_heatmap.png"]
    assert _png_size(paths[1]) == (1200, 700)


def test_no_varied_parameter_skips_the_heatmap(tmp_path):
    paths = write_group_charts(tmp_path, "g2", _combos(tp_mult=[1.0]), TRADES, 100000.0, "GER40")

    assert [p.name for p in paths] == ["g2_equity.png"]
    assert not (tmp_path / "g2_heatmap.png").exists()


def test_no_trades_still_gives_a_valid_equity_chart(tmp_path):
    paths = write_group_charts(tmp_path, "g3", _combos(tp_mult=[1.0, 2.0]), [], 100000.0, "GER40")

    assert _png_size(paths[0]) == (1200, 700)
