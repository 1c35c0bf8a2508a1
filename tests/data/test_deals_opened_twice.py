"""Two positions opened 2 s apart for one signal stay two positions; in the report their
closing deals (same time, same price) cannot be told apart, so each keeps its Positions
row's exit and takes the reason the two closing deals agree on (their TP)."""

import pytest

from backtest.data.deals import read_deals
from tests.data.deals_helpers import SERVER_TZ, fixture, utc_ns


@pytest.mark.parametrize("name", ["opened_twice.csv", "opened_twice.html"])
def test_two_positions_of_one_signal(name):
    history = read_deals(fixture(name), SERVER_TZ, ["GER40"])

    first, second = history.positions
    assert (first.position_id, second.position_id) == ("5021", "5022")
    assert (first.entry_price, second.entry_price) == (16020.00, 16020.10)
    gap_s = (second.entry_time_ns - first.entry_time_ns) / 1e9
    assert gap_s == pytest.approx(2.0 if name.endswith("html") else 2.01)
    assert first.entry_time_ns // 10**9 == utc_ns("2024-01-10 09:00:05") // 10**9
    for position in (first, second):
        (leg,) = position.exits
        assert (leg.price, leg.reason, leg.level) == (16040.00, "tp", 16040.00)
    if name.endswith("html"):
        assert any("could not be tied" in note for note in history.notes)
