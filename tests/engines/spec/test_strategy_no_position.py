"""close() and set_stops() without an open position are refused (a strategy bug), not crashes."""

import pytest

from backtest.emulator.mt5_emulator import Bar, MT5Emulator
from strategies.base_strategy import OrderRefused, Strategy
from tests.engines.spec.bar_factory import IB_BAR, make_bars


class CloseWhenFlat(Strategy):
    """Calls close() and set_stops() on the first bar, while flat, and notes the errors."""

    def __init__(self, broker: MT5Emulator) -> None:
        super().__init__(broker)
        self.errors: list[str] = []

    def on_day_start(self, bar: Bar) -> None:
        for act in (self.close, lambda: self.set_stops(9000, 0)):
            with pytest.raises(OrderRefused) as caught:
                act()
            self.errors.append(str(caught.value))


def test_close_and_set_stops_need_an_open_position() -> None:
    # Arrange
    emulator = MT5Emulator(make_bars([IB_BAR], spread_model="cost"))
    strategy = CloseWhenFlat(emulator)

    # Act
    emulator.run(strategy)

    # Assert
    assert strategy.errors == [
        "close: there is no open position",
        "set_stops: there is no open position",
    ]
