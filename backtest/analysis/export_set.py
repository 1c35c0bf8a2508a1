"""A group of a groups file as an MT5 Strategy Tester optimisation ``.set``
(``invoke export-set``): re-run the same grid in MT5's own tester and compare.

One line per Expert Advisor input (the names of config ``promote.set_inputs``), in the
five-field form MT5 saves for numeric and boolean inputs::

    InpSlMult=0.5||0.5||0.25||1.5||Y     value||start||step||stop||Y (optimised)
    InpMaxTradesPerDay=1||1||0||1||N     a fixed number
    InpNewsFilter=false||false||0||true||N   a boolean (``true``/``false``)
    InpIbStart=09:00                     a text input (MT5 cannot optimise text)

A gridded parameter must be an arithmetic range (its values, sorted, evenly spaced, all
of them listed: MT5 runs ``start, start + step, ..., stop``), and the group's constraints
must keep every combination of its grid (MT5 runs the whole product). Anything else is
refused with one line saying why. Non-numbers (docs/ANALYSIS.md, "MT5 cross-check"):

- ``--encoding promote`` (default): the production EA's inputs, as ``invoke promote``
  writes them: times ``HH:MM``, ``direction`` ``both|long|short``, ``weekdays`` ``0,1,2,3,4``
  (text; these can only be fixed);
- ``--encoding numeric``: an EA that takes them as numbers, so that MT5 can optimise them:
  times as minutes after midnight in the session time zone (``09:30`` -> 570), ``direction``
  0 both / 1 long / 2 short, ``weekdays`` a bit mask (bit d = weekday d, 0 = Monday:
  Monday..Friday -> 31).

The file is UTF-16 LE with a byte-order mark and CRLF line ends (what MT5 saves and
reads; ``invoke promote``'s encoding), ``;`` lines first saying what it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from backtest.strategy.params import (
    DIRECTIONS,
    FLOAT_PARAMS,
    PARAM_NAMES,
    TIME_PARAMS,
    Resolver,
    parse_hhmm,
)

ENCODINGS = ("promote", "numeric")
TEXT_PARAMS = (*TIME_PARAMS, "direction", "weekdays")


class ExportError(ValueError):
    """A group that cannot be written as an MT5 optimisation; the message says why."""


@dataclass(frozen=True)
class SetExport:
    """The ``.set`` text of one group and what it holds."""

    group_id: str
    symbol: str
    text: str
    optimised: list[str]  # the parameters MT5 sweeps (ibsweep names)
    combinations: int  # of the grid, = MT5's passes

    def encoded(self) -> bytes:
        """UTF-16 LE with a byte-order mark (MT5 ignores ``||Y`` in a UTF-8 file)."""
        from backtest.data.mt5_set import encode_set

        return encode_set(self.text)


def _numeric(name: str, value: Any) -> int | float:
    """A value of ``name`` as the number the ``numeric`` encoding writes."""
    if name in TIME_PARAMS:
        return parse_hhmm(value)
    if name == "direction":
        return DIRECTIONS.index(value)
    if name == "weekdays":
        return sum(1 << int(d) for d in set(value))
    if name in FLOAT_PARAMS:  # a double input, however the groups file spells it
        return float(value)
    return int(value)


def _decimal(value: int | float) -> Decimal:
    """Exactly the number as written (``0.1`` is 0.1, not its binary neighbour)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(int(value))


def _number(value: int | float) -> str:
    """A number as MT5 reads it (``invoke promote``'s way): whole numbers as digits, the
    float parameters' values at full precision (``1.0``, ``0.25``)."""
    from backtest.data.mt5_set import set_value

    return set_value(value)


def _arithmetic(
    name: str, numbers: list[Any], values: list[Any], where: str
) -> tuple[Any, Decimal, Any]:
    """``(start, step, stop)`` of a grid (``numbers``: its ``values`` as written to the
    file) that is an arithmetic range, else ExportError."""
    from backtest.data.mt5_set import set_value

    pairs = sorted(zip(numbers, values), key=lambda pair: _decimal(pair[0]))
    exact = [_decimal(n) for n, _ in pairs]
    if len(set(exact)) < len(exact):
        raise ExportError(f"{where}: grid {name}: two values are the same number in this encoding")
    step = exact[1] - exact[0]
    gaps = [b - a for a, b in zip(exact, exact[1:])]
    if any(gap != step for gap in gaps):
        listed = ", ".join(
            set_value(n) if n == v else f"{json.dumps(v)} = {set_value(n)}" for n, v in pairs
        )
        spaced = ", ".join(_number(int(g) if g == int(g) else float(g)) for g in gaps)
        raise ExportError(
            f"{where}: grid {name} [{listed}] is not an arithmetic range (gaps {spaced}): "
            "MT5 optimises start, start + step, ..., stop; split the group so that each "
            "part is a range"
        )
    return pairs[0][0], step, pairs[-1][0]


