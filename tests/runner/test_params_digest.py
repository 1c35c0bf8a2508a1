"""A group's ``params_sha256`` is hashed column by column (``store.param_columns``) and a
group's combinations are built without resolving each one again: both give what the
straightforward way gives (a resume compares digests with runs written before)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.runner import store
from backtest.runner.groups import GroupsError, iter_group, load_groups_file
from backtest.strategy.metrics import METRIC_KEYS
from backtest.strategy.params import ParamError, resolve_params

FLOATS = store.FLOAT_PARAMS


def _reference_bytes(combos: list[dict]) -> bytes:
    """The digest's text as it was first written: the ``repr`` of each combination's row,
    parameters in schema order, float parameters as floats (numbers there)."""
    rows = (tuple(float(p[k]) if k in FLOATS else p[k] for k in store.PARAM_TYPES) for p in combos)
    return "".join(f"{row!r}\n" for row in rows).encode()


# Values of every kind a column may hold, few of them so that values repeat (the encoding
# turns each distinct value to text once): zeros of both signs, ints beside floats, bools
# beside ints, strings, lists.
_NUMBERS = [0.0, -0.0, 0, 1, 1.0, True, False, 2.5, 1e-300, 1e300]
_VALUE = st.sampled_from(_NUMBERS + ["09:00", "both", "", [0, 1], [4], None])


@st.composite
def _combos(draw: st.DrawFn) -> list[dict]:
    """Combinations whose columns hold few values (a grid's) or any mix of them."""
    n = draw(st.integers(0, 12))
    pools = {
        name: draw(
            st.lists(
                st.sampled_from(_NUMBERS) if name in FLOATS else _VALUE, min_size=1, max_size=3
            )
        )
        for name in store.PARAM_TYPES
    }
    return [{name: draw(st.sampled_from(pool)) for name, pool in pools.items()} for _ in range(n)]


@settings(max_examples=300, deadline=None)
@given(_combos())
def test_the_columns_encode_as_the_rows_did(combos):
    # Act
    encoded = store.ParamsDigest.encoded(combos)
    digest = store.ParamsDigest()
    digest.update_columns(store.param_columns(combos))

    # Assert
    assert encoded == _reference_bytes(combos)
    reference = store.ParamsDigest()
    reference.update_bytes(_reference_bytes(combos))
    assert digest.hexdigest() == reference.hexdigest()


def test_a_column_of_zeros_of_both_signs_keeps_each_sign():
    # Arrange: 0.0 == -0.0, their texts differ
    combos = [resolve_params("GER40", {"tp_mult": tp}) for tp in (0.0, -0.0, 0, 0.0)]
    combos[1]["tp_mult"] = -0.0  # past validation: the encoding alone is under test

    # Act
    text = store.ParamsDigest.encoded(combos).decode()

    # Assert
    assert [line.count("-0.0") for line in text.splitlines()] == [0, 1, 0, 0]
    assert text.encode() == _reference_bytes(combos)


def test_a_table_from_the_columns_is_the_table_from_the_combinations():
    # Arrange
    combos = [
        resolve_params("GER40", {"sl_mult": sl, "weekdays": days})
        for sl, days in itertools.product([0.5, 1], [[0, 1], [4]])
    ]
    metrics = {name: np.arange(len(combos), dtype=np.float64) for name in METRIC_KEYS}
    metrics["prop_ok"] = np.ones(len(combos), dtype=bool)

    # Act
    table = store.batch_table("g", 3, combos, metrics, store.param_columns(combos))

    # Assert
    assert table.equals(store.batch_table("g", 3, combos, metrics))


_GRID = {
    "ib_start": ["08:00", "09:00", "10:00"],
    "ib_end": ["11:00", "09:30", "09:00"],  # a bad order after good ones
    "trade_end": ["17:00", "10:00"],
    "sl_mult": [0.5, 1, 2.0],
    "weekdays": [[0, 1, 2], [4]],
    "direction": ["both", "long"],
}


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries({}, optional={k: st.just(v) for k, v in _GRID.items()}),
    st.sampled_from([[], ["sl_mult >= 1"], ["ib_end - ib_start >= 60"]]),
    st.sampled_from([{}, {"close_time": "21:00"}, {"weekdays": [1, 2]}]),
)
def test_a_group_expands_as_each_combination_resolved_alone(tmp_path_factory, grid, kept, params):
    # Arrange: the grid as given (a key fixed in params is left out of it)
    grid = {k: v for k, v in grid.items() if k not in params} or {"sl_mult": [1.0]}
    path = tmp_path_factory.mktemp("g") / "g.json"
    group = {"group_id": "g", "params": params, "grid": grid, "constraints": kept}
    path.write_text(json.dumps({"symbol": "GER40", "groups": [group]}))
    loaded = load_groups_file(path, expand=False).groups[0]
    expected, error = [], None
    defaults = resolve_params("GER40", {})
    for values in itertools.product(*grid.values()):
        overrides = {**params, **dict(zip(grid, values))}
        merged = {**defaults, **overrides}
        if "sl_mult >= 1" in kept and not merged["sl_mult"] >= 1:
            continue
        start, end = (int(merged[k][:2]) * 60 + int(merged[k][3:]) for k in ("ib_start", "ib_end"))
        if "ib_end - ib_start >= 60" in kept and not end - start >= 60:
            continue
        try:
            expected.append(resolve_params("GER40", overrides))
        except ParamError as exc:
            error = str(exc).split(": parameter ")[1]
            break

    # Act / Assert
    if error is None and expected:
        combos = list(iter_group(loaded))
        assert combos == expected
        assert [list(c) for c in combos] == [list(c) for c in expected]  # key order too
        assert all(a["weekdays"] is not b["weekdays"] for a, b in itertools.pairwise(combos))
    else:
        with pytest.raises(GroupsError) as raised:
            list(iter_group(loaded))
        assert error is None or str(raised.value).endswith(error)
