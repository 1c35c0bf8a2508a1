"""A doji that opens a period takes its direction from the file's previous row.

Spec 1/4: "the bar before" is the previous row of the loaded data, across days
and the start of the period; the runner loads the whole file, then slices it.
"""

from dataclasses import replace

from backtest.data.loaders import load_period_bars
from tests.engines.spec.both_engines import brief, run_both

# UTC rows; Berlin is UTC+1 in early March.
CSV = """time,open,high,low,close
2024-03-04 20:59,101,102,99,100
2024-03-05 08:00,100,110,90,100
2024-03-05 09:00,100,112,88,100
"""


def test_period_first_doji_follows_the_last_bar_of_the_day_before(tmp_path):
    # Arrange: 03-04 21:59 falls, so the 09:00 doji (the period's first bar) rises
    # and the 10:00 doji falls: path 100 → 112 → 88 → 100, L = 110 first, then SL 90.
    # (Sliced first, 09:00 would be a first-row doji, falling, and 10:00 a short.)
    data = tmp_path / "GER40.csv"
    data.write_text(CSV)
    loaded = load_period_bars("GER40", "in_sample", str(data)).between("2024-03-05", "2024-03-05")
    bars = replace(loaded, symbol=replace(loaded.symbol, spread_model="cost"))

    # Act
    records, _, _ = run_both(bars)

    # Assert
    assert bars.falling.tolist() == [False, True]
    [trade] = records
    assert brief(trade) == ("long", 110.0, 90.0, "sl")
    assert trade["entry_time"] == trade["exit_time"] == "2024-03-05T09:00:00+00:00"
