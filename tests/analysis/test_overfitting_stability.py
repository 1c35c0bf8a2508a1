"""Grid-neighbour stability: hand-made grids, missing cells, groups, non-numeric keys."""

import itertools

import numpy as np
import pandas as pd
import pytest

from backtest.analysis.overfitting import neighbour_stability

#   objective     b=0.5  b=1.0  b=1.5
#   a=1             1      5      2
#   a=2             4      9      3
#   a=3             0      6      8
GRID = {(1, 0.5): 1, (1, 1.0): 5, (1, 1.5): 2, (2, 0.5): 4, (2, 1.0): 9, (2, 1.5): 3,
        (3, 0.5): 0, (3, 1.0): 6, (3, 1.5): 8}  # fmt: skip


def grid_frame(cells, **constant):
    params = pd.DataFrame([{"a": a, "b": b, **constant} for a, b in cells])
    return params, np.array([float(GRID[c]) for c in cells])


def row(out, params, a, b):
    return out[(params["a"] == a).to_numpy() & (params["b"] == b).to_numpy()].iloc[0]


def test_three_by_three_grid_corner_edge_centre():
    cells = [(3, 1.5), (1, 0.5), (2, 1.0), (1, 1.0), (3, 0.5), (2, 1.5), (1, 1.5), (2, 0.5),
             (3, 1.0)]  # fmt: skip
    params, obj = grid_frame(cells)
    params.index = [f"combo{i}" for i in range(9)]

    out = neighbour_stability(params, obj, ["a", "b"])

    assert list(out.index) == list(params.index)
    # corner (1, 0.5) = 1: neighbours (2, 0.5) = 4 and (1, 1.0) = 5
    corner = row(out, params, 1, 0.5)
    assert (corner.neighbours, corner.neighbour_mean, corner.neighbour_min) == (2, 4.5, 4.0)
    assert corner.plateau == pytest.approx(10 / 3)
    # edge (1, 1.0) = 5: neighbours 1, 2 and (2, 1.0) = 9
    edge = row(out, params, 1, 1.0)
    assert (edge.neighbours, edge.neighbour_mean, edge.neighbour_min, edge.plateau) == (
        3, 4.0, 1.0, 4.25)  # fmt: skip
    # centre (2, 1.0) = 9: neighbours 5, 6, 4, 3
    centre = row(out, params, 2, 1.0)
    assert (centre.neighbours, centre.neighbour_mean, centre.neighbour_min) == (4, 4.5, 3.0)
    assert centre.plateau == pytest.approx(27 / 5)
    counts = {c: int(n) for c, n in zip(cells, out["neighbours"])}
    assert counts == {c: 2 + (c[0] == 2) + (c[1] == 1.0) for c in cells}


def test_missing_cell_means_fewer_neighbours_and_no_jump_over_it():
    cells = [c for c in GRID if c != (2, 1.0)]
    params, obj = grid_frame(cells)

    out = neighbour_stability(params, obj, ["a", "b"])

    edge = row(out, params, 1, 1.0)  # 5: only 1 and 2 remain
    assert (edge.neighbours, edge.neighbour_mean, edge.neighbour_min) == (2, 1.5, 1.0)
    left = row(out, params, 2, 0.5)  # 4: (1, 0.5) = 1 and (3, 0.5) = 0; no step to (2, 1.5)
    assert (left.neighbours, left.neighbour_mean, left.neighbour_min) == (2, 0.5, 0.0)
    right = row(out, params, 2, 1.5)  # 3: (1, 1.5) = 2 and (3, 1.5) = 8
    assert (right.neighbours, right.neighbour_mean) == (2, 5.0)


def test_two_groups_of_one_run_concatenated_find_neighbours_across():
    first, obj_first = grid_frame([c for c in GRID if c[0] < 3])
    second, obj_second = grid_frame([c for c in GRID if c[0] == 3])
    params = pd.concat([first, second])  # index 0..5 then 0..2 again
    obj = np.concatenate([obj_first, obj_second])

    out = neighbour_stability(params, obj, ["a", "b"])

    assert out.index.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2]
    centre = out.iloc[4]  # (2, 1.0) = 9, its (3, 1.0) = 6 neighbour is in the second group
    assert (centre.neighbours, centre.neighbour_mean, centre.neighbour_min) == (4, 4.5, 3.0)
    bottom = out.iloc[7]  # (3, 1.0) = 6: 0, 8 and (2, 1.0) = 9 from the first group
    assert (bottom.neighbours, bottom.neighbour_mean, bottom.neighbour_min) == (3, 17 / 3, 0.0)


