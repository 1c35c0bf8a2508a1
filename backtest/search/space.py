"""The search space of ``invoke optimize``, as Optuna distributions.

Two sources, validated before anything runs (one line naming the file, the block and
the field; exit code 2 at the edge):

- ``--space SPACE.yaml``: the grid YAML format of ``invoke make-groups`` (docs/ANALYSIS.md,
  "Grid YAML": ``symbol``, ``params``, ``grid``, ``constraints``, or ``blocks``; read by
  :func:`backtest.analysis.make_groups.grid_blocks`) whose grid may also hold ranges too
  large to expand: ``{start, stop, step}`` (stop inclusive, computed in decimal), a time
  range ``{start: "08:00", stop: "10:30", step: 5}`` (quoted times, the step in minutes),
  or a float range without a step ``{start: 0.5, stop: 3.0}`` (continuous);
- ``--groups-file G.json``: each group is a block (its ``params``, its ``grid`` lists, its
  ``constraints``), loaded by :func:`backtest.runner.groups.load_groups_file`.

A list is a categorical parameter; a stepped range an integer or stepped float one (its
values snap to the decimal grid: ``0.1`` steps give ``0.3``); a time range an integer
number of minutes. Several blocks are a conditional space: a categorical ``block`` is
sampled first, then that block's parameters (named ``b{N}.{parameter}``). Parameters
whose values are whole numbers (the four times, ``max_trades_per_day``) need a step,
whatever the sampler (the news windows are minutes as floats: a range of them needs none).
A sampled point becomes a combination the way a groups-file entry does (io-contract): the
symbol's defaults, the block's fixed parameters and the sampled ones; the block's
constraints, then the invariants of spec section 2
(:class:`backtest.strategy.params.Resolver`). A point that fails either is *infeasible*: it
is never run.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from backtest.analysis.make_groups import GridError, block_size, grid_blocks, load_grid
from backtest.core.config import shown
from backtest.strategy.constraints import (
    Constraint,
    ConstraintError,
    check_block,
)
from backtest.strategy.params import (
    PARAM_NAMES,
    PARAMS,
    TABLE_PARAMS,
    TIME_PARAMS,
    ParamError,
    Resolver,
    check_listed,
    check_values,
    parse_hhmm,
)

# Parameters whose values are whole numbers (minutes, counts): a range of them needs a step.
WHOLE_PARAMS = tuple(p.name for p in PARAMS if p.whole)
BLOCK_PARAM = "block"
# The exit parameters: the kernel shares an entry rule's searches among the combinations
# that differ only in them (backtest.engines.sweep, SweepData.combo_row)
EXIT_PARAMS = ("sl_mult", "tp_mult")


class SpaceError(ValueError):
    """A search space that cannot be searched; the message names the file and field."""


@dataclass(frozen=True)
class Axis:
    """One sampled parameter of a block: its Optuna name and distribution, and how a
    sampled value becomes the parameter's value."""

    name: str  # the strategy's parameter
    key: str  # Optuna's parameter name
    kind: str  # "list", "int", "time", "float" (stepped), "continuous"
    choices: tuple[Any, ...] = ()  # "list": the values as given
    start: Decimal = Decimal(0)
    step: Decimal | None = None
    count: int = 0  # values of a stepped range
    stop: float = 0.0  # "continuous": the upper bound
    integral: bool = False  # a stepped range of whole numbers

    def distribution(self) -> Any:
        """Optuna's distribution of the axis (made once)."""
        made = self.__dict__.get("_made")
        if made is None:
            made = self._distribution()
            object.__setattr__(self, "_made", made)  # a cache on the frozen instance
        return made

    def _distribution(self) -> Any:
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.kind == "list":
            return CategoricalDistribution([_choice(v) for v in self.choices])
        if self.kind == "continuous":
            return FloatDistribution(float(self.start), self.stop)
        assert self.step is not None
        last = self.start + (self.count - 1) * self.step
        if self.kind in ("int", "time"):
            return IntDistribution(int(self.start), int(last), step=int(self.step))
        if self.count == 1:
            return FloatDistribution(float(self.start), float(last))
        return FloatDistribution(float(self.start), float(last), step=float(self.step))

    def suggest(self, trial: Any) -> Any:
        """Sample this axis on an Optuna trial; the parameter's value."""
        dist = self.distribution()
        if self.kind == "list":
            return self.value(trial.suggest_categorical(self.key, dist.choices))
        if self.kind in ("int", "time"):
            return self.value(trial.suggest_int(self.key, dist.low, dist.high, step=dist.step))
        return self.value(trial.suggest_float(self.key, dist.low, dist.high, step=dist.step))

    def value(self, sampled: Any) -> Any:
        """The parameter value of a sampled (external) value."""
        if self.kind == "list":
            return self.choices[self.distribution().choices.index(sampled)]
        if self.kind == "continuous":
            return min(max(float(sampled), float(self.start)), self.stop)
        assert self.step is not None
        k = min(
            max(round((Decimal(repr(float(sampled))) - self.start) / self.step), 0), self.count - 1
        )
        exact = self.start + k * self.step
        if self.kind == "time":
            return f"{int(exact) // 60:02d}:{int(exact) % 60:02d}"
        return int(exact) if self.integral else float(exact)


