"""IB bars with missing minutes: the IB is the bars that exist in [ib_start, ib_end).

The walk starts at the first bar at or after ib_end (here 10:03: 10:00-10:02
are missing); 08:59 lies outside the IB window.
"""

from tests.engines.spec.bar_factory import make_bars
from tests.engines.spec.both_engines import brief, run_both


def test_ib_of_sparse_bars_and_walk_from_the_first_bar_after_ib_end():
    # Arrange: IBH 110 (09:17), IBL 90 (09:58) → L 110, SL 90, TP 130.
    bars = make_bars(
        [
            ("08:59", 100, 150, 50, 120),
            ("09:00", 100, 105, 98, 103),
            ("09:17", 103, 110, 101, 108),
            ("09:58", 108, 109, 90, 95),
            ("10:03", 100, 111, 99, 110),  # rising: 100 → 99 → 111: long at 110
            ("10:04", 110, 131, 109, 130),  # rising: 110 → 109 → 131: TP 130
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run_both(bars)

    # Assert: r = (2000 − 100) / 2000
    [trade] = records
    assert brief(trade) == ("long", 110.0, 130.0, "tp")
    assert (trade["entry_time"], trade["exit_time"]) == (
        "2024-03-05T09:03:00+00:00",
        "2024-03-05T09:04:00+00:00",
    )
    assert trade["r"] == 0.95
