"""Cut parameter grids into exactly N groups of near-equal cost (a groups file, io-contract.md).

A grid (YAML, docs/ANALYSIS.md) names fixed ``params``, per parameter a list of
values or an inclusive range ``{start, stop, step}``, and optional
``constraints`` such as ``"tp_mult >= sl_mult"``; a grid file may hold several
such ``blocks``, and several grid files may be cut together. Each block is
expanded like a groups-file entry (io-contract): the cartesian product in key
order, the constraints drop what they exclude, the invariants of spec section 2
are checked on what is left.

Every written group is one groups-file entry: ``params`` + ``grid`` +
``constraints``. The block's cells (its cartesian product, each axis's values
sorted, a list-valued axis such as ``weekdays`` outermost) are taken in order
(the last axis fastest) and cut into ``k`` consecutive ranges of near-equal
estimated cost; a cell the constraints drop costs nothing. A range is written
as the axes it keeps fixed (``params``), the values it spans (``grid``), the
block's constraints that drop something in it, and where it starts or ends
inside the product, a *carving* constraint (``"sl_mult > 0.75 or (sl_mult ==
0.75 and tp_mult >= 1.5)"``) that keeps exactly its cells. Each boundary sits
within TOLERANCE of its share of the cost where possible, at the position that
starts the most trailing axes (so many ranges need no carving). So every valid
combination is in exactly one group, every group holds at least one, and the
costs differ by at most about one combination's cost plus the tolerance.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from backtest.core.config import DEFAULTS, read_yaml_mapping, shown
from backtest.runner.groups import GROUP_ID
from backtest.strategy.constraints import Constraint, check_block
from backtest.strategy.params import (
    ParamError,
    Resolver,
    TimeOrderError,
    check_listed,
    check_values,
    parse_hhmm,
)

BLOCK_KEYS = ("symbol", "params", "grid", "constraints")
FILE_KEYS = ("symbol", "params", "constraints", "blocks")
# A group boundary may move this share of the ideal group cost away from its exact
# place, to a position where fewer carving constraints are needed.
TOLERANCE = 0.02


class GridError(ValueError):
    """A grid file or grid value that cannot be turned into groups."""


# --------------------------------------------------------------------------- grid values


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GridError(f"{where}: {shown(value)} is not a number")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise GridError(f"{where}: {shown(value)} is not a number") from None
    if not out.is_finite():
        raise GridError(f"{where}: {shown(value)} is not a finite number")
    return out


def _range_spec(spec: dict[str, Any], where: str) -> tuple[Decimal, Decimal, int]:
    """A checked ``{start, stop, step}``: its start, step and number of values (stop
    inclusive), counted without making them."""
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
    return start, step, int((stop - start) / step) + 1


def range_values(spec: dict[str, Any], where: str, limit: int | None = None) -> list[int | float]:
    """``{start, stop, step}`` as values, stop inclusive, computed in decimal.

    All-integer bounds give ints; otherwise floats of the exact decimal
    (``0.1`` steps give ``0.3``, never ``0.30000000000000004``).
    """
    start, step, count = _range_spec(spec, where)
    limit = DEFAULTS["run"]["max_combinations"] if limit is None else limit
    if count > limit:
        raise GridError(f"{where}: {count:,} values is more than {limit:,}")
    integral = all(
        isinstance(spec[k], int) and not isinstance(spec[k], bool)
        for k in ("start", "stop", "step")
    )
    values = [start + i * step for i in range(count)]
    return [int(v) if integral else float(v) for v in values]


def _axis_count(raw: Any, label: str) -> int:
    """How many values a grid axis (a list or a range) has, without making them."""
    if isinstance(raw, dict):
        return _range_spec(raw, label)[2]
    if isinstance(raw, list):
        return len(raw)
    raise GridError(f"{label}: expected a list of values or {{start, stop, step}}, got {raw!r}")


def _axis_values(name: str, raw: Any, where: str, limit: int) -> list[Any]:
    label = f"{where}.{name}"
    _axis_count(raw, label)
    values = range_values(raw, label, limit) if isinstance(raw, dict) else list(raw)
    _grid_checked(check_listed, values, label)
    return values


def _grid_checked(check: Callable[..., None], *args: Any) -> None:
    """``check(*args)`` (a check of backtest.strategy.params), its ParamError a GridError."""
    try:
        check(*args)
    except ParamError as exc:
        raise GridError(str(exc)) from None


# --------------------------------------------------------------------------- cost model


def combo_cost(params: dict[str, Any]) -> float:
    """Estimated run time of one resolved combination, in arbitrary units.

    The kernel walks each day's bars from ``ib_start`` to ``close_time`` and
    re-arms after every exit, so the cost is the walked hours of the day times
    ``1 + 0.25 × (max_trades_per_day − 1)``.
    """
    minutes = parse_hhmm(params["close_time"]) - parse_hhmm(params["ib_start"])
    return max(minutes, 1) / 60.0 * (1.0 + 0.25 * (params["max_trades_per_day"] - 1))


# --------------------------------------------------------------------------- blocks


@dataclass
class Block:
    """One expanded grid block: ``cost`` and ``kept`` are arrays over its cartesian
    product (axis order as written); a cell the constraints drop costs 0, and
    ``dropped_by`` holds the bit mask of the constraints that dropped it."""

    where: str
    symbol: str
    fixed: dict[str, Any]
    axes: list[tuple[str, list[Any]]]
    constraints: list[Constraint]
    cost: np.ndarray
    kept: np.ndarray  # bool
    dropped_by: np.ndarray  # int64 bit masks (all bits: more than 63 constraints)
    keys: set[str] = field(default_factory=set)  # resolved combinations (_combination_key)

    @property
    def combinations(self) -> int:
        return int(self.kept.sum())


def load_grid(path: str | Path) -> dict[str, Any]:
    """Read a grid YAML file (a mapping); errors name the file."""
    path = Path(path)
    if not path.exists():
        raise GridError(f"{path}: grid file not found")
    return read_yaml_mapping(path, GridError)


def grid_blocks(spec: dict[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    """The blocks of one grid file: itself, or its ``blocks`` list (each merged over
    the file's shared ``params`` and ``constraints``), with where each one is."""
    if "blocks" not in spec:
        unknown = [k for k in spec if k not in BLOCK_KEYS]
        if unknown:
            raise GridError(
                f"{where}: unknown key(s) {unknown} (known: {', '.join(BLOCK_KEYS)}, or blocks)"
            )
        return [(where, spec)]
    unknown = [k for k in spec if k not in FILE_KEYS]
    if unknown:
        raise GridError(f"{where}: unknown key(s) {unknown} (known: {', '.join(FILE_KEYS)})")
    blocks = spec["blocks"]
    if not isinstance(blocks, list) or not blocks:
        raise GridError(f"{where}.blocks: must be a non-empty list of blocks")
    shared_params = spec.get("params") or {}
    shared_constraints = spec.get("constraints") or []
    if not isinstance(shared_params, dict) or not isinstance(shared_constraints, (list, str)):
        raise GridError(f"{where}: 'params' must be a mapping and 'constraints' a list")
    if isinstance(shared_constraints, str):
        shared_constraints = [shared_constraints]
    out = []
    for i, block in enumerate(blocks):
        label = f"{where}.blocks[{i}]"
        if not isinstance(block, dict):
            raise GridError(f"{label}: must be a mapping with params, grid, constraints")
        unknown = [k for k in block if k not in BLOCK_KEYS]
        if unknown:
            raise GridError(f"{label}: unknown key(s) {unknown} (known: {', '.join(BLOCK_KEYS)})")
        own = block.get("constraints") or []
        merged = {
            **block,
            "params": {**shared_params, **(block.get("params") or {})},
            "constraints": shared_constraints + ([own] if isinstance(own, str) else own),
        }
        out.append((label, merged))
    return out


def _combination_key(params: dict[str, Any]) -> str:
    """A resolved combination as text, numbers as floats (1 and 1.0 are one value)."""

    def number(value: Any) -> Any:
        if isinstance(value, list):
            return [number(v) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return value

    return json.dumps({k: number(v) for k, v in params.items()}, sort_keys=True)


def _mappings(spec: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A block's ``params`` and ``grid`` (empty when absent), checked to be mappings."""
    fixed = spec.get("params") or {}
    raw_grid = spec.get("grid") or {}
    if not isinstance(fixed, dict) or not isinstance(raw_grid, dict):
        raise GridError(f"{where}: 'params' and 'grid' must be mappings")
    return fixed, raw_grid


def block_size(spec: dict[str, Any], where: str) -> int:
    """A block's combinations before its constraints, counted from its lists' lengths and
    its ranges' start/stop/step: nothing is expanded."""
    _, raw_grid = _mappings(spec, where)
    return math.prod(_axis_count(raw, f"{where}.grid.{n}") for n, raw in raw_grid.items())


def _check_size(total: int, limit: int, where: str) -> None:
    if total > limit:
        raise GridError(
            f"{where}: {total:,} combinations (before constraints) is more than "
            f"run.max_combinations {limit:,}"
        )


def expand_block(
    symbol: str, spec: dict[str, Any], cfg: dict[str, Any] | None, where: str, limit: int
) -> Block:
    """Validate and expand one block (io-contract order); errors name ``where``. Its size
    is checked against ``limit`` first, counted from the lists and ranges (so a grid of
    10^14 combinations is refused at once, not after its axes are made)."""
    if spec.get("symbol") not in (None, symbol):
        raise GridError(f"{where}: symbol {spec['symbol']!r} differs from {symbol!r}")
    fixed, raw_grid = _mappings(spec, where)
    _check_size(block_size(spec, where), limit, where)
    try:
        constraints = check_block(fixed, raw_grid, spec.get("constraints"), where)
    except ParamError as exc:
        raise GridError(str(exc)) from None
    axes = [(n, _axis_values(n, raw, f"{where}.grid", limit)) for n, raw in raw_grid.items()]
    for name, values in axes:
        _grid_checked(check_values, name, values, f"{where}.grid.{name}")
    # Cutting order: list-valued axes (weekdays: no constraint can compare lists)
    # first, then the file's order; each axis's values sorted, so that a range of
    # cells is a comparison.
    axes = [(n, v) for n, v in axes if isinstance(v[0], list)] + [
        (n, sorted(v)) for n, v in axes if not isinstance(v[0], list)
    ]
    shape = tuple(len(v) for _, v in axes)
    cost = np.zeros(shape)
    kept = np.zeros(shape, dtype=bool)
    dropped_by = np.zeros(shape, dtype=np.int64)
    keys: set[str] = set()
    try:
        resolve = Resolver(symbol, cfg, where)
        defaults = resolve.defaults
        for index in itertools.product(*(range(n) for n in shape)):
            chosen = {name: values[i] for (name, values), i in zip(axes, index)}
            overrides = {**fixed, **chosen}
            merged = {**defaults, **overrides}
            mask = 0
            for bit, constraint in enumerate(constraints):
                if not constraint(merged):
                    mask |= 1 << min(bit, 63)
            if mask:
                dropped_by[index] = -1 if len(constraints) > 63 else mask
                continue
            label = f"{where}: combination {', '.join(f'{k}={v!r}' for k, v in chosen.items())}"
            params = resolve(overrides, label)
            cost[index] = combo_cost(params)
            kept[index] = True
            keys.add(_combination_key(params))
    except TimeOrderError as exc:
        raise GridError(
            f"{exc}; to leave such combinations out, add the constraint "
            f'"{exc.relation}" to the grid\'s constraints list'
        ) from None
    except ParamError as exc:
        raise GridError(str(exc)) from None
    if not kept.any():
        raise GridError(f"{where}: the constraints leave no combination")
    return Block(where, symbol, dict(fixed), axes, constraints, cost, kept, dropped_by, keys)


# --------------------------------------------------------------------------- cutting


def _carve(axes: list[tuple[str, list[Any]]], index: tuple[int, ...], d: int, lower: bool) -> str:
    """A constraint holding exactly for the cells at or after (``lower``) / at or
    before ``index`` in the order of the axes ``d`` onwards (each axis sorted by value)."""
    name, values = axes[d]
    value = repr(values[index[d]])
    last = len(values) - 1 if lower else 0  # nothing lies beyond this value
    rest_at_edge = all(
        index[a] == (0 if lower else len(axes[a][1]) - 1) for a in range(d + 1, len(axes))
    )
    if rest_at_edge or d == len(axes) - 1:
        return f"{name} {'>=' if lower else '<='} {value}"
    inner = _carve(axes, index, d + 1, lower)
    if index[d] == last:
        return f"{name} == {value} and ({inner})"
    return f"{name} {'>' if lower else '<'} {value} or ({name} == {value} and ({inner}))"


def _alignment(positions: np.ndarray, strides: list[int]) -> np.ndarray:
    """How many trailing axes each cell position starts at the beginning of (0 = none)."""
    out = np.zeros(len(positions), dtype=np.int64)
    for level, stride in enumerate(reversed(strides[1:]), start=1):
        out[positions % stride == 0] = level
    return out


def cut_block(block: Block, k: int) -> list[tuple[int, int]]:
    """``k`` ranges ``[start, stop)`` of cell positions (C order over the block's axes,
    each sorted by value) of near-equal cost, each holding at least one valid
    combination. A boundary goes where the running cost is within TOLERANCE of its
    share (else nearest it), at the position that starts the most trailing axes, so
    that most groups need no carving constraint."""
    cost = block.cost.ravel()
    kept = block.kept.ravel()
    size = len(cost)
    shape = [len(v) for _, v in block.axes]
    strides = [math.prod(shape[a:]) for a in range(len(shape))] + [1]
    running = np.concatenate([[0.0], np.cumsum(cost)])  # running[p]: cost before position p
    count = np.concatenate([[0], np.cumsum(kept)])
    total = running[-1]
    bounds = [0]
    for j in range(1, k):
        target = total * j / k
        low = np.searchsorted(running, target - TOLERANCE * total / k, side="left")
        high = np.searchsorted(running, target + TOLERANCE * total / k, side="right")
        window = np.arange(max(low, bounds[-1] + 1), min(high - 1, size - 1) + 1)
        usable = window[
            (count[window] - count[bounds[-1]] >= 1) & (count[-1] - count[window] >= k - j)
        ]
        if len(usable) == 0:
            candidates = np.arange(bounds[-1] + 1, size)
            fits = (count[candidates] - count[bounds[-1]] >= 1) & (
                count[-1] - count[candidates] >= k - j
            )
            usable = candidates[fits]
            if len(usable) == 0:
                raise GridError(f"{block.where}: cannot cut into {k} groups")
            usable = usable[[int(np.argmin(np.abs(running[usable] - target)))]]
        level = _alignment(usable, strides)
        miss = np.abs(running[usable] - target)
        bounds.append(int(usable[np.lexsort((miss, -level))[0]]))
    bounds.append(size)
    return list(zip(bounds[:-1], bounds[1:]))


def apportion(costs: list[float], counts: list[int], n_groups: int) -> list[int]:
    """Groups per block: at least one each, at most its combinations, the rest one at a
    time to the block whose cost per group is highest."""
    shares = [1] * len(costs)
    for _ in range(n_groups - len(costs)):
        open_blocks = [i for i in range(len(costs)) if shares[i] < counts[i]]
        best = max(open_blocks, key=lambda i: (costs[i] / shares[i], -i))
        shares[best] += 1
    return shares


# --------------------------------------------------------------------------- plan


@dataclass
class GroupPlan:
    """Grids cut into groups: per group its block and cell range; ``groups_file()`` writes it."""

    symbol: str
    blocks: list[Block]
    ranges: list[tuple[int, int, int]]  # (block index, start, stop), in group order
    id_prefix: str

    @property
    def group_costs(self) -> list[float]:
        return [float(self.blocks[b].cost.ravel()[a:z].sum()) for b, a, z in self.ranges]

    @property
    def group_combinations(self) -> list[int]:
        return [int(self.blocks[b].kept.ravel()[a:z].sum()) for b, a, z in self.ranges]

    @property
    def combinations(self) -> int:
        return sum(b.combinations for b in self.blocks)

    def group_ids(self) -> list[str]:
        width = max(3, len(str(len(self.ranges))))
        return [f"{self.id_prefix}{n:0{width}d}" for n in range(1, len(self.ranges) + 1)]

    def _entry(self, group_id: str, b: int, start: int, stop: int) -> dict[str, Any]:
        block = self.blocks[b]
        shape = block.cost.shape
        first = tuple(int(i) for i in np.unravel_index(start, shape)) if shape else ()
        last = tuple(int(i) for i in np.unravel_index(stop - 1, shape)) if shape else ()
        differ = next((a for a in range(len(shape)) if first[a] != last[a]), len(shape))
        params = dict(block.fixed)
        grid: dict[str, list[Any]] = {}
        for a, (name, values) in enumerate(block.axes):
            if a < differ:
                params[name] = values[first[a]]
            elif a == differ:
                grid[name] = values[first[a] : last[a] + 1]
            else:
                grid[name] = list(values)
        entry: dict[str, Any] = {"group_id": group_id, "params": params}
        if grid:
            entry["grid"] = grid
        used = int(np.bitwise_or.reduce(block.dropped_by.ravel()[start:stop]))
        texts = [c.text for bit, c in enumerate(block.constraints) if used & (1 << min(bit, 63))]
        if differ < len(shape):
            if any(first[a] != 0 for a in range(differ + 1, len(shape))):
                texts.append(_carve(block.axes, first, differ, lower=True))
            if any(last[a] != shape[a] - 1 for a in range(differ + 1, len(shape))):
                texts.append(_carve(block.axes, last, differ, lower=False))
        if texts:
            entry["constraints"] = texts
        return entry

    def groups_file(self) -> dict[str, Any]:
        """The groups-file object: exactly one entry per group."""
        entries = [self._entry(gid, *r) for gid, r in zip(self.group_ids(), self.ranges)]
        return {"symbol": self.symbol, "groups": entries}


def _split_list_axes(block: Block) -> list[Block]:
    """One block per value of the leading list-valued axes (``weekdays``), fixed in its
    params: a group never spans part of such an axis, since no constraint can carve it."""
    listed = 0
    while listed < len(block.axes) and isinstance(block.axes[listed][1][0], list):
        listed += 1
    if not listed:
        return [block]
    out = []
    for index in itertools.product(*(range(len(v)) for _, v in block.axes[:listed])):
        if not block.kept[index].any():
            continue
        fixed = dict(block.fixed)
        fixed.update({name: values[i] for (name, values), i in zip(block.axes, index)})
        out.append(
            Block(
                block.where,
                block.symbol,
                fixed,
                block.axes[listed:],
                block.constraints,
                block.cost[index],
                block.kept[index],
                block.dropped_by[index],
            )
        )
    return out


def _check_prefix(prefix: str, n_groups: int) -> None:
    width = max(3, len(str(n_groups)))
    if not GROUP_ID.fullmatch(f"{prefix}{'0' * width}"):
        raise GridError(
            f"--id-prefix: {prefix!r} must be letters, digits, _ . - (ids at most 100 characters)"
        )


def plan_groups(
    symbol: str,
    grids: dict[str, Any] | list[tuple[str, dict[str, Any]]],
    n_groups: int,
    cfg: dict[str, Any] | None = None,
    where: str = "grid",
    id_prefix: str | None = None,
) -> GroupPlan:
    """Expand, filter and validate the grids (one spec, or ``(where, spec)`` pairs
    of several files), then cut them into exactly ``n_groups`` groups."""
    cfg = cfg or DEFAULTS
    if isinstance(n_groups, bool) or not isinstance(n_groups, int) or n_groups < 1:
        raise GridError(f"{where}: number of groups {n_groups!r} must be a whole number >= 1")
    prefix = f"group_{symbol}_" if id_prefix is None else id_prefix
    _check_prefix(prefix, n_groups)
    files = [(where, grids)] if isinstance(grids, dict) else grids
    specs = [block for label, spec in files for block in grid_blocks(spec, label)]
    limit = int(cfg["run"]["max_combinations"])
    total = 0
    for label, spec in specs:  # counted before any block is expanded
        size = block_size(spec, label)
        _check_size(size, limit, label)
        total += size
        if total > limit:
            raise GridError(
                f"{label}: the grids hold more than run.max_combinations {limit:,} combinations"
            )
    blocks = [expand_block(symbol, spec, cfg, label, limit) for label, spec in specs]
    for i, j in itertools.combinations(range(len(blocks)), 2):
        common = blocks[i].keys & blocks[j].keys
        if common:
            example = min(common)
            raise GridError(
                f"{blocks[j].where}: {len(common)} combination(s) also in {blocks[i].where} "
                f"(e.g. {example}); every combination must be in one block only"
            )
    blocks = [part for b in blocks for part in _split_list_axes(b)]
    total = sum(b.combinations for b in blocks)
    if n_groups < len(blocks) or n_groups > total:
        raise GridError(
            f"{where}: {n_groups} groups cannot hold {total} combinations in {len(blocks)} "
            "block(s) (a group is one block's, with at least one combination; each value "
            "of a weekdays grid is a block of its own)"
        )
    costs = [float(b.cost.sum()) for b in blocks]
    shares = apportion(costs, [b.combinations for b in blocks], n_groups)
    ranges = [(i, a, z) for i, (b, k) in enumerate(zip(blocks, shares)) for a, z in cut_block(b, k)]
    return GroupPlan(symbol, blocks, ranges, prefix)


def host_ranges(costs: list[float], hosts: int) -> list[tuple[int, int]]:
    """``hosts`` contiguous ``start:stop`` ranges of the groups (in file order) of
    near-equal total cost: each boundary at the group where the running cost is
    nearest its share."""
    if not 1 <= hosts <= len(costs):
        raise GridError(f"--hosts: {hosts} must be from 1 to the number of groups ({len(costs)})")
    running = np.cumsum(costs)
    bounds = [0]
    for h in range(1, hosts):
        target = running[-1] * h / hosts
        at = int(np.argmin(np.abs(running - target))) + 1
        bounds.append(min(max(at, bounds[-1] + 1), len(costs) - (hosts - h)))
    bounds.append(len(costs))
    return list(zip(bounds[:-1], bounds[1:]))


def make_groups(
    symbol: str, grid_spec: dict[str, Any], n_groups: int, cfg: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The groups-file object for ``grid_spec`` cut into ``n_groups`` balanced groups."""
    return plan_groups(symbol, grid_spec, n_groups, cfg).groups_file()


def hosts_lines(plan: GroupPlan, hosts: int, groups_file: str | Path) -> list[str]:
    """hosts.yaml ``range`` lines for ``hosts`` hosts, ready to paste (one per host)."""
    costs = plan.group_costs
    total = sum(costs)
    lines = [f"# hosts.yaml: one range per host of symbol {plan.symbol} ({groups_file})"]
    for start, stop in host_ranges(costs, hosts):
        share = sum(costs[start:stop]) / total
        lines.append(
            f'range: "{start}:{stop}"   # {stop - start} groups, estimated cost {share:.1%}'
        )
    return lines