def _choice(value: Any) -> Any:
    """A list value as an Optuna categorical choice (None, bool, int, float or str)."""
    return json.dumps(value) if isinstance(value, list) else value


@dataclass
class Block:
    """One block of the space: fixed parameters, sampled axes, constraints."""

    where: str
    fixed: dict[str, Any]
    axes: list[Axis]
    constraints: list[Constraint]
    raw: dict[str, Any] = field(default_factory=dict)  # as written (provenance)
    # ``--trial entry-rule``: the exit axes, not sampled; every trial runs their sub-grid
    exits: list[Axis] = field(default_factory=list)

    def exit_grid(self) -> list[dict[str, Any]]:
        """Every combination of the exit axes' values (grid order; made once)."""
        if "_exit_grid" not in self.__dict__:
            names = [a.name for a in self.exits]
            values = itertools.product(*(_axis_values(a) for a in self.exits))
            self.__dict__["_exit_grid"] = [dict(zip(names, v)) for v in values]
        return self.__dict__["_exit_grid"]

    def size(self) -> int | None:
        """Points of the block's grid before its constraints (None: a continuous axis)."""
        axes = self.axes + self.exits
        sizes = [len(a.choices) if a.kind == "list" else a.count for a in axes]
        if any(a.kind == "continuous" for a in axes):
            return None
        return math.prod(sizes)


