"""The edge of every invoke task: a library error becomes one line and an exit code."""

from __future__ import annotations

from invoke import Exit


def error(problem: object, code: int = 2) -> Exit:
    """``error: <the problem on one line>`` (whitespace folded), to ``raise ... from None``."""
    return Exit(f"error: {' '.join(str(problem).split())}", code=code)
