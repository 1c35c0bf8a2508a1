"""News windows are whole minutes: the results table stores them as int64, so a
fractional minute (which the engines would use) would be recorded truncated; it is refused
up front, naming the parameter."""

from __future__ import annotations

import pytest

from backtest.strategy.params import ParamError, resolve_params


@pytest.mark.parametrize("name", ["news_before", "news_after"])
def test_a_fractional_minute_is_refused(name):
    # Act / Assert
    with pytest.raises(ParamError, match=name):
        resolve_params("GER40", {name: 7.5})


@pytest.mark.parametrize("name", ["news_before", "news_after"])
def test_whole_minutes_are_kept_exactly(name):
    # Act
    params = resolve_params("GER40", {name: 7})

    # Assert
    assert params[name] == 7
