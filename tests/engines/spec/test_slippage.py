"""Slippage (spec 8.5, both models): the entry (long +p, short -p) and an SL exit (long -p,
short +p) are worse by p; TP and close exits are not; SL and TP are set from the fill
before slippage."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both

# L = 110.00, S = 90.00, D = T = 2000 points; spread 1.00; slippage 0.50 = 50 points.
LONG = ("10:00", 108.0, 111.0, 107.5, 110.5)  # rising, ask 109 → 108.5 → 112: buy at 110
SHORT = ("10:00", 92.0, 93.0, 89.0, 89.5)  # falling, bid 92 → 93 → 89: sell at 90


@pytest.mark.parametrize(
    "model, later, expected, r",
    [
        # TP 130.00 (from 110.00) on the bid: no slippage on a limit
        ("bid_ask", ("12:00", 125.0, 131.0, 124.0, 130.0), ("long", 110.5, 130.0, "tp"), 0.975),
        # SL 90.00 reached in the bar: 89.50; -D - 2p
        ("bid_ask", ("12:00", 95.0, 96.0, 85.0, 86.0), ("long", 110.5, 89.5, "sl"), -1.05),
        # the bar opens below SL: at its open 85.00, then slipped
        ("bid_ask", ("12:00", 85.0, 86.0, 84.0, 85.5), ("long", 110.5, 84.5, "sl"), -1.3),
        # the cost model slips the same and charges the spread too: -D - 2p - spread
        ("cost", ("12:00", 95.0, 96.0, 85.0, 86.0), ("long", 110.5, 89.5, "sl"), -1.1),
    ],
)
def test_long_entry_and_stop_loss_slip_take_profit_does_not(model, later, expected, r):
    # Arrange: on the cost model's bid path 10:00 reaches 110 too (bid high 111)
    bars = make_bars([IB_BAR, LONG, later], spread=1.0, slippage=0.5, spread_model=model)

    # Act
    [trade], _, _ = run_both(bars)

    # Assert
    assert brief(trade) == expected
    assert (trade["sl"], trade["tp"]) == (90.0, 130.0)
    assert trade["r"] == r


def test_short_entry_slips_its_close_does_not():
    # Arrange
    bars = make_bars(
        [IB_BAR, SHORT, ("22:00", 85.0, 86.0, 84.0, 85.5)],
        spread=1.0,
        slippage=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: in at 90.00 - 0.50; out at the 22:00 open + spread, 86.00
    assert brief(trade) == ("short", 89.5, 86.0, "close")
    assert (trade["sl"], trade["tp"]) == (110.0, 70.0)
    assert trade["r"] == 0.175  # 350 / 2000


def test_short_stop_loss_slips_up():
    # Arrange: 11:00 rising, ask 106 → 105 → 110.5: SL 110.00 (from 90.00) on the ask
    bars = make_bars(
        [IB_BAR, SHORT, ("11:00", 105.0, 109.5, 104.0, 109.0)],
        spread=1.0,
        slippage=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: 89.50 in, 110.50 out: -D - 2p
    assert brief(trade) == ("short", 89.5, 110.5, "sl")
    assert trade["r"] == -1.05


def test_entry_at_the_open_slips_and_anchors_sl_tp_on_the_open():
    # Arrange: 10:00 opens at 112 (ask 113, through L): fill 113.00, then + 0.50
    bars = make_bars(
        [IB_BAR, ("10:00", 112.0, 112.5, 111.0, 111.5), ("12:00", 130.0, 134.0, 129.0, 133.5)],
        spread=1.0,
        slippage=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: SL 93.00, TP 133.00 from 113.00; 12:00 rising 130 → 129 → 134: TP
    assert brief(trade) == ("long", 113.5, 133.0, "tp")
    assert (trade["sl"], trade["tp"]) == (93.0, 133.0)
    assert trade["r"] == 0.975  # 1950 / 2000
