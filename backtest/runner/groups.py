"""The groups file (io-contract "Groups file"): load, validate, expand, write.

A groups file names the combinations a run tries: per group, fixed ``params``
and a ``grid`` expanded as a cartesian product, optional ``constraints`` that
drop combinations, each combination filled with the symbol's defaults.
:func:`load_groups_file` validates everything up front (every combination
included), so a bad file stops before anything runs, with one line naming the
file, the group and the field. The number of combinations is known (and
bounded) before anything is expanded.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import json
import math
import operator
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backtest.core.atomic import atomic_write_text
from backtest.core.config import DEFAULTS, ConfigError, shown, symbol_spec
from backtest.strategy.constraints import Constraint, parse_constraints
from backtest.strategy.params import (
    TABLE_PARAMS,
    TIME_PARAMS,
    ParamError,
    Resolver,
    check_listed,
    check_names,
    check_value,
)

# "error": why the group failed, as failed_groups_{SYMBOL}.json records it (ignored on load)
GROUP_KEYS = (
    "group_id",
    "symbol",
    "params",
    "grid",
    "constraints",
    "description",
    "comment",
    "error",
)
FILE_KEYS = ("symbol", "groups", "metadata", "description", "comment")
# A group id names files (charts, OUT/parts/{id}.parquet) and log lines: letters, digits,
# _ . - only, and never "." or ".." (they name folders, not files). Always fullmatch: "$"
# would let "id\n" through.
GROUP_ID = re.compile(r"(?!\.\.?\Z)[A-Za-z0-9_.-]{1,100}")
MAX_DEPTH = 32  # nesting levels of a groups file (a grid value is at most 4 deep)


class GroupsError(ValueError):
    """A groups file that cannot run; the message names the file, group and field."""


@dataclass(frozen=True)
class Group:
    """One group: ``raw`` is the group exactly as in the file (it is what
    ``failed_groups_{SYMBOL}.json`` writes back); ``symbol`` is resolved."""

    group_id: str
    symbol: str
    params: dict[str, Any]
    grid: dict[str, list[Any]]
    raw: dict[str, Any]
    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True)
class GroupsFile:
    """A loaded groups file. ``symbol`` is the file's default symbol (top level
    or the loader's argument), else the one symbol all groups share, else None."""

    path: str
    symbol: str | None
    groups: list[Group]

    @property
    def symbols(self) -> list[str]:
        """The distinct symbols of the groups, in order of first use."""
        return list(dict.fromkeys(g.symbol for g in self.groups))