def test_non_numeric_columns_split_the_neighbourhoods():
    nine, obj_nine = grid_frame(list(GRID), entry="09:00", side="both", levels="[1, 2]")
    ten, obj_ten = grid_frame(list(GRID), entry="10:00", side="both", levels="[1, 2]")
    lone, obj_lone = grid_frame([(2, 1.0)], entry="09:00", side="both", levels="[3]")
    params = pd.concat([nine, ten, lone], ignore_index=True)
    obj = np.concatenate([obj_nine, obj_ten + 100.0, obj_lone - 50.0])

    out = neighbour_stability(params, obj, ["a", "b"])

    centre_nine, centre_ten, alone = out.iloc[4], out.iloc[13], out.iloc[18]
    assert (centre_nine.neighbours, centre_nine.neighbour_mean) == (4, 4.5)
    assert (centre_ten.neighbours, centre_ten.neighbour_mean) == (4, 104.5)
    # no neighbour: mean and min are NaN, the plateau is the combination's own value
    assert alone.neighbours == 0
    assert np.isnan(alone.neighbour_mean) and np.isnan(alone.neighbour_min)
    assert alone.plateau == 9.0 - 50.0
    assert not out["plateau"].isna().any()


def test_nan_parameter_is_an_equal_value_that_is_never_stepped():
    params = pd.DataFrame({"a": [1, 2, 1, 2], "b": [np.nan, np.nan, 1.0, 2.0]})

    out = neighbour_stability(params, np.array([1.0, 2.0, 3.0, 4.0]), ["a", "b"])

    assert out["neighbours"].tolist() == [1, 1, 0, 0]
    assert out["neighbour_mean"].iloc[:2].tolist() == [2.0, 1.0]


def test_matches_a_dictionary_reference_on_a_sparse_random_grid():
    rng = np.random.default_rng(2)
    values = {"x": [5, 10, 20], "y": [0.1, 0.2, 0.4, 0.8], "z": [1, 2], "side": ["l", "s", "b"]}
    cells = [c for c in itertools.product(*values.values()) if rng.random() < 0.6]
    params = pd.DataFrame(cells, columns=list(values)).sample(frac=1.0, random_state=3)
    obj = rng.normal(size=len(params))

    out = neighbour_stability(params, obj, ["x", "y", "z"])

    lookup = {tuple(r): v for r, v in zip(params.itertuples(index=False), obj)}
    levels = {c: sorted(params[c].unique()) for c in ("x", "y", "z")}
    for (_, r), v, (_, got) in zip(params.iterrows(), obj, out.iterrows()):
        found = []
        for j, c in enumerate(("x", "y", "z")):
            k = levels[c].index(r[c])
            for step in (-1, 1):
                if 0 <= k + step < len(levels[c]):
                    key = list(r)
                    key[j] = levels[c][k + step]
                    if tuple(key) in lookup:
                        found.append(lookup[tuple(key)])
        assert got.neighbours == len(found)
        assert got.plateau == pytest.approx((v + sum(found)) / (1 + len(found)))
        if found:
            assert got.neighbour_mean == pytest.approx(np.mean(found))
            assert got.neighbour_min == min(found)


def test_full_grid_of_100k_rows_counts_interior_directions():
    axes = [np.arange(10), np.arange(10) * 0.5, np.arange(10) + 100, np.arange(10) * 3.0]
    grid = np.array(list(itertools.product(*axes)))
    params = pd.DataFrame(grid, columns=["p", "q", "r", "s"]).sample(frac=1.0, random_state=0)

    out = neighbour_stability(params, np.ones(len(params)), ["p", "q", "r", "s"])

    codes = np.column_stack([np.searchsorted(ax, params[c]) for ax, c in zip(axes, "pqrs")])
    expected = ((codes > 0).astype(int) + (codes < 9)).sum(axis=1)
    np.testing.assert_array_equal(out["neighbours"].to_numpy(), expected)
    assert (out["plateau"] == 1.0).all()


def test_bad_inputs_are_refused():
    params, obj = grid_frame(list(GRID))
    with pytest.raises(ValueError, match="duplicate"):
        neighbour_stability(pd.concat([params, params.iloc[:2]]), np.r_[obj, obj[:2]], ["a", "b"])
    with pytest.raises(ValueError, match="not in params"):
        neighbour_stability(params, obj, ["a", "c"])
    with pytest.raises(ValueError, match="finite values"):
        neighbour_stability(params, obj[:-1], ["a", "b"])
