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
    """What a run needs to know of its groups' combinations, learnt without holding them."""

    counts: dict[str, int]  # kept combinations per group id
    digests: dict[str, str]  # sha256 of each group's resolved combinations
    news_group: str | None  # the first group with a combination that uses the news filter
    table_combos: list[dict[str, Any]]  # one combination per distinct TABLE_PARAMS value


# Above this many combinations (before constraints) the scan runs in several processes.
PARALLEL_SCAN = 200_000


@dataclass
class _GroupSummary:
    count: int
    digest: str
    uses_news: bool
    table_combos: list[dict[str, Any]]  # one per distinct TABLE_PARAMS value in the group


def _scan_group(group: Group, cfg: dict[str, Any] | None, path: str) -> _GroupSummary:
    from backtest.runner.store import ParamsDigest

    digest = ParamsDigest()
    count, uses_news = 0, False
    tables: dict[tuple[Any, ...], dict[str, Any]] = {}
    table_key = operator.itemgetter(*TABLE_PARAMS)
    combos = iter_group(group, cfg, where=f"{path}: group {group.group_id}")
    while batch := list(itertools.islice(combos, 4096)):
        count += len(batch)
        digest.update(batch)
        for combo in batch:
            tables.setdefault(table_key(combo), combo)
            uses_news = uses_news or combo["news_filter"]
    return _GroupSummary(count, digest.hexdigest(), uses_news, list(tables.values()))


def scan_groups(
    groups_file: GroupsFile, cfg: dict[str, Any] | None = None, processes: int = 1
) -> GroupScan:
    """Expand every group once, combination by combination, to validate it (errors name
    the file, group and combination; the first bad group in file order) and count, digest
    and sample it; memory stays that of a batch of combinations, not of the run. A run of
    more than ``PARALLEL_SCAN`` combinations is scanned by ``processes`` forked processes,
    a group each at a time."""
    import functools

    scan = GroupScan({}, {}, None, [])
    work = functools.partial(_scan_group, cfg=cfg, path=groups_file.path)
    total = sum(combo_count(g) for g in groups_file.groups)
    if processes > 1 and total > PARALLEL_SCAN and len(groups_file.groups) > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            summaries = list(pool.imap(work, groups_file.groups))
    else:
        summaries = [work(g) for g in groups_file.groups]
    seen: set[tuple[Any, ...]] = set()
    table_key = operator.itemgetter(*TABLE_PARAMS)
    for group, summary in zip(groups_file.groups, summaries):
        scan.counts[group.group_id] = summary.count
        scan.digests[group.group_id] = summary.digest
        if scan.news_group is None and summary.uses_news:
            scan.news_group = group.group_id
        for combo in summary.table_combos:
            if table_key(combo) not in seen:
                seen.add(table_key(combo))
                scan.table_combos.append(combo)
    return scan


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
    names = list(group.grid)
    try:
        resolve = Resolver(group.symbol, cfg, where)
        for name, value in group.params.items():
            resolve.check(name, value, where)
        for name, grid_values in group.grid.items():
            for value in grid_values:
                resolve.check(name, value, where)
    except (ParamError, ConfigError) as exc:
        raise GroupsError(str(exc)) from None
    kept = 0
    for number, values in enumerate(itertools.product(*group.grid.values()), start=1):
        chosen = dict(zip(names, values))
        # lists (weekdays) are copied so that combinations never share one
        overrides = {
            k: list(v) if isinstance(v, list) else v for k, v in {**group.params, **chosen}.items()
        }
        try:
            if group.constraints:
                merged = {**resolve.defaults, **overrides}
                if not all(c(merged) for c in group.constraints):
                    continue
            try:
                combo = resolve(overrides, where, checked=True)
            except ParamError:  # again, naming the combination (built only when needed)
                listed = ", ".join(f"{k}={v!r}" for k, v in chosen.items())
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
