"""``fab deploy --dry-run``'s local check: each host's exact runner options, put through
the runner's own preparation here, before anything connects.

The options are the words :func:`farm.steps.runner_command` puts on the host's command
line (:func:`farm.steps.runner_values` through the runner's option table), parsed back
by the runner's own parser into a :class:`~backtest.runner.options.RunOptions`, with
this machine's paths: the host's slice of the groups file (cut as ``host_tools filter``
cuts it), the local data and news files, and a temporary output directory. Then
:func:`backtest.runner.plan.prepare`, the runner's checks, runs on them: what the host's
runner would refuse (exit 2) is refused here, in the runner's words, naming the host.

``prepare`` loads the data. Hosts whose options differ only in their slice are checked
together, once, on the union of their slices: each check of ``prepare`` that refuses a
set of groups also refuses any larger set, so a union that passes means every slice
does. Only a refused union is checked host by host, so that the error names the hosts
that have it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from farm import steps
from farm.errors import RunnerRefusedError
from farm.hosts import Farm, Host, SymbolSetup

CONFIG_ENV = "IBSWEEP_CONFIG"  # the only environment variable the runner's checks read
# Runner options a refusal may name, and the hosts.yaml fields that set them (the fix).
_FIELDS = {
    "--news-file": "symbols.{symbol}.news_file",
    "--server-tz": "symbols.{symbol}.server_tz",
    "--spread-model": "symbols.{symbol}.spread_model",
    "--spread-source": "symbols.{symbol}.spread_source",
    "--slippage": "symbols.{symbol}.slippage",
    "--start-date": "symbols.{symbol}.{period}.start_date",
    "--end-date": "symbols.{symbol}.{period}.end_date",
    "--strict-data": "symbols.{symbol}.{period} (data_file, start_date, end_date) "
    "or strict_data: false",
}


@dataclass
class _Check:
    """Hosts whose runner options are the same but for their groups."""

    values: dict[str, Any]
    config: str | None
    hosts: list[Host] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    plan: Any = None  # backtest.runner.plan.RunPlan
    error: str | None = None
    warnings: tuple[str, ...] = ()


def check_runner_options(farm: Farm, hosts: list[Host]) -> dict[str, list[str]]:
    """Each host's runner options through the runner's checks, here; host name -> lines
    for its dry-run plan. Raises :class:`~farm.errors.RunnerRefusedError` (exit 2) with
    one line per host whose runner would refuse its options."""
    from backtest.runner.groups import load_groups_file
    from backtest.runner.plan import input_errors

    checks: dict[tuple[Any, ...], _Check] = {}
    refused: dict[str, str] = {}
    for h in hosts:
        setup_ = farm.symbols[h.symbol]
        config = dict(h.env).get(CONFIG_ENV)
        try:
            with _runner_environment(config):
                data = _local_data(setup_, h.period)
        except input_errors() as exc:
            refused[h.name] = _refusal(farm, h, " ".join(str(exc).split()))
            continue
        values = steps.runner_values(
            h,
            setup_,
            groups_file="",
            output_dir="",
            data_file=str(data),
            news_file=None if setup_.news_file is None else str(setup_.news_file),
        )
        key = (h.symbol, config, *values.items())
        checks.setdefault(key, _Check(values, config)).hosts.append(h)
    slices: dict[str, list[dict[str, Any]]] = {}
    groups_of: dict[str, list[str]] = {}
    for symbol in dict.fromkeys(h.symbol for h in hosts):
        path = farm.symbols[symbol].groups_file
        assert path is not None, "deploy's hosts are loaded with need_groups=True"
        loaded = load_groups_file(path, expand=False)
        for h in (h for h in hosts if h.symbol == symbol):
            chosen = [loaded.groups[i] for i in h.indices(len(loaded.groups))]
            slices[h.name] = [g.raw for g in chosen]
            groups_of[h.name] = [g.group_id for g in chosen]
    lines: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="ibsweep-check-") as tmp:
        for n, check in enumerate(checks.values()):
            symbol = check.hosts[0].symbol
            union = [raw for h in check.hosts for raw in slices[h.name]]
            label = str(farm.symbols[symbol].groups_file)
            together = _prepare(check, symbol, label, union, Path(tmp) / f"check-{n}")
            for h in check.hosts:
                alone = together
                if together.error is not None and len(check.hosts) > 1:
                    alone = _prepare(
                        check, symbol, label, slices[h.name], Path(tmp) / f"{h.name}-{n}"
                    )
                if alone.error is not None:
                    refused[h.name] = _refusal(farm, h, alone.error)
                    continue
                plan = alone.plan if alone.plan is not None else together.plan
                lines[h.name] = _summary(h, plan, groups_of[h.name], alone.warnings)
    if refused:
        raise RunnerRefusedError("\n".join(refused[h.name] for h in hosts if h.name in refused))
    return lines


def _local_data(setup_: SymbolSetup, period: str) -> Path:
    """The data file the host's runner reads, as a file here: hosts.yaml's, else (with
    ``allow_sample``) the built-in sample data the host generates, the same file."""
    local = setup_.data_path(period)
    if local is not None:
        return local
    from backtest.core.config import load_config
    from backtest.data.sample import ensure_sample

    return ensure_sample(setup_.name, period, load_config(None))


def _prepare(
    check: _Check, symbol: str, label: str, raw_groups: list[dict], folder: Path
) -> _Outcome:
    """``prepare`` of the check's options on these groups, as the runner would run it:
    the words parsed back by the runner's parser, its environment, its log captured.
    Messages name the groups file ``label`` (hosts.yaml's) for the slice written here."""
    from backtest.runner.groups import write_groups_file
    from backtest.runner.options import RunOptions, build_parser, runner_arguments
    from backtest.runner.plan import input_errors, prepare

    folder.mkdir()
    groups = folder / "groups_filtered.json"
    write_groups_file(groups, symbol, raw_groups)
    out = folder / "out"
    words = runner_arguments({**check.values, "groups_file": groups, "output_dir": out})

    def shown(text: str) -> str:  # this machine's temporary paths as the user knows them
        text = " ".join(text.split())
        return text.replace(str(groups), label).replace(str(out), "the host's output dir")

    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):
            args = build_parser().parse_args(words)
    except SystemExit:
        return _Outcome(error=shown(usage.getvalue().removeprefix("error: ")))
    opts = RunOptions(**{f.name: getattr(args, f.name) for f in fields(RunOptions)})
    with _runner_environment(check.config), _captured_warnings() as warnings:
        try:
            plan = prepare(opts)
        except input_errors() as exc:
            return _Outcome(error=shown(str(exc)), warnings=tuple(map(shown, warnings)))
    return _Outcome(plan=plan, warnings=tuple(map(shown, warnings)))


