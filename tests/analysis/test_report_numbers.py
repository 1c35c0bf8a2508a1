"""The page's numbers rounded over whole columns (``short_floats``, ``shorts``) are the
values ``short`` gives one by one, bit for bit: a differential test over any float, the
near-ties and decade edges where the numpy rounding hands over to formatting, and the
mixed lists a page's trades hold."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backtest.analysis.report_sections import SIGNIFICANT, short, short_floats, shorts


@st.composite
def near_ties(draw: st.DrawFn) -> float:
    """A decimal one digit longer than the page keeps, ending in 5 (a tie in decimal,
    never exactly in binary), or a neighbour of it."""
    digits = draw(st.integers(10**SIGNIFICANT, 10 ** (SIGNIFICANT + 1) - 1)) // 10 * 10 + 5
    value = float(Decimal(digits).scaleb(draw(st.integers(-25, 12))))
    for _ in range(draw(st.integers(0, 2))):
        value = math.nextafter(value, draw(st.sampled_from([math.inf, -math.inf])))
    return value * draw(st.sampled_from([1.0, -1.0]))


@st.composite
def decade_edges(draw: st.DrawFn) -> float:
    """A power of ten, or a few ulps or the page's last digit away from one."""
    value = 10.0 ** draw(st.integers(-16, 12))
    value *= draw(st.sampled_from([1.0, 1 - 10.0**-SIGNIFICANT, 1 + 10.0**-SIGNIFICANT]))
    for _ in range(draw(st.integers(0, 3))):
        value = math.nextafter(value, draw(st.sampled_from([math.inf, 0.0])))
    return value


# Prices as the bars give them (points times the symbol's point), and money sums.
PRICES = st.builds(lambda k, point: k * point, st.integers(0, 10**9), st.sampled_from([0.01, 0.1]))
FLOATS = st.one_of(
    st.floats(), near_ties(), decade_edges(), PRICES, st.floats(-1e6, 1e6).map(lambda v: v / 3)
)


def _same(got: list, want: list) -> bool:
    """Equal values bit for bit (repr tells -0.0 from 0.0 and every float from another)."""
    return repr(got) == repr(want) and [type(v) for v in got] == [type(v) for v in want]


@settings(max_examples=300, deadline=None)
@given(st.lists(FLOATS, max_size=50))
@example([0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308])
@example([0.30000000000000004, 1e-13, 9999999999.5, 0.99999999995, 1234567890.5])
def test_short_floats_are_short_one_by_one(values):
    # Act
    got = short_floats(np.array(values, dtype=np.float64))

    # Assert
    assert _same(got, [short(v) for v in values])


MIXED = st.one_of(
    FLOATS,
    st.none(),
    st.text(max_size=3),
    st.integers(),
    st.booleans(),
    FLOATS.map(np.float64),
    st.floats(width=32).map(np.float32),
    st.integers(-(2**31), 2**31).map(np.int64),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(MIXED, max_size=30))
def test_shorts_are_short_one_by_one(values):
    # Act
    got = shorts(values)

    # Assert
    assert _same(got, [short(v) for v in values])
