"""The emulator answers MT5-shaped requests with MT5 retcodes and shows no future bar."""

from backtest.emulator import mt5_emulator as mt5
from tests.engines.spec.bar_factory import IB_BAR, make_bars


class Recorder:
    """A listener that places one buy stop at 10:00 and notes what it sees."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.seen_rates = {}
        self.results = {}
        self.deals = []

    def on_day_start(self, bar):
        pass

    def on_bar_open(self, bar):
        rates = self.emulator.copy_rates_from_pos(0, 10)
        self.seen_rates[bar.minute] = rates
        if bar.minute == 600:
            send = self.emulator.order_send
            self.results["bad_stops"] = send(
                {
                    "action": mt5.TRADE_ACTION_PENDING,
                    "type": mt5.ORDER_TYPE_BUY_STOP,
                    "price": 11000,
                    "sl": 11500,
                    "tp": 0,
                    "volume": 1.0,
                }
            )
            self.results["placed"] = send(
                {
                    "action": mt5.TRADE_ACTION_PENDING,
                    "type": mt5.ORDER_TYPE_BUY_STOP,
                    "price": 11000,
                    "sl": 9000,
                    "tp": 13000,
                    "volume": 1.0,
                }
            )
            self.results["remove_unknown"] = send({"action": mt5.TRADE_ACTION_REMOVE, "order": 999})
            self.results["unsupported"] = send({"action": 2})

    def on_deal(self, deal):
        self.deals.append(deal)

    def on_order_rejected(self, order):
        pass

    def on_day_end(self, bar):
        pass


def test_requests_rates_and_deals():
    # Arrange
    bars = make_bars(
        [IB_BAR, ("10:00", 105, 108, 104, 107), ("10:01", 107, 115, 106, 114)], spread_model="cost"
    )
    emulator = mt5.MT5Emulator(bars)
    recorder = Recorder(emulator)

    # Act
    emulator.run(recorder)

    # Assert: the forming bar shows only its open; earlier bars are complete.
    at_1001 = recorder.seen_rates[601]
    assert list(at_1001["high"]) == [11000, 10800, 10700]
    assert list(at_1001["close"]) == [10500, 10700, 10700]
    assert recorder.results["bad_stops"].retcode == mt5.TRADE_RETCODE_INVALID_STOPS
    assert recorder.results["placed"].retcode == mt5.TRADE_RETCODE_DONE
    assert recorder.results["remove_unknown"].retcode == mt5.TRADE_RETCODE_INVALID_ORDER
    assert recorder.results["unsupported"].retcode == mt5.TRADE_RETCODE_INVALID
    [entry] = recorder.deals
    assert (entry.entry, entry.price, entry.bar) == (mt5.DEAL_ENTRY_IN, 11000, 2)
    [position] = emulator.positions_get()
    assert (position.price_open, position.sl, position.tp) == (11000, 9000, 13000)
    assert emulator.orders_get() == ()