@contextlib.contextmanager
def _runner_environment(config: str | None) -> Iterator[None]:
    """The host's runner sees hosts.yaml's ``env``, not this shell's: its
    ``IBSWEEP_CONFIG`` (the config file) as the host has it, or none."""
    saved = os.environ.get(CONFIG_ENV)
    os.environ.pop(CONFIG_ENV, None)
    if config is not None:
        os.environ[CONFIG_ENV] = config
    try:
        yield
    finally:
        os.environ.pop(CONFIG_ENV, None)
        if saved is not None:
            os.environ[CONFIG_ENV] = saved


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """The warnings the runner would log while preparing (coverage gaps, sample data)."""
    from backtest.runner.run_log import log

    handler = _ListHandler()
    log.addHandler(handler)
    try:
        yield handler.lines
    finally:
        log.removeHandler(handler)


def _summary(h: Host, plan: Any, ids: list[str], warnings: tuple[str, ...]) -> list[str]:
    combos = sum(plan.scan.counts.get(g, 0) for g in ids)
    data = plan.data
    lines = [
        f"check  the runner accepts these options (checked here): {len(ids)} group(s), "
        f"{combos:,} combinations, {data['source']} data {str(data['checksum'])[:12]} "
        f"({data['bars']:,} bars {plan.start_date}..{plan.end_date})"
    ]
    return lines + [f"check  warning: {w}" for w in warnings]


def _refusal(farm: Farm, h: Host, error: str) -> str:
    """One line: the host, the runner's own error, and the hosts.yaml fields to look at."""
    named = [
        name.format(symbol=h.symbol, period=h.period)
        for flag, name in _FIELDS.items()
        if flag in error
    ]
    fix = (
        f"set or correct {', '.join(dict.fromkeys(named))} in {farm.path}"
        if named
        else "correct the input it names"
    )
    return (
        f"{h.name}: its runner would refuse to start (exit 2, checked here by --dry-run): "
        f"{error}; fix: {fix}, then fab deploy --dry-run again"
    )
