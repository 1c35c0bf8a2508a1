"""The search space: the grid YAML format with ranges, a groups file's groups as blocks,
sampled points as combinations (resolved by the strategy's own rules), bad spaces refused
with one line naming the file and field."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

from backtest.core.config import DEFAULTS
from backtest.search.space import SpaceError, combination_key, load_space


def _space(tmp_path, text, name="space.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return load_space(path, None, None, DEFAULTS)


def _points(space, n, seed=0):
    """``n`` sampled points of ``space`` (combination or None, reason), seeded random."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        rows, reason, _ = space.sample(trial)
        out.append((None if rows is None else rows[0], reason))
        study.tell(trial, 0.0)
    return out


def test_ranges_become_distributions_whose_values_are_the_decimal_grid(tmp_path):
    # Arrange
    space = _space(
        tmp_path,
        "symbol: GER40\n"
        "grid:\n"
        '  ib_end: {start: "09:15", stop: "10:30", step: 15}\n'
        "  sl_mult: {start: 0.1, stop: 0.9, step: 0.1}\n"
        "  max_trades_per_day: {start: 1, stop: 3, step: 1}\n"
        "  direction: [both, long]\n",
    )

    # Act
    dists = space.distributions()
    values = {p["sl_mult"] for p, _ in _points(space, 300)}

    # Assert
    assert dists["ib_end"] == optuna.distributions.IntDistribution(555, 630, step=15)
    assert dists["sl_mult"] == optuna.distributions.FloatDistribution(0.1, 0.9, step=0.1)
    assert dists["max_trades_per_day"] == optuna.distributions.IntDistribution(1, 3, step=1)
    assert values == {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}  # never 0.30000000000000004
    assert space.size() == 6 * 9 * 3 * 2


def test_a_point_is_the_defaults_the_fixed_params_and_the_sampled_ones(tmp_path):
    space = _space(
        tmp_path,
        'symbol: GER40\nparams: {trade_end: "17:30"}\ngrid:\n  tp_mult: [1.0, 2.0]\n',
    )

    (combo, reason), *_ = _points(space, 1)

    assert reason is None
    assert combo["trade_end"] == "17:30" and combo["tp_mult"] in (1.0, 2.0)
    assert combo["ib_start"] == DEFAULTS["symbols"]["GER40"]["params"]["ib_start"]
    assert set(combo) == set(DEFAULTS["symbols"]["GER40"]["params"])


def test_constraints_and_invariants_make_a_point_infeasible(tmp_path):
    space = _space(
        tmp_path,
        "symbol: GER40\n"
        "grid:\n"
        '  ib_start: ["08:00", "09:00", "10:00"]\n'
        '  ib_end: ["09:00", "10:00"]\n'
        "  sl_mult: [1.0, 2.0]\n"
        "  tp_mult: [1.0, 2.0]\n"
        "constraints: ['tp_mult >= sl_mult']\n",
    )

    points = _points(space, 200)

    reasons = {r for _, r in points if r}
    assert any("tp_mult >= sl_mult" in r for r in reasons)
    assert any("ib_start < ib_end" in r for r in reasons)  # spec section 2's invariant
    for combo, reason in points:
        if reason is None:
            assert combo["tp_mult"] >= combo["sl_mult"] and combo["ib_start"] < combo["ib_end"]


def test_continuous_float_range_and_blocks_as_a_conditional_space(tmp_path):
    space = _space(
        tmp_path,
        "symbol: GER40\n"
        "blocks:\n"
        "  - grid: {entry_buffer: {start: 0.0, stop: 0.2}, direction: [long]}\n"
        "  - grid: {sl_mult: [0.5, 1.0]}\n"
        "    params: {direction: short}\n",
    )

    points = [c for c, _ in _points(space, 100)]

    assert "block" in space.distributions() and space.size() is None
    assert space.distributions()["b0.entry_buffer"] == optuna.distributions.FloatDistribution(
        0.0, 0.2
    )
    longs = [c for c in points if c["direction"] == "long"]
    shorts = [c for c in points if c["direction"] == "short"]
    assert longs and shorts
    assert len({c["entry_buffer"] for c in longs}) == len(longs)  # continuous values
    assert {c["sl_mult"] for c in shorts} <= {0.5, 1.0}


