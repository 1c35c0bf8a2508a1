"""bid_ask: the buy stop triggers on the ask path (spec 8.2-8.3): a bar whose bid stays
below L but whose ask (bid + spread) reaches it enters, at L."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both

# L = 110.00, S = 90.00, D = T = 2000 points; spread 1.00.
ROWS = [
    IB_BAR,
    # rising: bid 108 → 107.5 → 109.5 → 109 stays below L; ask 109 → 108.5 → 110.5 → 110
    ("10:00", 108.0, 109.5, 107.5, 109.0),
    ("12:00", 125.0, 131.0, 124.0, 130.0),  # rising: bid 125 → 124 → 131: TP 130 on the bid
]


def test_ask_reaches_the_buy_stop_while_the_bid_stays_below():
    # Arrange
    bars = make_bars(ROWS, spread=1.0, spread_model="bid_ask")

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: fills at L on the ask's low → high segment; SL/TP from the fill, on the bid
    assert brief(trade) == ("long", 110.0, 130.0, "tp")
    assert (trade["sl"], trade["tp"]) == (90.0, 130.0)
    assert trade["entry_time"] == "2024-03-05T09:00:00+00:00"
    assert trade["r"] == 1.0  # 2000 points: the spread is in the prices, not charged


def test_cost_model_waits_for_the_bid():
    # Arrange
    bars = make_bars(ROWS, spread=1.0, spread_model="cost")

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: 10:00's bid high 109.5 < L; 12:00 opens through L and fills at its open
    assert brief(trade) == ("long", 125.0, 130.0, "close")
    assert trade["entry_time"] == "2024-03-05T11:00:00+00:00"
