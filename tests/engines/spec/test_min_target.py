"""T = max(1, dist(tp_mult)) when tp_mult > 0."""

import pytest

from tests.engines.spec.bar_factory import make_bars, run

# IB = 1 point (100.00 .. 100.01): L = 100.01.
ROWS = [
    ("09:00", 100.0, 100.01, 100.0, 100.01),
    ("10:00", 100.01, 100.03, 100.01, 100.02),  # opens at L; rising path reaches 100.03
]


@pytest.mark.parametrize(
    "tp_mult, tp",
    [
        (0.1, 100.02),  # floor(0.1 + 0.5) = 0 → T = 1 point
        (1.6, 100.03),  # floor(1.6 + 0.5) = 2 points
    ],
)
def test_target_is_at_least_one_point(tp_mult, tp):
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, _, _ = run(bars, tp_mult=tp_mult)

    # Assert
    [trade] = records
    assert (trade["entry_price"], trade["sl"], trade["tp"]) == (100.01, 100.0, tp)
    assert (trade["exit_price"], trade["exit_reason"]) == (tp, "tp")
