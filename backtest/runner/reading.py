"""The read edge of result files: what every reader of a run's files goes through.

Results may come from another machine (``fab collect``, ``invoke merge``) or be edited
by hand, so nothing in them is trusted before it passes here:

- a file is opened only if it is a regular file reached without a symbolic link
  (:func:`open_regular`): a planted ``charts/x.png -> /etc/shadow`` is never read nor
  copied, a FIFO never blocks a reader;
- JSON is parsed with its nesting bounded (:func:`read_json`, :func:`parse_json`): a
  document nested 100,000 deep is refused, not a RecursionError deep in a reader;
- a document's known fields have their types (:func:`check`, with :class:`Fields`,
  :class:`Items` and the scalar kinds below), its other fields (the io-contract lets
  writers add them) a bounded depth.

Every problem is a :class:`ResultsError` whose one line names the file and the field;
the tasks turn it into ``error: ...`` and exit 2.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

# How deep a value of a field the schema does not know may nest (the writers' own
# extras, e.g. metadata.data.coverage, are 3 deep).
MAX_DEPTH = 32


class ResultsError(ValueError):
    """A results file that is missing or cannot be read; the message names it (and the
    field at fault)."""


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file and its last component is not
    a symbolic link; else ResultsError (FileNotFoundError when it does not exist)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        if Path(path).is_symlink():
            raise ResultsError(f"{path} is a symbolic link: not read") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ResultsError(f"{path} is not a regular file: not read")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def linked(path: Path, below: Path) -> Path | None:
    """The first of ``path`` and its folders up to ``below`` (exclusive) that is a
    symbolic link; None when there is none (``path`` must be inside ``below``)."""
    path, below = Path(path), Path(below)
    for step in [path, *path.parents]:
        if step == below:
            return None
        if step.is_symlink():
            return step
    raise ValueError(f"{path} is not inside {below}")


def parse_json(text: str | bytes, where: str) -> Any:
    """``text`` as JSON; ResultsError naming ``where`` when it is not, or nests too deep
    for the parser (the depth of what it returns is bounded by :func:`check`)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ResultsError(f"{where}: nested too deeply to be a results document") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ResultsError(f"{where}: not valid JSON: {' '.join(str(exc).split())}") from None


def read_json(path: Path) -> Any:
    """The JSON document in ``path`` (a regular file, :func:`open_regular`)."""
    with open_regular(path) as handle:
        return parse_json(handle.read(), str(path))


@dataclass(frozen=True)
class Kind:
    """A JSON scalar's type: its name in messages, the Python types it parses to (a
    ``bool`` is no number), and whether a float must be finite (NaN and Infinity parse)."""

    name: str
    types: frozenset[type]
    finite: bool = False

    def test(self, value: Any) -> bool:
        return type(value) in self.types and not (
            self.finite and type(value) is float and not math.isfinite(value)
        )


NUMBER = Kind("a finite number", frozenset({int, float}), finite=True)
REAL = Kind("a number", frozenset({int, float}))  # NaN allowed (the analysis files write it)
COUNT = Kind("a whole number", frozenset({int}))
TEXT = Kind("text", frozenset({str}))
FLAG = Kind("true or false", frozenset({bool}))


def maybe(kind: Kind) -> Kind:
    """``kind`` or null; a field of this kind may also be absent."""
    return Kind(f"{kind.name} or null", kind.types | {type(None)}, kind.finite)


@dataclass(frozen=True)
class Items:
    """A list whose every item is ``item``; ``optional``: null or absent too."""

    item: Spec
    optional: bool = False


@dataclass(frozen=True)
class Entries:
    """An object whose every value is ``item`` (keys are text, as in any JSON object)."""

    item: Spec
    optional: bool = False


@dataclass(frozen=True)
class Fields:
    """An object whose listed fields have their spec (absent only where the spec allows
    null); fields not listed may be anything up to :data:`MAX_DEPTH` deep."""

    fields: dict[str, Spec] = field(default_factory=dict)
    optional: bool = False

    @cached_property
    def required(self) -> list[str]:
        """The fields that must be there."""
        return [key for key, spec in self.fields.items() if not _may_lack(spec)]


Spec = Kind | Items | Entries | Fields


def check(value: Any, spec: Spec, where: str) -> Any:
    """``value`` if it fits ``spec``; else ResultsError: ``where`` (the file), the field at
    fault and what is wrong with it."""
    problem = _problem(value, spec)
    if problem is not None:
        steps, what = problem
        name = "".join(reversed(steps)).lstrip(".") or "the document"
        raise ResultsError(f"{where}: {name} {what}")
    return value


def _may_lack(spec: Spec) -> bool:
    return spec.test(None) if isinstance(spec, Kind) else spec.optional


# What is wrong with a value: the path to the field at fault (its steps from the inside
# out, ".key" or "[n]") and the problem.
Problem = tuple[list[str], str]


def _problem(value: Any, spec: Spec) -> Problem | None:
    """What is wrong with ``value``; None if nothing. Loops over the data (recursion only
    as deep as the spec); no text is made unless something is wrong."""
    if isinstance(spec, Kind):
        return None if spec.test(value) else ([], f"{_shown(value)} is not {spec.name}")
    if value is None and spec.optional:
        return None
    if isinstance(spec, Items):
        if type(value) is not list:
            return [], f"{_shown(value)} is not a list"
        for n, item in enumerate(value):
            problem = _problem(item, spec.item)
            if problem is not None:
                problem[0].append(f"[{n}]")
                return problem
        return None
    if type(value) is not dict:
        return [], f"{_shown(value)} is not an object"
    fields, every = (None, spec.item) if isinstance(spec, Entries) else (spec.fields, None)
    for key in spec.required if isinstance(spec, Fields) else ():
        if key not in value:
            return [f".{key}"], "is missing"
    for key, item in value.items():
        sub = every if fields is None else fields.get(key)
        if sub is None:
            deep = _depth(item) > MAX_DEPTH
            problem = ([], f"nests deeper than {MAX_DEPTH} levels") if deep else None
        elif type(sub) is Kind:  # the common case inline: no call when the value fits
            if type(item) in sub.types and not (
                sub.finite and type(item) is float and not math.isfinite(item)
            ):
                continue
            problem = [], f"{_shown(item)} is not {sub.name}"
        else:
            problem = _problem(item, sub)
        if problem is not None:
            problem[0].append(f".{key}")
            return problem
    return None


def _depth(value: Any) -> int:
    """How deep ``value`` nests (a scalar 0), counted without recursion and without
    looking further than :data:`MAX_DEPTH` + 1."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _shown(value: Any) -> str:
    """A value as a message shows it: scalars by ``repr`` (shortened), containers by kind."""
    if isinstance(value, dict):
        return "(an object)"
    if isinstance(value, list):
        return "(a list)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
