"""invoke tasks that take the runner's options, from the runner's one option table.

``@run_option_task(names)`` gives a task the run options ``names`` of
:class:`backtest.runner.options.RunOptions`, with the table's defaults and help, after
the task's own parameters: a run option is described once, whatever command takes it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from invoke import task

from backtest.runner.options import option_default, option_fields


def run_option_task(
    names: tuple[str, ...] | None = None,
    *,
    help: dict[str, str] | None = None,
    **task_kw: Any,
) -> Callable[[Callable[..., Any]], Any]:
    """invoke's ``@task`` for ``fn(c, <own parameters>, **options)``: the task's
    command line is its own parameters (``help`` describes them) and then the run
    options ``names`` (all when None), which reach ``fn`` in ``**options``."""

    def wrap(fn: Callable[..., Any]) -> Any:
        own = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        taken = {p.name for p in own}
        rows = [row for row in option_fields(names) if row.name not in taken]
        params = own + [
            inspect.Parameter(
                row.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=option_default(row)
            )
            for row in rows
        ]
        fn.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        fn.run_options = tuple(row.name for row in rows)  # type: ignore[attr-defined]
        helps = {row.name: row.metadata["help"] for row in rows}
        optional = [row.name for row in rows if row.metadata.get("optional_value")]
        return task(
            auto_shortflags=False,
            help={**(help or {}), **helps},
            optional=optional,
            **task_kw,
        )(fn)

    return wrap
