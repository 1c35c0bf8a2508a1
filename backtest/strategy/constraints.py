"""Constraints over the parameters of a combination (io-contract "Groups file").

A constraint is a boolean expression such as ``"tp_mult >= sl_mult"`` or
``"ib_end - ib_start >= 60"``. It is parsed with :mod:`ast` and run by a small
interpreter that knows only parameter names, numbers, strings, booleans,
comparisons (chains too), ``and``/``or``/``not``, unary ``-``/``+`` and
``+ - * /`` between numbers; anything else (calls, attributes, subscripts, ``**``,
arithmetic on strings or lists: ``"a" * 10**15`` would exhaust memory, ...) is refused
when parsed and nothing is ever handed to ``eval``. Times (the values of
``ib_start``, ``ib_end``, ``trade_end``, ``close_time`` and quoted ``"HH:MM"``
literals) are minutes after midnight, so they compare as times and subtract to
minutes. The groups file (``backtest.runner.groups``) and ``invoke make-groups``
both use this one class.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable
from typing import Any

from backtest.strategy.params import (
    PARAM_NAMES,
    PARAMS,
    TIME_PARAMS,
    ParamError,
    check_names,
    check_values,
    parse_hhmm,
)

MAX_LENGTH = 1000  # characters of one constraint
# Parameters whose values are numbers (times are minutes): the only names arithmetic takes.
NUMERIC_PARAMS = frozenset(p.name for p in PARAMS if p.numeric)
_TIME_LITERAL = re.compile(r"^(\d{1,2}):(\d{2})$")

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class ConstraintError(ParamError):
    """A constraint that cannot be parsed or evaluated; the message names it."""


def _literal(value: Any, text: str, where: str) -> Any:
    """A constant of the expression: ``"HH:MM"`` strings become minutes."""
    if isinstance(value, str):
        match = _TIME_LITERAL.match(value)
        if match:
            hours, minutes = int(match.group(1)), int(match.group(2))
            if hours > 23 or minutes > 59:
                raise ConstraintError(f"{where}: constraint {text!r}: {value!r} is not a time")
            return hours * 60 + minutes
    return value


class Constraint:
    """One parsed constraint; call it with a combination's parameters."""

    def __init__(self, text: Any, where: str):
        self.text = text
        self.where = where
        if not isinstance(text, str):
            raise ConstraintError(f"{where}: constraint {text!r} is not a string")
        if len(text) > MAX_LENGTH:
            raise ConstraintError(
                f"{where}: constraint of {len(text)} characters (at most {MAX_LENGTH})"
            )
        try:
            self.tree = ast.parse(text, mode="eval").body
        except SyntaxError as exc:
            raise ConstraintError(
                f"{where}: constraint {text!r} is not an expression: {exc.msg}"
            ) from None
        except (RecursionError, MemoryError):
            raise ConstraintError(f"{where}: constraint {text!r} is nested too deeply") from None
        self.names: set[str] = set()
        self._check(self.tree)
        check_names({n: None for n in self.names}, f"{where}: constraint {text!r}")

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self.names.add(node.id)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float, str, bool)):
                self._refuse(node)
            node.value = _literal(node.value, self.text, self.where)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self._check(value)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._check(node.operand)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            self._check_number(node.operand)
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            self._check_number(node.left)
            self._check_number(node.right)
        elif isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            self._check(node.left)
            for comp in node.comparators:
                self._check(comp)
        else:
            self._refuse(node)

    def _check_number(self, node: ast.AST) -> None:
        """An operand of arithmetic: a number, a numeric parameter or arithmetic itself.
        Strings and lists multiply into copies (``"a" * 10**15``: memory without bound),
        so they are refused here, before any combination is evaluated (an unknown name is
        left to :func:`check_names`, which suggests the known one)."""
        self._check(node)
        numeric = (
            (isinstance(node, ast.Constant) and type(node.value) in (int, float))
            or (
                isinstance(node, ast.Name)
                and (node.id in NUMERIC_PARAMS or node.id not in PARAM_NAMES)
            )
            or isinstance(node, ast.BinOp)
            or (isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not))
        )
        if not numeric:
            raise ConstraintError(
                f"{self.where}: constraint {self.text!r}: {ast.unparse(node)} is not a "
                "number (arithmetic + - * / takes numbers, times and numeric parameters only)"
            )

    def _refuse(self, node: ast.AST) -> None:
        raise ConstraintError(
            f"{self.where}: constraint {self.text!r}: '{ast.unparse(node)}' is not "
            "allowed (only parameter names, numbers, strings, comparisons, "
            "and/or/not, + - * /)"
        )

    def __call__(self, params: dict[str, Any]) -> bool:
        """Whether ``params`` (every name the constraint uses) satisfies it."""
        try:
            return bool(self._eval(self.tree, params))
        except (TypeError, ZeroDivisionError, OverflowError) as exc:
            raise ConstraintError(
                f"{self.where}: constraint {self.text!r} fails on "
                f"{json.dumps({n: params.get(n) for n in sorted(self.names)})}: {exc}"
            ) from None

    def _value(self, name: str, params: dict[str, Any]) -> Any:
        value = params[name]
        if name in TIME_PARAMS:
            return parse_hhmm(value, self.where, name)
        return value

    def _eval(self, node: ast.AST, params: dict[str, Any]) -> Any:
        if isinstance(node, ast.Name):
            return self._value(node.id, params)
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
        assert isinstance(node, ast.Compare)
        left = self._eval(node.left, params)
        for op, comp in zip(node.ops, node.comparators):
            right = self._eval(comp, params)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True


def parse_constraints(raw: Any, where: str) -> list[Constraint]:
    """A list of constraint strings (or one string) as :class:`Constraint` objects."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise ConstraintError(f"{where}: {raw!r} must be a list of expressions")
    return [Constraint(text, f"{where}[{i}]") for i, text in enumerate(raw)]


def check_block(
    fixed: dict[str, Any], grid: dict[str, Any], constraints: Any, where: str
) -> list[Constraint]:
    """A block's (a grid file's or a search space's) fixed ``params``, ``grid`` names and
    ``constraints``: known names, none both fixed and in the grid, each fixed value
    valid (:func:`check_values`); the constraints parsed. ParamError naming ``where``."""
    check_names(fixed, f"{where}.params")
    check_names(grid, f"{where}.grid")
    parsed = parse_constraints(constraints, f"{where}.constraints")
    both = sorted(set(fixed) & set(grid))
    if both:
        raise ParamError(f"{where}: {both} in both 'params' and 'grid'")
    for name, value in fixed.items():
        check_values(name, [value], f"{where}.params.{name}")
    return parsed
