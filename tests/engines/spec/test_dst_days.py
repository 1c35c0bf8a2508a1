"""The IB window is local time: on a daylight-saving change day its UTC times shift."""

import pytest

from tests.engines.spec.bar_factory import make_bars, run


@pytest.mark.parametrize(
    "symbol, day, ib_utc, walk_utc, close_utc",
    [
        # Europe/Berlin: CET (UTC+1) until 01:00Z on 31 March 2024, CEST (UTC+2) after.
        ("GER40", "2024-03-31", "07:00", "08:00", "20:00"),
        # Berlin back to CET at 01:00Z on 27 October 2024.
        ("GER40", "2024-10-27", "08:00", "09:00", "21:00"),
        # Europe/London: BST (UTC+1) from 01:00Z on 31 March 2024; IB 08:00-09:00 local.
        ("XAUUSD", "2024-03-31", "07:00", "08:00", "21:00"),
        # London back to GMT at 01:00Z on 27 October 2024.
        ("XAUUSD", "2024-10-27", "08:00", "09:00", "22:00"),
    ],
)
def test_ib_and_close_follow_local_time_on_dst_day(symbol, day, ib_utc, walk_utc, close_utc):
    # Arrange (UTC times): a bar before the change, the IB bar, then one hour
    # later the first walked bar opening above L = 110, and the close_time bar.
    rows = [
        (f"{day} 00:30", 100, 100.5, 99.5, 100),
        (f"{day} {ib_utc}", 100, 110, 90, 105),
        (f"{day} {walk_utc}", 112, 113, 111, 112),
        (f"{day} {close_utc}", 118, 119, 117, 118),
    ]
    bars = make_bars(rows, symbol=symbol, utc=True, spread_model="cost")

    # Act
    records, _, _ = run(bars, weekdays=[6])  # both days are Sundays

    # Assert: all bars on one trading day; the long fills at the walk start's
    # open and closes at the open of the bar at local 22:00.
    assert len(bars.trading_days()) == 1
    [trade] = records
    assert trade["entry_time"] == f"{day}T{walk_utc}:00+00:00"
    assert trade["entry_price"] == 112.0
    assert (trade["exit_time"], trade["exit_price"], trade["exit_reason"]) == (
        f"{day}T{close_utc}:00+00:00",
        118.0,
        "close",
    )