def _bool_line(input_name: str, values: list[bool]) -> str:
    if len(values) == 1:
        return f"{input_name}={'true' if values[0] else 'false'}||false||0||true||N"
    return f"{input_name}=false||false||0||true||Y"


def _line(
    name: str, input_name: str, values: list[Any], encoding: str, where: str
) -> tuple[str, bool]:
    """One input's line and whether MT5 optimises it."""
    from backtest.data.mt5_set import set_value

    if name == "news_filter":
        return _bool_line(input_name, [bool(v) for v in values]), len(values) > 1
    if name in TEXT_PARAMS and encoding == "promote":
        if len(values) > 1:
            listed = ", ".join(set_value(v) for v in values)
            raise ExportError(
                f"{where}: {name} varies ({listed}) but is a text input of the production "
                "EA (as invoke promote writes it), which MT5 cannot optimise; pass "
                "--encoding numeric for an EA that takes it as a number (docs/ANALYSIS.md)"
            )
        return f"{input_name}={set_value(values[0])}", False
    numbers = [_numeric(name, v) for v in values]
    if len(numbers) == 1:
        value = _number(numbers[0])
        return f"{input_name}={value}||{value}||0||{value}||N", False
    start, step, stop = _arithmetic(name, numbers, values, where)
    whole = all(isinstance(v, int) for v in numbers)
    first, last = _number(start), _number(stop)
    by = _number(int(step) if whole else float(step))
    return f"{input_name}={first}||{first}||{by}||{last}||Y", True


def export_group(
    groups_file: str | Path,
    group_id: str,
    cfg: dict[str, Any],
    encoding: str = "promote",
    risk: float | None = None,
    symbol: str | None = None,
) -> SetExport:
    """The ``.set`` of group ``group_id`` of ``groups_file`` (ExportError, GroupsError:
    one line saying why not)."""
    from backtest.runner.groups import combo_count, iter_group, load_groups_file

    if encoding not in ENCODINGS:
        raise ExportError(f"--encoding {encoding!r}: one of {', '.join(ENCODINGS)}")
    loaded = load_groups_file(groups_file, cfg, symbol=symbol, expand=False)
    found = {g.group_id: g for g in loaded.groups}
    if group_id not in found:
        known = ", ".join(list(found)[:5]) + (", ..." if len(found) > 5 else "")
        raise ExportError(f"--group {group_id}: not in {groups_file} (groups: {known})")
    group = found[group_id]
    where = f"{groups_file}: group {group_id}"
    total = combo_count(group)
    kept = sum(1 for _ in iter_group(group, cfg, where))  # validates every combination
    if kept != total:
        raise ExportError(
            f"{where}: its constraints keep {kept:,} of the grid's {total:,} combinations; "
            "MT5 runs the whole grid (it has no constraints): export a group without "
            "constraints that drop combinations"
        )
    defaults = Resolver(group.symbol, cfg, where).defaults
    names = cfg["promote"]["set_inputs"]
    lines, optimised = [], []
    for name in PARAM_NAMES:
        if name in group.grid:
            values = list(group.grid[name])
        else:
            values = [group.params.get(name, defaults[name])]
        line, swept = _line(name, names[name], values, encoding, where)
        lines.append(line)
        if swept:
            optimised.append(name)
    money = float(cfg["run"]["risk"] if risk is None else risk)
    lines.append(f"{names['risk']}={money!r}||{money!r}||0||{money!r}||N")
    comments = [
        f"ibsweep export-set: {group.symbol} group {group_id} of {Path(groups_file).name}, "
        f"{total} combinations",
        f"optimise: {', '.join(optimised) or 'nothing (one combination)'}; "
        f"encoding {encoding} (docs/ANALYSIS.md, MT5 cross-check)",
        "times are the session time zone's (" + session_zone(group.symbol, cfg) + ")",
    ]
    text = "\r\n".join([*(f"; {c}" for c in comments), *lines]) + "\r\n"
    return SetExport(group_id, group.symbol, text, optimised, total)


def session_zone(symbol: str, cfg: dict[str, Any]) -> str:
    """The symbol's session time zone (the clock of the times in the file)."""
    from backtest.core.config import symbol_spec

    return symbol_spec(symbol, cfg).timezone


def write_set(path: str | Path, export: SetExport) -> Path:
    """The ``.set`` file, atomically."""
    from backtest.core.atomic import atomic_write

    data = export.encoded()
    target = Path(path)
    atomic_write(target, lambda tmp: tmp.write_bytes(data))
    return target
