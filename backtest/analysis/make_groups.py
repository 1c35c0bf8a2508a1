"""Cut a parameter grid into cost-balanced groups (a groups file, io-contract.md).

The grid (YAML, docs/ANALYSIS.md) names per parameter a list of values or an
inclusive range ``{start, stop, step}``, fixed ``params`` and optional
``constraints`` such as ``"tp_mult >= sl_mult"``. The valid combinations are
decomposed into *units*: cartesian blocks (fixed params + a cartesian grid),
which is what one groups-file entry can express. Two plans are made and the
better balanced one is kept (fewer groups-file entries break near-ties):

- LPT: units are halved until small, then spread over ``n_groups`` groups
  (LPT greedy, then moves/swaps that even the loads out, then equal-cost swaps
  that let units of one group merge into fewer entries), so that
  ``max group cost - min group cost <= cost of the largest unit``;
- guillotine (when there are no more units than groups): each unit gets a
  share of the groups by cost and is cut into that many cartesian blocks, one
  block per group (each group is then one unit: the bound holds trivially).

Units of one group that merge into a single cartesian block are written as one
entry ``group_{SYMBOL}_{NNN}``; otherwise as sub-groups ``group_{SYMBOL}_{NNN}_{k}``.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import operator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from backtest.core.config import read_yaml_mapping
from backtest.strategy.params import (
    TIME_PARAMS,
    ParamError,
    check_names,
    parse_hhmm,
    resolve_params,
)

MAX_COMBINATIONS = 2_000_000
# Units are split until the largest is at most this share of the ideal group cost.
GRANULARITY = 0.25
# Partitions whose cost spreads differ by less than this share of the ideal
# group cost count as equally balanced; then the one with fewer entries wins.
SPREAD_TOLERANCE = 0.05


class GridError(ValueError):
    """A grid file or grid value that cannot be turned into groups."""


# --------------------------------------------------------------------------- grid values


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GridError(f"{where}: {value!r} is not a number")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise GridError(f"{where}: {value!r} is not a number") from None
    if not out.is_finite():
        raise GridError(f"{where}: {value!r} is not a finite number")
    return out


def range_values(spec: dict[str, Any], where: str) -> list[int | float]:
    """``{start, stop, step}`` as values, stop inclusive, computed in decimal.

    All-integer bounds give ints; otherwise floats of the exact decimal
    (``0.1`` steps give ``0.3``, never ``0.30000000000000004``).
    """
    unknown = set(spec) - {"start", "stop", "step"}
    missing = [k for k in ("start", "stop", "step") if k not in spec]
    if unknown or missing:
        raise GridError(
            f"{where}: a range needs exactly start, stop, step "
            f"(missing: {missing or '-'}, unknown: {sorted(unknown) or '-'})"
        )
    start, stop, step = (_decimal(spec[k], f"{where}.{k}") for k in ("start", "stop", "step"))
    if step <= 0:
        raise GridError(f"{where}.step: {spec['step']!r} must be > 0")
    if stop < start:
        raise GridError(f"{where}: stop {spec['stop']!r} is below start {spec['start']!r}")
    count = int((stop - start) / step) + 1
    if count > MAX_COMBINATIONS:
        raise GridError(f"{where}: {count} values is too many")
    integral = all(
        isinstance(spec[k], int) and not isinstance(spec[k], bool)
        for k in ("start", "stop", "step")
    )
    values = [start + i * step for i in range(count)]
    return [int(v) if integral else float(v) for v in values]


def _axis_values(name: str, raw: Any, where: str) -> list[Any]:
    if isinstance(raw, dict):
        values = range_values(raw, f"{where}.{name}")
    elif isinstance(raw, list):
        values = list(raw)
    else:
        raise GridError(
            f"{where}.{name}: expected a list of values or {{start, stop, step}}, got {raw!r}"
        )
    if not values:
        raise GridError(f"{where}.{name}: no values")
    keys = [json.dumps(v, sort_keys=True) for v in values]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise GridError(f"{where}.{name}: value {dup} is listed twice")
    return values


# --------------------------------------------------------------------------- constraints

_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITH = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class Constraint:
    """A boolean expression over parameter names, parsed with :mod:`ast`.

    Allowed: names of parameters, numbers, strings, booleans, comparisons,
    ``and``/``or``/``not``, unary ``-``/``+`` and ``+ - * /``. Anything else
    (calls, attributes, subscripts, ...) is refused when parsed; it is never
    handed to ``eval``.
    """

    def __init__(self, text: str, where: str):
        self.text = text
        self.where = where
        if not isinstance(text, str):
            raise GridError(f"{where}: constraint {text!r} is not a string")
        try:
            self.tree = ast.parse(text, mode="eval").body
        except SyntaxError as exc:
            raise GridError(
                f"{where}: constraint {text!r} is not an expression: {exc.msg}"
            ) from None
        self.names: set[str] = set()
        self._check(self.tree)
        check_names({n: None for n in self.names}, f"{where}: constraint {text!r}")

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self.names.add(node.id)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float, str, bool)):
                self._refuse(node)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self._check(value)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
            self._check(node.operand)
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            self._check(node.left)
            for comp in node.comparators:
                self._check(comp)
        else:
            self._refuse(node)

    def _refuse(self, node: ast.AST) -> None:
        raise GridError(
            f"{self.where}: constraint {self.text!r}: '{ast.unparse(node)}' is not "
            "allowed (only parameter names, numbers, strings, comparisons, "
            "and/or/not, + - * /)"
        )

    def __call__(self, params: dict[str, Any]) -> bool:
        try:
            return bool(self._eval(self.tree, params))
        except (TypeError, ZeroDivisionError) as exc:
            raise GridError(
                f"{self.where}: constraint {self.text!r} fails on "
                f"{json.dumps(params, sort_keys=True)}: {exc}"
            ) from None

    def _eval(self, node: ast.AST, params: dict[str, Any]) -> Any:
        if isinstance(node, ast.Name):
            return params[node.id]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BoolOp):
            values = (self._eval(v, params) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, params)
            if isinstance(node.op, ast.Not):
                return not value
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BinOp):
            return _ARITH[type(node.op)](
                self._eval(node.left, params), self._eval(node.right, params)
            )
        assert isinstance(node, ast.Compare), "_check admits no other node"
        left = self._eval(node.left, params)
        for op, comp in zip(node.ops, node.comparators):
            right = self._eval(comp, params)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True


# --------------------------------------------------------------------------- cost model


def combo_cost(params: dict[str, Any]) -> float:
    """Estimated run time of one resolved combination, in arbitrary units.

    The kernel walks each day's bars from ``ib_start`` to ``close_time`` and
    re-arms after every exit, so the cost is the walked hours of the day times
    ``1 + 0.25 × (max_trades_per_day − 1)``.
    """
    minutes = parse_hhmm(params["close_time"]) - parse_hhmm(params["ib_start"])
    return max(minutes, 1) / 60.0 * (1.0 + 0.25 * (params["max_trades_per_day"] - 1))


# --------------------------------------------------------------------------- units

Block = tuple[tuple[int, ...], ...]  # per grid axis, the value indices of a cartesian block


def _block_size(block: Block) -> int:
    return math.prod(len(axis) for axis in block)


def _cartesian_blocks(combos: list[tuple[int, ...]], n_axes: int) -> list[Block]:
    """Split a set of index tuples into cartesian blocks (few, large ones).

    A set that is the full product of its per-axis values is one block;
    otherwise it is split by the values of the axis whose slices are most
    often cartesian themselves (ties: fewer values), recursively.
    """
    axes = tuple(tuple(sorted({c[a] for c in combos})) for a in range(n_axes))
    if _block_size(axes) == len(combos):
        return [axes]

    def slices(axis: int) -> dict[int, list[tuple[int, ...]]]:
        out: dict[int, list[tuple[int, ...]]] = {}
        for combo in combos:
            out.setdefault(combo[axis], []).append(combo)
        return out

    def score(axis: int) -> tuple[float, int]:
        parts = slices(axis).values()
        cartesian = sum(
            _block_size(tuple(tuple({c[a] for c in part}) for a in range(n_axes))) == len(part)
            for part in parts
        )
        return (cartesian / len(parts), -len(parts))

    split_axis = max((a for a in range(n_axes) if len(axes[a]) > 1), key=score)
    out: list[Block] = []
    for _, part in sorted(slices(split_axis).items()):
        out.extend(_cartesian_blocks(part, n_axes))
    return out


def _halve(block: Block) -> tuple[Block, Block]:
    """Split a block in two along its axis with the most values."""
    axis = max(range(len(block)), key=lambda a: len(block[a]))
    values = block[axis]
    mid = len(values) // 2
    first, second = list(block), list(block)
    first[axis], second[axis] = values[:mid], values[mid:]
    return tuple(first), tuple(second)


def _merge_blocks(blocks: list[Block]) -> list[Block]:
    """Join blocks that differ on one axis only (their union is cartesian)."""
    blocks = list(blocks)
    merged = True
    while merged:
        merged = False
        for i, j in itertools.combinations(range(len(blocks)), 2):
            a, b = blocks[i], blocks[j]
            differ = [k for k in range(len(a)) if a[k] != b[k]]
            if len(differ) <= 1:
                joined = list(a)
                if differ:
                    joined[differ[0]] = tuple(sorted(set(a[differ[0]]) | set(b[differ[0]])))
                blocks[i] = tuple(joined)
                del blocks[j]
                merged = True
                break
    return sorted(blocks)


# --------------------------------------------------------------------------- partition


def partition(costs: list[float], n_groups: int) -> list[list[int]]:
    """Unit indices per group: LPT greedy, then moves and swaps that even loads.

    Any list schedule ends with ``max load - min load <= largest cost`` (the
    last unit put on the fullest group went onto the then emptiest one);
    an improvement moves (or swaps) units between the fullest and the emptiest
    group so that both end strictly inside their old range: the spread never
    widens, the sum of squared loads falls, and the guarantee holds.
    """
    order = sorted(range(len(costs)), key=lambda i: (-costs[i], i))
    groups: list[list[int]] = [[] for _ in range(n_groups)]
    loads = [0.0] * n_groups
    for i in order:
        g = min(range(n_groups), key=lambda k: (loads[k], k))
        groups[g].append(i)
        loads[g] += costs[i]

    for _ in range(10 * len(costs) + 10):
        hi = max(range(n_groups), key=lambda k: loads[k])
        lo = min(range(n_groups), key=lambda k: loads[k])
        gap = loads[hi] - loads[lo]
        best: tuple[float, int | None, int | None] = (0.0, None, None)
        for a in groups[hi]:
            for b in [None, *groups[lo]]:
                delta = costs[a] - (costs[b] if b is not None else 0.0)
                if 0 < delta < gap and abs(gap - 2 * delta) < gap - best[0] - 1e-12:
                    best = (gap - abs(gap - 2 * delta), a, b)
        _, from_hi, from_lo = best
        if from_hi is None:
            break
        moved = [(hi, lo, from_hi)] + ([(lo, hi, from_lo)] if from_lo is not None else [])
        for src, dst, unit in moved:
            groups[src].remove(unit)
            groups[dst].append(unit)
            loads[src] -= costs[unit]
            loads[dst] += costs[unit]
    return [sorted(g) for g in groups]


def apportion(costs: list[float], sizes: list[int], n_groups: int) -> list[int]:
    """Groups per unit: one each, then each further group to the unit with the
    highest cost per group (never more groups than combinations)."""
    counts = [1] * len(costs)
    for _ in range(n_groups - len(costs)):
        open_units = [i for i in range(len(costs)) if counts[i] < sizes[i]]
        if not open_units:
            break
        best = max(open_units, key=lambda i: (costs[i] / counts[i], -i))
        counts[best] += 1
    return counts


def bisect_block(block: Block, k: int, cost_of: dict[tuple[int, ...], float]) -> list[Block]:
    """Cut a cartesian block into ``k`` cartesian blocks of near-equal cost.

    Recursive guillotine cuts: the block is cut across one axis between two
    of its values into parts for ``k1`` and ``k - k1`` groups, choosing axis,
    place and ``k1`` so that both parts' cost per group is nearest the whole's.
    """
    if k <= 1 or _block_size(block) <= 1:
        return [block]
    combos = list(itertools.product(*block))
    total = sum(cost_of[c] for c in combos)
    per_group = total / k
    best: tuple[float, int, int, int] | None = None
    for axis, values in enumerate(block):
        if len(values) < 2:
            continue
        per_value = {v: 0.0 for v in values}
        for combo in combos:
            per_value[combo[axis]] += cost_of[combo]
        other = _block_size(block) // len(values)
        left = 0.0
        for cut in range(1, len(values)):
            left += per_value[values[cut - 1]]
            for k1 in range(max(1, k - (len(values) - cut) * other), min(k - 1, cut * other) + 1):
                miss = max(abs(left / k1 - per_group), abs((total - left) / (k - k1) - per_group))
                if best is None or miss < best[0] - 1e-12:
                    best = (miss, axis, cut, k1)
    if best is None:
        return [block]
    _, axis, cut, k1 = best
    first, second = list(block), list(block)
    first[axis], second[axis] = block[axis][:cut], block[axis][cut:]
    return bisect_block(tuple(first), k1, cost_of) + bisect_block(tuple(second), k - k1, cost_of)


# --------------------------------------------------------------------------- plan


@dataclass
class GroupPlan:
    """The result of cutting a grid: groups with their units and costs."""

    symbol: str
    fixed: dict[str, Any]
    axes: list[tuple[str, list[Any]]]  # grid parameter name, its values
    units: list[Block]
    unit_costs: list[float]
    groups: list[list[int]]  # unit indices per group
    combinations: int

    @property
    def group_costs(self) -> list[float]:
        return [sum(self.unit_costs[u] for u in g) for g in self.groups]

    @property
    def largest_unit_cost(self) -> float:
        return max(self.unit_costs)

    def _entry(self, group_id: str, block: Block) -> dict[str, Any]:
        params = dict(self.fixed)
        grid: dict[str, list[Any]] = {}
        for (name, values), index in zip(self.axes, block):
            if len(index) == 1:
                params[name] = values[index[0]]
            else:
                grid[name] = [values[i] for i in index]
        entry: dict[str, Any] = {"group_id": group_id, "params": params}
        if grid:
            entry["grid"] = grid
        return entry

    def groups_file(self) -> dict[str, Any]:
        """The groups-file object: one entry per cartesian block of each group."""
        out = []
        for number, units in enumerate(self.groups, start=1):
            base = f"group_{self.symbol}_{number:03d}"
            blocks = _merge_blocks([self.units[u] for u in units])
            if len(blocks) == 1:
                out.append(self._entry(base, blocks[0]))
            else:
                out.extend(self._entry(f"{base}_{k}", b) for k, b in enumerate(blocks, start=1))
        return {"symbol": self.symbol, "groups": out}


def _check_times(named_values: list[tuple[str, list[Any]]]) -> None:
    """YAML reads an unquoted 09:30 as the number 570: say so instead of a puzzle."""
    for label, values in named_values:
        if label.rsplit(".", 1)[-1] in TIME_PARAMS:
            for value in values:
                if isinstance(value, int) and not isinstance(value, bool):
                    raise GridError(
                        f'{label}: {value} is not a time HH:MM (quote times in YAML: "09:30")'
                    )


def load_grid(path: Path) -> dict[str, Any]:
    """Read a grid YAML file (a mapping); errors name the file."""
    path = Path(path)
    if not path.exists():
        raise GridError(f"{path}: grid file not found")
    return read_yaml_mapping(path, GridError)


def plan_groups(
    symbol: str,
    grid_spec: dict[str, Any],
    n_groups: int,
    cfg: dict[str, Any] | None = None,
    where: str = "grid",
) -> GroupPlan:
    """Expand, filter and validate the grid, then partition it (see module doc)."""
    unknown = set(grid_spec) - {"symbol", "params", "grid", "constraints"}
    if unknown:
        raise GridError(
            f"{where}: unknown key(s) {sorted(unknown)} (known: symbol, params, grid, constraints)"
        )
    if grid_spec.get("symbol") not in (None, symbol):
        raise GridError(f"{where}: symbol {grid_spec['symbol']!r} differs from {symbol!r}")
    if isinstance(n_groups, bool) or not isinstance(n_groups, int) or n_groups < 1:
        raise GridError(f"{where}: number of groups {n_groups!r} must be a whole number >= 1")
    fixed = grid_spec.get("params") or {}
    raw_grid = grid_spec.get("grid") or {}
    if not isinstance(fixed, dict) or not isinstance(raw_grid, dict):
        raise GridError(f"{where}: 'params' and 'grid' must be mappings")
    try:
        check_names(fixed, f"{where}.params")
        check_names(raw_grid, f"{where}.grid")
    except ParamError as exc:
        raise GridError(str(exc)) from None
    both = set(fixed) & set(raw_grid)
    if both:
        raise GridError(f"{where}: {sorted(both)} in both 'params' and 'grid'")
    axes = [(name, _axis_values(name, raw, f"{where}.grid")) for name, raw in raw_grid.items()]
    _check_times(
        [(f"{where}.params.{n}", [v]) for n, v in fixed.items()]
        + [(f"{where}.grid.{n}", values) for n, values in axes]
    )
    total = math.prod(len(v) for _, v in axes)
    if total > MAX_COMBINATIONS:
        raise GridError(f"{where}: {total} combinations is more than {MAX_COMBINATIONS}")
    raw_constraints = grid_spec.get("constraints") or []
    if isinstance(raw_constraints, str):
        raw_constraints = [raw_constraints]
    constraints = [
        Constraint(text, f"{where}.constraints[{i}]") for i, text in enumerate(raw_constraints)
    ]

    kept: list[tuple[int, ...]] = []
    cost_of: dict[tuple[int, ...], float] = {}
    for index in itertools.product(*(range(len(v)) for _, v in axes)):
        overrides = dict(fixed)
        overrides.update({name: values[i] for (name, values), i in zip(axes, index)})
        label = json.dumps({name: overrides[name] for name, _ in axes}, sort_keys=True)
        try:
            params = resolve_params(symbol, overrides, f"{where}: combination {label}", cfg)
        except ParamError as exc:
            raise GridError(str(exc)) from None
        if all(c(params) for c in constraints):
            kept.append(index)
            cost_of[index] = combo_cost(params)
    if not kept:
        raise GridError(f"{where}: the constraints leave no combination")

    base: list[Block] = _cartesian_blocks(kept, len(axes)) if axes else [()]

    def unit_cost(block: Block) -> float:
        return sum(cost_of[i] for i in itertools.product(*block))

    n_groups = min(n_groups, len(kept))
    ideal = sum(cost_of.values()) / n_groups
    candidates = [_lpt_plan(base, unit_cost, n_groups, GRANULARITY * ideal)]
    if len(base) <= n_groups:
        counts = apportion([unit_cost(u) for u in base], [_block_size(u) for u in base], n_groups)
        blocks = [b for unit, k in zip(base, counts) for b in bisect_block(unit, k, cost_of)]
        candidates.append(
            (blocks, [unit_cost(b) for b in blocks], [[i] for i in range(len(blocks))])
        )

    def score(candidate: tuple[list[Block], list[float], list[list[int]]]) -> tuple[int, int]:
        units, costs, groups = candidate
        loads = [sum(costs[u] for u in g) for g in groups]
        entries = sum(len(_merge_blocks([units[u] for u in g])) for g in groups)
        return round((max(loads) - min(loads)) / (SPREAD_TOLERANCE * ideal)), entries

    units, costs, groups = min(candidates, key=score)
    return GroupPlan(symbol, dict(fixed), axes, units, costs, groups, len(kept))


def _lpt_plan(
    base: list[Block], unit_cost, n_groups: int, target: float
) -> tuple[list[Block], list[float], list[list[int]]]:
    """Halve the costliest unit until units are at most ``target`` (and at
    least ``n_groups`` of them), then :func:`partition` them."""
    units = list(base)
    costs = [unit_cost(u) for u in units]
    while True:
        big = max(range(len(units)), key=lambda k: costs[k])
        if (costs[big] <= target and len(units) >= n_groups) or _block_size(units[big]) == 1:
            break
        halves = _halve(units[big])
        units[big : big + 1] = halves
        costs[big : big + 1] = [unit_cost(h) for h in halves]
    groups = partition(costs, n_groups)
    return units, costs, defragment(units, costs, groups)


def defragment(units: list[Block], costs: list[float], groups: list[list[int]]) -> list[list[int]]:
    """Swap units of equal cost between groups where that brings a unit next
    to one it merges with (fewer entries; every group's load unchanged)."""
    groups = [list(g) for g in groups]
    group_of = {u: g for g, members in enumerate(groups) for u in members}
    neighbours: dict[int, set[int]] = {u: set() for u in range(len(units))}
    for axis in range(len(units[0]) if units else 0):
        rest: dict[Block, list[int]] = {}
        for u, block in enumerate(units):
            rest.setdefault(block[:axis] + block[axis + 1 :], []).append(u)
        for members in rest.values():
            for u in members:
                neighbours[u].update(m for m in members if m != u)

    def entries(group: list[int]) -> int:
        return len(_merge_blocks([units[u] for u in group]))

    count = [entries(g) for g in groups]
    improved = True
    while improved:
        improved = False
        for a in range(len(units)):
            g1 = group_of[a]
            for n in sorted(neighbours[a]):
                g2 = group_of[n]
                if g2 == g1:
                    continue
                swap = next(
                    (
                        x
                        for x in groups[g1]
                        if x != a
                        and not neighbours[x] & set(groups[g1])
                        and math.isclose(costs[x], costs[n], rel_tol=1e-12, abs_tol=1e-12)
                    ),
                    None,
                )
                if swap is None:
                    continue
                new1 = sorted([u for u in groups[g1] if u != swap] + [n])
                new2 = sorted([u for u in groups[g2] if u != n] + [swap])
                e1, e2 = entries(new1), entries(new2)
                if e1 + e2 < count[g1] + count[g2]:
                    groups[g1], groups[g2], count[g1], count[g2] = new1, new2, e1, e2
                    group_of[n], group_of[swap] = g1, g2
                    improved = True
                    break
    return groups


def make_groups(
    symbol: str, grid_spec: dict[str, Any], n_groups: int, cfg: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The groups-file object for ``grid_spec`` cut into ``n_groups`` balanced groups."""
    return plan_groups(symbol, grid_spec, n_groups, cfg).groups_file()