@dataclass
class SearchSpace:
    """A validated search space of one symbol."""

    source: str  # the file
    kind: str  # "space" (grid YAML) or "groups" (a groups file)
    symbol: str
    blocks: list[Block]
    resolver: Resolver

    def size(self) -> int | None:
        """Grid points before constraints; None when an axis is continuous."""
        sizes = [b.size() for b in self.blocks]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s)

    def distributions(self) -> dict[str, Any]:
        """Every Optuna parameter name and its distribution (for the study's provenance)."""
        out: dict[str, Any] = {}
        if len(self.blocks) > 1:
            from optuna.distributions import CategoricalDistribution

            out[BLOCK_PARAM] = CategoricalDistribution(list(range(len(self.blocks))))
        for block in self.blocks:
            out.update({a.key: a.distribution() for a in block.axes})
        return out

    def describe(self) -> dict[str, Any]:
        """The space as recorded (provenance, the study, a resume's comparison)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "symbol": self.symbol,
            "blocks": [b.raw for b in self.blocks],
            "size": self.size(),
        }

    def table_points(self, limit: int = 256) -> list[dict[str, Any]]:
        """One feasible combination per distinct value of the parameters the kernel's
        shared tables are built by (the registry's ``TABLE_PARAMS``: the times and the
        news window), for the sweep's tables to be built once before the workers fork; empty
        when the space has more than ``limit`` of them (they are then built as met)."""
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for block in self.blocks:
            timed = [a for a in block.axes if a.name in TABLE_PARAMS]
            if any(a.kind == "continuous" for a in timed):
                return []
            values = [_axis_values(a) for a in timed]
            if math.prod(len(v) for v in values) > 16 * limit:
                return []
            base = dict(block.fixed)
            for axis in block.axes + block.exits:
                if axis.name not in TABLE_PARAMS:
                    base[axis.name] = _axis_values(axis)[0]
            for chosen in itertools.product(*values):
                overrides = {**base, **{a.name: v for a, v in zip(timed, chosen)}}
                combo, _ = self.combination(block, overrides)
                if combo is not None:
                    out.setdefault(tuple(repr(combo[n]) for n in TABLE_PARAMS), combo)
                if len(out) > limit:
                    return []
        return list(out.values())

    def sample(self, trial: Any) -> tuple[list[dict[str, Any]] | None, str | None, int]:
        """Sample a point on an Optuna trial: ``(rows, None, block)`` for a feasible one
        (its combinations, resolved: :meth:`rows`), ``(None, reason, block)`` otherwise."""
        index = 0
        if len(self.blocks) > 1:
            index = int(trial.suggest_categorical(BLOCK_PARAM, list(range(len(self.blocks)))))
        block = self.blocks[index]
        overrides = dict(block.fixed)
        for axis in block.axes:
            overrides[axis.name] = axis.suggest(trial)
        return (*self.rows(block, overrides), index)

    def draw(self, rng: Any, size: int) -> list[Drawn]:
        """``size`` points drawn uniformly at once (the random sampler without Optuna's
        per-parameter path): a block uniformly, then each axis uniformly over its grid (a
        list's values, a stepped range's steps) or its interval (continuous); each point
        as Optuna's parameters and distributions and, as :meth:`sample` gives them, its
        combinations or why it is infeasible."""
        n = len(self.blocks)
        chosen = rng.integers(n, size=size) if n > 1 else [0] * size
        points: list[dict[str, Any]] = [{} for _ in range(size)]
        at = {b: [i for i in range(size) if int(chosen[i]) == b] for b in range(n)}
        for b, where in at.items():
            for axis in self.blocks[b].axes:
                for i, value in zip(where, _uniform(axis, rng, len(where))):
                    points[i][axis.key] = value
        all_dists = self.distributions()
        out = []
        for i, params in enumerate(points):
            block = self.blocks[int(chosen[i])]
            dists = {a.key: a.distribution() for a in block.axes}
            if n > 1:
                params = {BLOCK_PARAM: int(chosen[i]), **params}
                dists = {BLOCK_PARAM: all_dists[BLOCK_PARAM], **dists}
            overrides = dict(block.fixed)
            for axis in block.axes:
                overrides[axis.name] = axis.value(params[axis.key])
            out.append(Drawn(params, dists, *self.rows(block, overrides)))
        return out

    def rows(
        self, block: Block, overrides: dict[str, Any]
    ) -> tuple[list[dict[str, Any]] | None, str | None]:
        """The combinations a sampled point is evaluated as: its one combination, or with
        ``--trial entry-rule`` (:meth:`by_entry_rule`) every combination of its exit
        sub-grid that the block's constraints keep, in grid order (the last exit
        parameter varying fastest); None and the reason when there is none."""
        if not block.exits:
            combo, reason = self.combination(block, overrides)
            return (None, reason) if combo is None else ([combo], None)
        grid = block.exit_grid()
        try:  # the invariants of spec section 2 concern the times: the entry rule's own
            first = self.resolver({**overrides, **grid[0]}, block.where, checked=True)
        except ParamError as exc:
            return None, str(exc).split(": ", 1)[-1]
        merged = {**self.resolver.defaults, **overrides}
        out, why, weekdays = [], "", first["weekdays"]
        for chosen in grid:
            if block.constraints:
                point = {**merged, **chosen}
                failed = next((c for c in block.constraints if not c(point)), None)
                if failed is not None:
                    why = f"constraint {failed.text!r}"
                    continue
            combo = first.copy()
            combo.update(chosen)
            combo["weekdays"] = weekdays.copy()
            out.append(combo)
        return (out, None) if out else (None, f"every combination of its exit sub-grid: {why}")

    def by_entry_rule(self) -> SearchSpace:
        """The space of ``--trial entry-rule``: the exit parameters (:data:`EXIT_PARAMS`,
        those the kernel does not share an entry rule's searches over) taken out of the
        sampled axes, each trial evaluating its entry rule with every value of them. An
        exit range without a step is refused (its values cannot all be run)."""
        blocks = []
        for block in self.blocks:
            for axis in block.axes:
                if axis.name in EXIT_PARAMS and axis.kind == "continuous":
                    raise SpaceError(
                        f"{block.where}.grid.{axis.name}: a range without a step: --trial "
                        f"entry-rule runs every value of the exit parameters "
                        f"({', '.join(EXIT_PARAMS)}); give a step or a list"
                    )
            entry = [a for a in block.axes if a.name not in EXIT_PARAMS]
            exits = [a for a in block.axes if a.name in EXIT_PARAMS]
            blocks.append(replace(block, axes=entry, exits=exits))
        return replace(self, blocks=blocks)

    def combination(
        self, block: Block, overrides: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """``overrides`` as a resolved combination of ``block``, or why it is infeasible
        (a constraint, an invariant of spec section 2)."""
        merged = {**self.resolver.defaults, **overrides}
        for constraint in block.constraints:
            if not constraint(merged):
                return None, f"constraint {constraint.text!r}"
        try:
            return self.resolver(overrides, block.where, checked=True), None
        except ParamError as exc:
            return None, str(exc).split(": ", 1)[-1]


@dataclass(frozen=True)
class Drawn:
    """A point of :meth:`SearchSpace.draw`."""

    params: dict[str, Any]  # Optuna's names -> external values
    distributions: dict[str, Any]
    rows: list[dict[str, Any]] | None
    reason: str | None


def _uniform(axis: Axis, rng: Any, m: int) -> list[Any]:
    """``m`` values of ``axis`` (Optuna's external values), uniformly."""
    dist = axis.distribution()
    if axis.kind == "list":
        return [dist.choices[k] for k in rng.integers(len(dist.choices), size=m).tolist()]
    if axis.kind == "continuous":
        return rng.uniform(dist.low, dist.high, size=m).tolist()
    steps = rng.integers(axis.count, size=m).tolist()
    if axis.kind in ("int", "time"):
        return [int(dist.low + k * dist.step) for k in steps]
    step = dist.step if dist.step is not None else 0.0
    return [min(float(dist.low + k * step), float(dist.high)) for k in steps]


def _axis_values(axis: Axis) -> list[Any]:
    """Every value of a discrete axis (a list, or a stepped range's grid)."""
    if axis.kind == "list":
        return list(axis.choices)
    assert axis.step is not None
    return [axis.value(float(axis.start + k * axis.step)) for k in range(axis.count)]


def combination_key(params: dict[str, Any]) -> tuple[Any, ...]:
    """A resolved combination as a key: numerically equal values are one value (1 and
    1.0), lists as tuples; the same combination sampled twice has the same key."""

    def norm(value: Any) -> Any:
        if isinstance(value, list):
            return tuple(norm(v) for v in value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return value

    return tuple(norm(params[name]) for name in PARAM_NAMES)


# --------------------------------------------------------------------------- loading


def load_space(
    space_file: str | Path | None,
    groups_file: str | Path | None,
    symbol: str | None,
    cfg: dict[str, Any],
) -> SearchSpace:
    """The space of ``--space`` or ``--groups-file`` (exactly one), for ``symbol`` (the
    file's own when it names one; ``--symbol`` must then agree)."""
    if (space_file is None) == (groups_file is None):
        raise SpaceError("give --space SPACE.yaml or --groups-file G.json (one of them)")
    if space_file is not None:
        return _from_grid(Path(space_file), symbol, cfg)
    return _from_groups(Path(str(groups_file)), symbol, cfg)


def _symbol(found: str | None, given: str | None, where: str, cfg: dict[str, Any]) -> str:
    from backtest.core.config import ConfigError, symbol_spec

    if found is not None and given is not None and found != given:
        raise SpaceError(f"{where}: field 'symbol': the file says {found}, --symbol says {given}")
    name = found or given
    if name is None:
        raise SpaceError(f"{where}: field 'symbol': missing (give the file's symbol or --symbol)")
    try:
        symbol_spec(str(name), cfg)
    except ConfigError as exc:
        raise SpaceError(f"{where}: field 'symbol': {exc}") from None
    return str(name)


def _from_grid(path: Path, symbol: str | None, cfg: dict[str, Any]) -> SearchSpace:
    try:
        spec = load_grid(path)
        blocks = grid_blocks(spec, str(path))
    except GridError as exc:
        raise SpaceError(str(exc)) from None
    named = spec.get("symbol")
    name = _symbol(None if named is None else str(named), symbol, str(path), cfg)
    for label, block in blocks:
        if block.get("symbol") not in (None, name):
            raise SpaceError(f"{label}: symbol {block['symbol']!r} differs from {name!r}")
    resolver = _resolver(name, cfg, str(path))
    several = len(blocks) > 1
    parsed = []
    for n, (label, block) in enumerate(blocks):
        fixed = block.get("params") or {}
        grid = block.get("grid") or {}
        if not isinstance(fixed, dict) or not isinstance(grid, dict):
            raise SpaceError(f"{label}: 'params' and 'grid' must be mappings")
        raw = {"params": fixed, "grid": grid, "constraints": block.get("constraints") or []}
        prefix = f"b{n}." if several else ""
        parsed.append(_block(label, fixed, grid, block.get("constraints"), prefix, raw, resolver))
    return SearchSpace(str(path), "space", name, parsed, resolver)


def _from_groups(path: Path, symbol: str | None, cfg: dict[str, Any]) -> SearchSpace:
    from backtest.runner.groups import GroupsError, load_groups_file

    try:
        loaded = load_groups_file(path, cfg, symbol=symbol, expand=False)
    except (GroupsError, ParamError) as exc:
        raise SpaceError(str(exc)) from None
    if not loaded.groups:
        raise SpaceError(f"{path}: field 'groups': no groups")
    if len(loaded.symbols) > 1:
        raise SpaceError(
            f"{path}: field 'symbol': groups of several symbols ({', '.join(loaded.symbols)})"
        )
    name = _symbol(loaded.symbols[0], symbol, str(path), cfg)
    resolver = _resolver(name, cfg, str(path))
    several = len(loaded.groups) > 1
    blocks = []
    for n, group in enumerate(loaded.groups):
        raw: dict[str, Any] = {
            k: group.raw[k] for k in ("group_id", "params", "grid", "constraints") if k in group.raw
        }
        where = f"{path}: group {group.group_id}"
        prefix = f"b{n}." if several else ""
        constraints = [c.text for c in group.constraints]
        blocks.append(_block(where, group.params, group.grid, constraints, prefix, raw, resolver))
    return SearchSpace(str(path), "groups", name, blocks, resolver)


def _resolver(symbol: str, cfg: dict[str, Any], where: str) -> Resolver:
    try:
        return Resolver(symbol, cfg, f"{where}: the symbol's defaults")
    except ParamError as exc:
        raise SpaceError(str(exc)) from None


def _block(
    where: str,
    fixed: dict[str, Any],
    grid: dict[str, Any],
    constraints: Any,
    prefix: str,
    raw: dict[str, Any],
    resolver: Resolver,
) -> Block:
    try:
        parsed = check_block(fixed, grid, constraints, where)
    except ParamError as exc:
        raise SpaceError(str(exc)) from None
    axes = [_axis(name, spec, f"{where}.grid.{name}", prefix) for name, spec in grid.items()]
    block = Block(where, dict(fixed), axes, parsed, _plain(raw))
    _try_constraints(block, resolver)
    return block


def _check(name: str, values: list[Any], label: str, listed: bool = False) -> None:
    """Each value on its own (type and range, spec section 2 and the exactness bounds);
    ``listed``: a list's values, also at least one and none twice."""
    try:
        if listed:
            check_listed(values, label)
        check_values(name, values, label)
    except ParamError as exc:
        raise SpaceError(str(exc)) from None


def _axis(name: str, spec: Any, label: str, prefix: str) -> Axis:
    key = prefix + name
    if isinstance(spec, list):
        _check(name, spec, label, listed=True)
        return Axis(name, key, "list", choices=tuple(spec))
    if not isinstance(spec, dict):
        raise SpaceError(
            f"{label}: expected a list of values or a range {{start, stop, step}}, "
            f"got {shown(spec)}"
        )
    if name in TIME_PARAMS:
        return _time_range(name, key, spec, label)
    if "step" not in spec:
        return _continuous(name, key, spec, label)
    try:  # the grid format's own check and count of a range (stop inclusive)
        count = block_size({"grid": {name: spec}}, label.rsplit(".grid.", 1)[0])
    except GridError as exc:
        raise SpaceError(str(exc)) from None
    start, step = Decimal(str(spec["start"])), Decimal(str(spec["step"]))
    integral = all(isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in spec)
    if name in WHOLE_PARAMS and not integral:
        raise SpaceError(f"{label}: {name} takes whole numbers: give start, stop, step as integers")
    last = start + (count - 1) * step
    bounds = [int(v) if integral else float(v) for v in (start, last)]
    _check(name, bounds, label)
    kind = "int" if integral else "float"
    return Axis(name, key, kind, start=start, step=step, count=count, integral=integral)


def _continuous(name: str, key: str, spec: dict[str, Any], label: str) -> Axis:
    """``{start, stop}``: every float between them (the samplers' continuous range)."""
    unknown = sorted(set(spec) - {"start", "stop"})
    missing = [k for k in ("start", "stop") if k not in spec]
    if unknown or missing:
        raise SpaceError(
            f"{label}: a range is {{start, stop, step}} (or {{start, stop}} for a float "
            f"parameter; missing: {missing or '-'}, unknown: {unknown or '-'})"
        )
    if name in WHOLE_PARAMS:
        raise SpaceError(
            f"{label}: a range without a step: {name} takes whole numbers "
            f"({'minutes' if name in TIME_PARAMS else 'a count'}); give a step"
        )
    low, high = spec["start"], spec["stop"]
    for k, v in (("start", low), ("stop", high)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise SpaceError(f"{label}.{k}: {shown(v)} is not a finite number")
    if high <= low:
        raise SpaceError(f"{label}: stop {high!r} must be above start {low!r}")
    _check(name, [float(low), float(high)], label)
    return Axis(name, key, "continuous", start=Decimal(repr(float(low))), stop=float(high))


def _time_range(name: str, key: str, spec: dict[str, Any], label: str) -> Axis:
    """``{start: "HH:MM", stop: "HH:MM", step: MINUTES}``: minutes of the day."""
    if "step" not in spec:
        raise SpaceError(
            f"{label}: a range without a step: {name} takes whole numbers (minutes); give a step"
        )
    unknown = sorted(set(spec) - {"start", "stop", "step"})
    if unknown:
        raise SpaceError(f"{label}: unknown key(s) {unknown} (a time range: start, stop, step)")
    try:
        start = parse_hhmm(spec["start"], label, name)
        stop = parse_hhmm(spec["stop"], label, name)
    except ParamError:
        raise SpaceError(
            f'{label}: start and stop of a time range are quoted times "HH:MM" '
            f"(got {shown(spec['start'])}, {shown(spec['stop'])})"
        ) from None
    step = spec["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise SpaceError(f"{label}.step: {shown(step)} must be a whole number of minutes >= 1")
    if stop < start:
        raise SpaceError(f"{label}: stop {spec['stop']} is before start {spec['start']}")
    count = (stop - start) // step + 1
    return Axis(
        name, key, "time", start=Decimal(start), step=Decimal(step), count=count, integral=True
    )


def _try_constraints(block: Block, resolver: Resolver) -> None:
    """Evaluate the constraints once, on the block's first point, so that a constraint
    comparing values of different types (``direction > 1``) is bad input now, not an
    error in the middle of the search."""
    point = dict(block.fixed)
    for axis in block.axes:
        first = axis.choices[0] if axis.kind == "list" else axis.value(float(axis.start))
        point[axis.name] = first
    try:
        for constraint in block.constraints:
            constraint({**resolver.defaults, **point})
    except ConstraintError as exc:
        raise SpaceError(str(exc)) from None


def _plain(value: Any) -> Any:
    """A block as JSON (YAML may hold dates and other types: they become text)."""
    return json.loads(json.dumps(value, default=str))