def test_a_groups_file_is_a_space_of_its_groups(tmp_path):
    groups = tmp_path / "g.json"
    groups.write_text(
        json.dumps(
            {
                "symbol": "GER40",
                "groups": [
                    {"group_id": "a", "params": {"ib_end": "10:00"}, "grid": {"sl_mult": [1, 2]}},
                    {"group_id": "b", "params": {"ib_end": "09:30"}, "grid": {"tp_mult": [3]}},
                ],
            }
        )
    )

    space = load_space(None, groups, None, DEFAULTS)
    points = [c for c, _ in _points(space, 60)]

    assert space.kind == "groups" and len(space.blocks) == 2 and space.size() == 3
    assert {(c["ib_end"], c["sl_mult"]) for c in points if c["ib_end"] == "10:00"} <= {
        ("10:00", 1),
        ("10:00", 2),
    }
    assert {c["tp_mult"] for c in points if c["ib_end"] == "09:30"} == {3}


def test_numerically_equal_points_have_one_key(tmp_path):
    base = dict(DEFAULTS["symbols"]["GER40"]["params"], weekdays=[0, 1, 2, 3, 4])
    assert combination_key({**base, "sl_mult": 1}) == combination_key({**base, "sl_mult": 1.0})
    assert combination_key({**base, "sl_mult": 1}) != combination_key({**base, "sl_mult": 1.5})


@pytest.mark.parametrize(
    "grid, says",
    [
        ("  sl_mlt: [1.0]\n", "unknown parameter (did you mean 'sl_mult'?)"),
        ("  ib_end: {start: '09:00', stop: '10:00'}\n", "ib_end takes whole numbers (minutes)"),
        ("  max_trades_per_day: {start: 1, stop: 3}\n", "give a step"),
        ("  sl_mult: {start: 0.0, stop: 2.0}\n", "must be > 0"),
        ("  ib_end: [10:00]\n", 'quote times in YAML: "09:30"'),
        ("  sl_mult: [1.0, 1]\n", "listed twice"),
        ("  direction: [both, up]\n", "'up' is not one of both, long, short"),
        ("  tp_mult: {start: 1, stop: 0.5, step: 0.5}\n", "below start"),
    ],
)
def test_bad_space_is_one_line_naming_the_field(tmp_path, grid, says):
    with pytest.raises(SpaceError) as caught:
        _space(tmp_path, "symbol: GER40\ngrid:\n" + grid)

    message = str(caught.value)
    assert says in message and "\n" not in message
    assert str(tmp_path / "space.yaml") in message


def test_a_constraint_of_mismatched_types_is_bad_input_before_the_search(tmp_path):
    with pytest.raises(SpaceError, match="fails on"):
        _space(tmp_path, "symbol: GER40\ngrid: {sl_mult: [1.0]}\nconstraints: ['direction > 1']\n")


DRAWN = """\
symbol: GER40
blocks:
  - grid:
      ib_end: {start: "09:15", stop: "10:30", step: 15}
      sl_mult: {start: 0.3, stop: 1.25, step: 0.05}
      direction: [both, long]
      weekdays: [[0, 1, 2], [3, 4]]
    constraints: ["tp_mult == 0 or tp_mult >= sl_mult"]
  - params: {direction: short}
    grid:
      entry_buffer: {start: 0.0, stop: 0.2}
      max_trades_per_day: {start: 1, stop: 3, step: 1}
"""


def test_a_batch_drawn_at_once_is_what_sampling_those_values_gives(tmp_path):
    space = _space(tmp_path, DRAWN)
    rng = np.random.default_rng(7)

    drawn = space.draw(rng, 3000)

    seen: dict[str, set] = {}
    for point in drawn:
        rows, reason, block = space.sample(optuna.trial.FixedTrial(point.params))
        assert (point.rows, point.reason) == (rows, reason)
        assert point.distributions == {
            k: v for k, v in space.distributions().items() if k in point.params
        }
        for key, value in point.params.items():
            dist = point.distributions[key]
            assert dist._contains(dist.to_internal_repr(value)), (key, value)
            seen.setdefault(key, set()).add(value)
    # every value of every discrete axis is drawn (uniformly: 3000 draws over <= 20 values)
    for key, dist in space.distributions().items():
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            assert seen[key] == set(dist.choices), key
        elif dist.step is not None:
            count = round((dist.high - dist.low) / dist.step) + 1
            assert len(seen[key]) == count, key
    again = space.draw(np.random.default_rng(7), 3000)
    assert [p.params for p in again] == [p.params for p in drawn]
    assert any(p.rows is None for p in drawn) and any(p.rows is not None for p in drawn)
