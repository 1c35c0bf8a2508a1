"""Parameter resolution and the invariants of spec section 2."""

import pytest

from backtest.core.config import symbol_spec
from backtest.strategy.params import ParamError, compile_params, distance_points, resolve_params


def test_defaults_fill_what_is_not_named():
    params = resolve_params("XAUUSD", {"sl_mult": 0.5})

    assert params["sl_mult"] == 0.5
    assert params["ib_start"] == "08:00" and params["trade_end"] == "16:30"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"sl_mul": 1.0}, "sl_mul"),
        ({"ib_end": "10:00", "trade_end": "09:59"}, "trade_end"),
        ({"ib_start": "10:00", "ib_end": "10:00"}, "ib_end"),
        ({"trade_end": "23:00", "close_time": "22:00"}, "close_time"),
        ({"sl_mult": 0}, "sl_mult"),
        ({"tp_mult": -1}, "tp_mult"),
        ({"entry_buffer": -0.1}, "entry_buffer"),
        ({"max_trades_per_day": 0}, "max_trades_per_day"),
        ({"direction": "up"}, "direction"),
        ({"weekdays": [7]}, "weekdays"),
        ({"ib_start": "9:00"}, "ib_start"),
    ],
)
def test_broken_invariant_names_the_field(overrides, field):
    with pytest.raises(ParamError) as err:
        resolve_params("GER40", overrides, "G.json group g1")

    assert str(err.value).startswith(f"G.json group g1: parameter '{field}'")


def test_typo_suggests_the_real_name():
    with pytest.raises(ParamError, match="did you mean 'sl_mult'"):
        resolve_params("GER40", {"sl_mul": 1.0})


def test_compiled_units_are_minutes_and_points():
    compiled = compile_params(
        resolve_params(
            "GER40", {"min_ib": 12.345, "max_ib": 80, "direction": "short", "weekdays": [0, 4]}
        ),
        symbol_spec("GER40"),
    )

    assert (compiled.ib_start, compiled.ib_end, compiled.trade_end) == (540, 600, 1050)
    assert compiled.min_ib == 1235 and compiled.max_ib == 8000  # floor(x/0.01 + 0.5)
    assert (compiled.allow_long, compiled.allow_short) == (False, True)
    assert compiled.weekday_mask == (True, False, False, False, True, False, False)


def test_distance_rounds_half_up_in_float64():
    assert distance_points(0.5, 301).tolist() == 151  # 150.5 -> 151
    assert distance_points(0.1, 25).tolist() == 3  # 2.5 -> 3
    assert distance_points(1.5, [3, 5]).tolist() == [5, 8]
