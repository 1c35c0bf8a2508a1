"""The explore API's language: the table's columns and how each compares, a filter box's
text read (:func:`read_filter`) and its SQL (:func:`read_sql`, the meaning every faster path
of :mod:`backtest.analysis.explore` must equal), a request's sort, filters and page
(:class:`Query`)."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from backtest.analysis.report import MT5_COLUMNS
from backtest.runner.store import METRIC_TYPES, PARAM_TYPES, combos_schema

LIMIT = 1000  # rows per page by default
MAX_LIMIT = 10_000  # and at most
ROW = "row"  # run order (the row's position in the Parquet file): ties break by it


class ExploreError(ValueError):
    """A run folder or a query that cannot be served; the message says why."""


def _kind(kind: pa.DataType) -> str:
    """How a column compares: ``number`` (ints, floats, flags as 0/1), ``text`` or ``list``."""
    if pa.types.is_list(kind):
        return "list"
    if pa.types.is_string(kind):
        return "text"
    return "number"


# The report's MT5 columns (report.MT5_COLUMNS, computed as its _mt5_columns does: None
# without trades, and where not finite), as columns of the loaded table.
DERIVED = {
    "recovery_factor": "CASE WHEN trades > 0 THEN CASE WHEN max_dd_r > 0 THEN total_r / max_dd_r "
    "WHEN coalesce(total_r, 0) > 0 THEN NULL ELSE 0.0 END END",
    "expected_payoff": "CASE WHEN trades > 0 THEN total_pnl / trades END",
}
assert set(DERIVED) == set(MT5_COLUMNS), "every MT5 column of the report, and no other"
COLUMN_KINDS: dict[str, str] = {
    **{f.name: _kind(f.type) for f in combos_schema()},
    **dict.fromkeys(DERIVED, "number"),
}
PARAMS = tuple(PARAM_TYPES)
METRICS = (*METRIC_TYPES, *DERIVED)


def ident(column: str) -> str:
    """``column`` quoted for SQL, after checking it is a column of the results table."""
    if column not in COLUMN_KINDS and column != ROW:
        raise ExploreError(f"unknown column {column!r} (columns: {', '.join(COLUMN_KINDS)})")
    return f'"{column}"'


def label(column: str) -> str:
    """SQL for a column's value as the page shows it in text (a list as ``[0,1]``, a
    missing value as ``''``): what ``=text`` and substring filters compare."""
    name = ident(column)
    if COLUMN_KINDS[column] == "list":
        return f"coalesce('[' || array_to_string({name}, ',') || ']', '')"
    return f"coalesce(CAST({name} AS VARCHAR), '')"


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_RANGE = re.compile(r"^(.*?)\s*\.\.\s*(.*)$")
_COMPARE = re.compile(r"^(>=|<=|!=|>|<|=)\s*(.*)$")


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if _NUMBER.match(text) else None


@dataclass(frozen=True)
class Filter:
    """One filter box read: ``op`` compares numbers (``between``, ``>``, ``>=``, ``<``,
    ``<=``, ``=``, ``!=``) or text (``is``, ``is not``: the whole shown value;
    ``contains``: a case-blind part of it, the operand lowered)."""

    column: str
    op: str
    operands: tuple[Any, ...]

    @property
    def numeric(self) -> bool:
        return self.op not in ("is", "is not", "contains")


def read_filter(column: str, text: str) -> Filter | None:
    """One filter box's text on ``column``, read as the report page reads it: ``>=100``,
    ``<0``, ``=1``, ``!=0`` compare numbers (missing values match only ``!=``),
    ``0.5..1.5`` is a range, ``=text``/``!=text`` the whole shown value, anything else a
    case-blind substring of it. None for an empty box; ExploreError when a number
    comparison is asked of a text column or is not a number."""
    text = text.strip()
    if not text:
        return None
    ident(column)
    if found := _RANGE.match(text):
        low, high = _number(found.group(1)), _number(found.group(2))
        if low is None or high is None:
            raise ExploreError(f'filter on {column}: "{text}" is not a range of numbers')
        _numeric(column, text)
        return Filter(column, "between", (low, high))
    if found := _COMPARE.match(text):
        op, operand = found.group(1), found.group(2)
        number = _number(operand)
        if number is None:
            if op in ("=", "!="):
                return Filter(column, "is" if op == "=" else "is not", (operand,))
            raise ExploreError(
                f'filter on {column}: "{operand}" is not a number ({op} compares numbers)'
            )
        _numeric(column, text)
        return Filter(column, op, (number,))
    return Filter(column, "contains", (text.lower(),))


def filter_sql(column: str, text: str) -> tuple[str, list[Any]] | None:
    """:func:`read_filter`'s filter as SQL with ``?`` parameters (None for an empty box):
    what the rows kept must equal, and how a column without a small set of values is
    filtered by its text."""
    read = read_filter(column, text)
    return None if read is None else read_sql(read)


def read_sql(read: Filter) -> tuple[str, list[Any]]:
    # numbers as doubles (flags 0/1), -0.0 as 0.0
    value = f"(CAST({ident(read.column)} AS DOUBLE) + 0.0)"
    if read.op == "between":
        return f"{value} BETWEEN ? AND ?", list(read.operands)
    if read.op == "!=":
        return f"({value} IS NULL OR {value} <> ?)", list(read.operands)
    if read.numeric:
        return f"{value} {read.op} ?", list(read.operands)
    if read.op == "contains":
        return f"contains(lower({label(read.column)}), ?)", list(read.operands)
    return f"{label(read.column)} {'=' if read.op == 'is' else '<>'} ?", list(read.operands)


def _numeric(column: str, text: str) -> None:
    if COLUMN_KINDS[column] != "number":
        raise ExploreError(
            f'filter on {column}: "{text}" compares numbers and {column} holds '
            f"{COLUMN_KINDS[column]}: use =text or a part of the text"
        )


def where_sql(filters: dict[str, str]) -> tuple[str, list[Any]]:
    """Every filter ANDed: the WHERE clause (``TRUE`` when none) and its parameters."""
    parts, params = [], []
    for column, text in sorted(filters.items()):
        read = filter_sql(column, text)
        if read is not None:
            parts.append(read[0])
            params.extend(read[1])
    return (" AND ".join(parts) or "TRUE"), params


@dataclass(frozen=True)
class Query:
    """One request of the API: sort column and direction, filters, page."""

    sort: str = ROW
    desc: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    offset: int = 0
    limit: int = LIMIT

    @classmethod
    def parse(cls, query: str) -> Query:
        """From a URL's query string: ``sort=total_r&desc=1&offset=0&limit=100`` and
        ``filter=COLUMN:TEXT`` (repeated; TEXT as in the page's filter boxes)."""
        args = urllib.parse.parse_qs(query, keep_blank_values=True)
        unknown = set(args) - {"sort", "desc", "offset", "limit", "filter"}
        if unknown:
            raise ExploreError(f"unknown parameter {sorted(unknown)[0]!r}")
        sort = args.get("sort", [ROW])[-1] or ROW
        ident(sort)
        filters: dict[str, str] = {}
        for item in args.get("filter", []):
            column, colon, text = item.partition(":")
            if not colon:
                raise ExploreError(f"filter {item!r}: not COLUMN:TEXT")
            ident(column)
            filters[column] = text
        return cls(
            sort=sort,
            desc=args.get("desc", ["0"])[-1] in ("1", "true"),
            filters=tuple(sorted(filters.items())),
            offset=_whole(args.get("offset", ["0"])[-1], "offset", 10**12),
            limit=_whole(args.get("limit", [str(LIMIT)])[-1], "limit", MAX_LIMIT, 1),
        )


def _whole(text: str, name: str, high: int, low: int = 0) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ExploreError(f"{name}: {text!r} is not a whole number in {low}..{high}")
    return int(text)


def sort_sql(column: str) -> str:
    """What a column sorts by: numbers (flags as 0/1) as numbers, text as text (binary
    order), a list by its shown text."""
    kind = COLUMN_KINDS.get(column, "number")
    if kind == "number":
        return f"CAST({ident(column)} AS DOUBLE)"
    return f"CASE WHEN {ident(column)} IS NOT NULL THEN {label(column)} END"
