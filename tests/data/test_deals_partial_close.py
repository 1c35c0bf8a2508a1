"""A position closed in two deals (0.1 by hand, 0.1 at its TP) reads as one position of
0.2 lots with two exits, its exit price the exits' average by volume (both formats)."""

import pytest

from backtest.data.deal_records import DEALS_CSV, HTML_REPORT
from backtest.data.deals import read_deals
from tests.data.deals_helpers import SERVER_TZ, fixture, utc_ns


@pytest.mark.parametrize(
    "name, kind", [("partial_close.csv", DEALS_CSV), ("partial_close.html", HTML_REPORT)]
)
def test_partial_close_is_one_position_with_two_exits(name, kind):
    history = read_deals(fixture(name), SERVER_TZ, ["GER40"])

    assert history.format == kind
    (position,) = history.positions  # the XAUUSD position of another bot is not taken
    assert position.position_id == "5001"
    assert position.direction == 1
    assert position.volume == 0.2
    assert position.entry_price == 16020.30
    # 11:00:20 on the server clock (UTC+2 in January) is 09:00:20 UTC; the CSV's
    # time_msc adds its 412 ms
    extra_ms = 412_000_000 if kind == DEALS_CSV else 0
    assert position.entry_time_ns == utc_ns("2024-01-08 09:00:20") + extra_ms
    assert [(e.price, e.volume) for e in position.exits] == [(16028.00, 0.1), (16040.00, 0.1)]
    # the hand-made partial: "manual" where the CSV says reason 0 (client); the report has
    # no reason column and no comment on it, so it reads as an ordinary close there
    assert position.exits[0].reason == ("manual" if kind == DEALS_CSV else "close")
    assert (position.exits[1].reason, position.exits[1].level) == ("tp", 16040.00)
    assert position.partial
    assert position.exit_price == pytest.approx((16028.00 * 0.1 + 16040.00 * 0.1) / 0.2)
    assert position.exit_time_ns == utc_ns("2024-01-08 09:01:30") + (
        5_000_000 if kind == DEALS_CSV else 0
    )
    # profit 0.77 + 1.97, commission -0.50 - 0.25 - 0.25
    assert position.net_money == pytest.approx(1.74)
    assert position.comment == "ib long"