def _suggest(name: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise GroupsError(f"key '{key}' appears twice in one object")
        out[key] = value
    return out


def _read_json(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GroupsError(f"{path}: groups file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GroupsError(f"{path}: cannot read groups file: {exc}") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise GroupsError(
            f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except GroupsError as exc:
        raise GroupsError(f"{path}: {exc}") from None
    except RecursionError:
        raise GroupsError(f"{path}: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise GroupsError(f"{path}: not a usable JSON file: {exc}") from None
    if _too_deep(data):
        raise GroupsError(f"{path}: nested more than {MAX_DEPTH} levels deep")
    return data


def _too_deep(data: Any) -> bool:
    """Whether ``data`` nests lists/objects more than MAX_DEPTH levels (iteratively)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > MAX_DEPTH:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return False


def _check_symbol(value: Any, where: str, cfg: dict[str, Any] | None) -> str:
    if not isinstance(value, str):
        raise GroupsError(f"{where}: field 'symbol': {value!r} is not a symbol name")
    try:
        symbol_spec(value, cfg)
    except ConfigError as exc:
        raise GroupsError(f"{where}: field 'symbol': {exc}") from None
    return value


def _check_mapping(value: Any, where: str, field: str, shape: str) -> None:
    """``params`` / ``grid`` must be an object whose keys are known parameter names."""
    if not isinstance(value, dict):
        raise GroupsError(f"{where}: field '{field}': must be {shape}")
    try:
        check_names(value, f"{where}: field '{field}'")
    except ParamError as exc:
        raise GroupsError(str(exc)) from None


def _checked_value(name: str, value: Any, where: str) -> None:
    try:
        check_value(name, value, where)
    except ParamError as exc:
        raise GroupsError(str(exc)) from None


def _check_grid(grid: Any, params: dict[str, Any], where: str) -> dict[str, list[Any]]:
    _check_mapping(grid, where, "grid", "an object of parameter: [values]")
    for name, values in grid.items():
        field = f"{where}: field 'grid.{name}'"
        if name in params:
            raise GroupsError(f"{field}: also fixed in params; name it in one place")
        if not isinstance(values, list) or not values:
            raise GroupsError(f"{field}: {shown(values)} must be a non-empty list of values")
        try:
            check_listed(values, field)
        except ParamError as exc:
            raise GroupsError(str(exc)) from None
        for value in values:
            _checked_value(name, value, f"{where}: grid")
    return grid


def _group(
    raw: Any, index: int, default_symbol: str | None, path: str, cfg: dict[str, Any] | None
) -> Group:
    """One validated group (not yet its combinations)."""
    where = f"{path}: group #{index + 1}"
    if not isinstance(raw, dict):
        raise GroupsError(f"{where}: must be an object with group_id, params, grid")
    group_id = raw.get("group_id")
    if group_id is None:
        raise GroupsError(f"{where}: field 'group_id': missing")
    if not isinstance(group_id, str) or not GROUP_ID.fullmatch(group_id):
        raise GroupsError(
            f"{where}: field 'group_id': {shown(group_id)} must be 1 to 100 characters "
            "of A-Z a-z 0-9 _ . -, not '.' or '..' (it names files)"
        )
    where = f"{path}: group {group_id}"
    for key in raw:
        if key not in GROUP_KEYS:
            raise GroupsError(
                f"{where}: field '{key}': unknown key{_suggest(key, GROUP_KEYS)}; "
                f"known: {', '.join(GROUP_KEYS)}"
            )
    symbol = raw.get("symbol", default_symbol)
    if symbol is None:
        raise GroupsError(
            f"{where}: field 'symbol': missing (give the group's own symbol, "
            'a top-level "symbol", or the symbol argument)'
        )
    symbol = _check_symbol(symbol, where, cfg)
    params = raw.get("params", {})
    _check_mapping(params, where, "params", "an object of parameter: value")
    for name, value in params.items():
        _checked_value(name, value, f"{where}: params")
    grid = _check_grid(raw.get("grid", {}), params, where)
    try:
        constraints = parse_constraints(raw.get("constraints"), f"{where}: field 'constraints'")
    except ParamError as exc:
        raise GroupsError(str(exc)) from None
    return Group(
        group_id, symbol, copy.deepcopy(params), copy.deepcopy(grid), raw, tuple(constraints)
    )


def _groups_list(data: Any, path: str, symbol: str | None) -> tuple[list[Any], str | None]:
    """The raw groups and the default symbol from either accepted shape."""
    if isinstance(data, list):
        return data, symbol
    if not isinstance(data, dict):
        raise GroupsError(
            f"{path}: top level must be an object "
            '{"symbol": ..., "groups": [...]} or a list of groups'
        )
    for key in data:
        if key not in FILE_KEYS:
            raise GroupsError(
                f"{path}: field '{key}': unknown key{_suggest(key, FILE_KEYS)}; "
                f"known: {', '.join(FILE_KEYS)}"
            )
    if "groups" not in data:
        raise GroupsError(f"{path}: field 'groups': missing")
    if not isinstance(data["groups"], list):
        raise GroupsError(f"{path}: field 'groups': must be a list of groups")
    return data["groups"], symbol if data.get("symbol") is None else data["symbol"]


def load_groups_file(
    path: str | os.PathLike,
    cfg: dict[str, Any] | None = None,
    symbol: str | None = None,
    expand: bool = True,
) -> GroupsFile:
    """Load and fully validate a groups file (object form or a bare list).

    ``symbol`` is the default for groups without their own when the file has
    no top-level ``symbol`` (a file's own top-level symbol wins). With
    ``expand``, the combination count is checked against ``run.max_combinations``
    and every combination of every group is resolved, so nothing runs on a bad
    file; without it, the caller checks the count (:func:`combo_count`) and
    expands (:func:`expand_all`).
    """
    path = str(path)
    raw_groups, default_symbol = _groups_list(_read_json(path), path, symbol)
    if default_symbol is not None:
        default_symbol = _check_symbol(default_symbol, path, cfg)
    groups: list[Group] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(raw_groups):
        group = _group(raw, index, default_symbol, path, cfg)
        if group.group_id in first_index:
            raise GroupsError(
                f"{path}: group {group.group_id}: field 'group_id': duplicate "
                f"(groups #{first_index[group.group_id] + 1} and #{index + 1})"
            )
        first_index[group.group_id] = index
        groups.append(group)
    if default_symbol is None and len({g.symbol for g in groups}) == 1:
        default_symbol = groups[0].symbol
    loaded = GroupsFile(path, default_symbol, groups)
    if expand:
        limit = (cfg or DEFAULTS)["run"]["max_combinations"]
        total = sum(combo_count(g) for g in groups)
        if total > limit:
            raise GroupsError(
                f"{path}: {total:,} combinations (before constraints) is more than "
                f"run.max_combinations {limit:,}"
            )
        expand_all(loaded, cfg)
    return loaded


def combo_count(group: Group) -> int:
    """How many combinations the group's grid spans before its constraints (1
    without a grid): an upper bound of what it runs, known without expanding."""
    return math.prod(len(values) for values in group.grid.values())


def expand_all(groups_file: GroupsFile, cfg: dict[str, Any] | None = None) -> dict[str, list]:
    """Every group's combinations by group id (errors name the file and group)."""
    return {
        g.group_id: expand_group(g, cfg, where=f"{groups_file.path}: group {g.group_id}")
        for g in groups_file.groups
    }


@dataclass
class GroupScan:
    """What a run needs to know of its groups' combinations, learnt without expanding them."""

    counts: dict[str, int]  # kept combinations per group id
    news_group: str | None  # the first group with a combination that uses the news filter
    table_combos: list[dict[str, Any]]  # one combination per distinct TABLE_PARAMS value


# Above this many combinations (before constraints) a scan runs in several processes.
PARALLEL_SCAN = 200_000


@dataclass
class _GroupSummary:
    count: int
    uses_news: bool
    table_combos: list[dict[str, Any]]  # one per distinct TABLE_PARAMS value in the group


def key_names(group: Group) -> list[str]:
    """The grid parameters whose values decide whether a combination is kept and valid,
    and which shared tables it needs: the times (spec section 2's order), the table
    parameters, ``news_filter`` and those the constraints name, in grid order. Every
    other grid parameter is checked value by value and never changes either answer."""
    named = set(TIME_PARAMS) | set(TABLE_PARAMS) | {"news_filter"}
    for constraint in group.constraints:
        named |= constraint.names
    return [name for name in group.grid if name in named]


def _scan_group(group: Group, cfg: dict[str, Any] | None, path: str) -> _GroupSummary:
    """Count, news use and table combinations of a group from the product of its key
    parameters (:func:`key_names`) alone, the others at their first value: a combination's
    fate depends on its key values only, so the kept count is the kept key products times
    the sizes of the other lists, and the first kept combination of each table key (file
    order) is the same. Every value of every list is still checked, and a bad combination
    is named as the whole product numbers it (its first, the others at their first value)."""
    where = f"{path}: group {group.group_id}"
    keys = set(key_names(group))
    reduced = replace(group, grid={k: v if k in keys else v[:1] for k, v in group.grid.items()})
    strides = _strides([len(v) for v in group.grid.values()])
    tables: dict[tuple[Any, ...], dict[str, Any]] = {}
    table_key = operator.itemgetter(*TABLE_PARAMS)
    kept, uses_news = 0, False
    for combo in _combos(reduced, _resolver(group, cfg, where), where, strides):
        kept += 1
        tables.setdefault(table_key(combo), combo)
        uses_news = uses_news or bool(combo["news_filter"])
    free = math.prod(len(v) for k, v in group.grid.items() if k not in keys)
    return _GroupSummary(kept * free, uses_news, list(tables.values()))


def _strides(lengths: list[int]) -> list[int]:
    """How far apart in the product two combinations that differ by one in a list are
    (the last list varies fastest)."""
    out = [1] * len(lengths)
    for n in range(len(lengths) - 2, -1, -1):
        out[n] = out[n + 1] * lengths[n + 1]
    return out


def _number(position: int, lengths: list[int], strides: list[int] | None) -> int:
    """The 1-based number of the product's combination at ``position``, in the larger
    product of ``strides`` when given."""
    if strides is None:
        return position + 1
    number = 0
    for length, stride in zip(reversed(lengths), reversed(strides)):
        position, index = divmod(position, length)
        number += index * stride
    return number + 1


def _map(work: Any, items: list[Any], processes: int, size: int) -> list[Any]:
    """``work`` of each item, in order; in ``processes`` forked processes when ``size``
    (combinations) is over ``PARALLEL_SCAN``."""
    if processes > 1 and size > PARALLEL_SCAN and len(items) > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return list(pool.imap(work, items))
    return [work(item) for item in items]


def scan_groups(
    groups_file: GroupsFile, cfg: dict[str, Any] | None = None, processes: int = 1
) -> GroupScan:
    """Validate every group (errors name the file, group and combination; the first bad
    group in file order) and count and sample its combinations without expanding them
    (:func:`_scan_group`: the product of its key parameters only). A run whose key
    products hold more than ``PARALLEL_SCAN`` combinations is scanned by ``processes``
    forked processes, a group each at a time."""
    import functools

    scan = GroupScan({}, None, [])
    work = functools.partial(_scan_group, cfg=cfg, path=groups_file.path)
    size = sum(math.prod(len(g.grid[k]) for k in key_names(g)) for g in groups_file.groups)
    summaries = _map(work, groups_file.groups, processes, size)
    seen: set[tuple[Any, ...]] = set()
    table_key = operator.itemgetter(*TABLE_PARAMS)
    for group, summary in zip(groups_file.groups, summaries):
        scan.counts[group.group_id] = summary.count
        if scan.news_group is None and summary.uses_news:
            scan.news_group = group.group_id
        for combo in summary.table_combos:
            if table_key(combo) not in seen:
                seen.add(table_key(combo))
                scan.table_combos.append(combo)
    return scan


def group_digest(group: Group, cfg: dict[str, Any] | None = None, path: str = "") -> str:
    """sha256 of the group's resolved combinations (:class:`ParamsDigest`), expanding them
    in batches: what a resume compares with a finished group's ``params_sha256``."""
    from backtest.runner.store import ParamsDigest

    digest = ParamsDigest()
    combos = iter_group(group, cfg, where=f"{path}: group {group.group_id}")
    while batch := list(itertools.islice(combos, 4096)):
        digest.update(batch)
    return digest.hexdigest()


def group_digests(
    groups: list[Group], cfg: dict[str, Any] | None = None, path: str = "", processes: int = 1
) -> dict[str, str]:
    """:func:`group_digest` of each group by id (in forked processes for many combinations)."""
    import functools

    work = functools.partial(group_digest, cfg=cfg, path=path)
    digests = _map(work, groups, processes, sum(combo_count(g) for g in groups))
    return {g.group_id: d for g, d in zip(groups, digests)}


def expand_group(
    group: Group, cfg: dict[str, Any] | None = None, where: str | None = None
) -> list[dict[str, Any]]:
    """Every kept combination of the group, resolved (:func:`iter_group`), as a list."""
    return list(iter_group(group, cfg, where))


def iter_group(
    group: Group, cfg: dict[str, Any] | None = None, where: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every kept combination of the group, resolved with the symbol's defaults, one at a
    time (a group of millions is never held whole).

    Order (io-contract): the cartesian product of the grid, keys in file order,
    values in the given order (the last key varies fastest); then the
    constraints drop what they exclude (evaluated with the symbol's defaults
    for what the group does not name); then the invariants of spec section 2
    are checked on what is left. A group whose constraints leave nothing is an
    error (it would have no best combination), raised after the last one.
    """
    where = where or f"group {group.group_id}"
    yield from _combos(group, _resolver(group, cfg, where), where, None)


def _resolver(group: Group, cfg: dict[str, Any] | None, where: str) -> Resolver:
    """A resolver for the group's symbol with every fixed and grid value checked."""
    try:
        resolve = Resolver(group.symbol, cfg, where)
        for name, value in group.params.items():
            resolve.check(name, value, where)
        for name, grid_values in group.grid.items():
            for value in grid_values:
                resolve.check(name, value, where)
    except (ParamError, ConfigError) as exc:
        raise GroupsError(str(exc)) from None
    return resolve


def _combos(
    group: Group, resolve: Resolver, where: str, strides: list[int] | None
) -> Iterator[dict[str, Any]]:
    """:func:`iter_group` with a checked resolver. ``strides``: the group's grid is a
    part of a larger product (:func:`_scan_group`) whose numbers the errors give."""
    names = list(group.grid)
    # what ``resolve(overrides, checked=True)`` gives, built here: every value passed
    # ``resolve.check`` (:func:`_resolver`), so only the order of the times is left to
    # check, once per distinct time values (Resolver.check_order)
    base = {**resolve.defaults, **group.params}
    kept = 0
    for position, values in enumerate(itertools.product(*group.grid.values())):
        chosen = dict(zip(names, values))
        combo = {**base, **chosen}
        combo["weekdays"] = list(combo["weekdays"])  # combinations never share the list
        try:
            if group.constraints and not all(c(combo) for c in group.constraints):
                continue
            try:
                resolve.check_order(combo, where)
            except ParamError:  # again, naming the combination (built only when needed)
                number = _number(position, [len(v) for v in group.grid.values()], strides)
                listed = ", ".join(f"{k}={v!r}" for k, v in chosen.items())
                overrides = {**group.params, **chosen}
                resolve(overrides, f"{where}: grid combination {number} ({listed})")
                raise
        except (ParamError, ConfigError) as exc:
            raise GroupsError(str(exc)) from None
        kept += 1
        yield combo
    if not kept:
        raise GroupsError(f"{where}: field 'constraints': they leave no combination to run")


def write_groups_file(
    path: str | os.PathLike, symbol: str | None, raw_groups: list[dict[str, Any]]
) -> None:
    """Write groups in the io-contract object format, atomically (tmp + replace).

    ``raw_groups`` are :attr:`Group.raw` dicts, so the file loads back with
    the same groups (the failed-groups file is passed back as ``--groups-file``).
    """
    target = Path(path)
    body: dict[str, Any] = {} if symbol is None else {"symbol": symbol}
    body["groups"] = raw_groups
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(target, text)


def select_range(
    groups_file: GroupsFile, start: int | None = None, stop: int | None = None
) -> GroupsFile:
    """The same file with ``groups[start:stop]`` (Python slice semantics)."""
    return replace(groups_file, groups=groups_file.groups[start:stop])
