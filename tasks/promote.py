"""invoke tasks (production): promote a combination to the live bot, roll back, preflight."""

from __future__ import annotations

from pathlib import Path

from invoke import Exit, task

from tasks.analysis import _cfg
from tasks.edge import error


def _bad_input() -> tuple[type[BaseException], ...]:
    from backtest.promotion.checklist import PromoteError
    from backtest.runner.outputs import ResultsError

    return PromoteError, ResultsError, ValueError, OSError


def _share(value: object, option: str, default: float) -> float:
    """``--min-match`` / ``--max-breach`` as a number (the library checks 0..1)."""
    if value is None:
        return default
    try:
        return float(str(value))
    except ValueError:
        raise Exit(f"error: {option}: {value!r} is not a number from 0 to 1", code=2) from None


def _exit_on_fail(checks: list, what: str) -> None:
    """Exit 1 naming the lines that FAIL or are MISSING (their reasons say what to do)."""
    from backtest.promotion.checklist import blocking

    bad = blocking(checks)
    if bad:
        names = ", ".join(f"{c.name} {c.status}" for c in bad)
        raise Exit(f"{len(bad)} check(s) FAIL or MISSING ({names}): {what}", code=1)


@task(
    auto_shortflags=False,
    help={
        "from_": "the in-sample results directory (results_full_{SYMBOL}.json)",
        "group": "group id of the combination to promote",
        "combo": "the combination's index inside its group (as in results_combos)",
        "bot_dir": "the live bot's folder (its .env, news file, parameter files, log)",
        "control_from": "directory with control_vs_in_sample_{SYMBOL}.json holding the "
        "combination (default: --from, else control is run for it)",
        "account": "demo (default) or real (needs an earlier DEMO promotion and a reconciled "
        "DEMO session)",
        "min_match": "the match rate a reconcile of a DEMO session needs for REAL (default 0.9)",
        "program": "the prop program of the whole-account check (default the5ers_high_stakes)",
        "programs": "programs YAML with --program (default: the shipped programs.yaml)",
        "max_breach": "the whole account's largest simulated P(breach) (default 0.1)",
        "dry_run": "evaluate the checklist and print it; write nothing to the bot folder",
        "rollback": "restore the previous parameter files of --symbol in --bot-dir",
        "symbol": "symbol (rollback: required; promote: only when --from holds several)",
        "control_data_file": "control-period data file when control has to be run (default: "
        "the config's control data; never sample data after a run on real data)",
        "control_start_date": "first control trading day when control has to be run (default: "
        "the config's control period; never inside the in-sample period)",
        "control_end_date": "last control trading day when control has to be run (default: the "
        "config's control period)",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def promote(
    c,
    from_=None,
    group=None,
    combo=None,
    bot_dir=None,
    control_from=None,
    account="demo",
    dry_run=False,
    rollback=False,
    symbol=None,
    control_data_file=None,
    control_start_date=None,
    control_end_date=None,
    min_match=None,
    program=None,
    programs=None,
    max_breach=None,
    config=None,
):
    """Check a combination against the production checklist and write it to the live bot."""
    import datetime as dt

    from backtest.analysis.account import DEFAULT_MAX_BREACH
    from backtest.analysis.reconcile_evidence import MIN_MATCH
    from backtest.core.config import execution_text
    from backtest.core.programs import DEFAULT_PROGRAM
    from backtest.promotion.botfolder import BACKUP_DIR, LOG_FILE
    from backtest.promotion.checklist import format_table
    from backtest.promotion.control import ControlOptions
    from backtest.promotion.deploy import rollback as roll_back
    from backtest.promotion.flow import Request, deployed_execution
    from backtest.promotion.flow import promote as run_promote

    cfg = _cfg(config)
    if not bot_dir:
        raise Exit("error: --bot-dir is required", code=2)
    now = dt.datetime.now(dt.UTC)
    if rollback:
        if not symbol:
            raise Exit("error: --rollback needs --symbol", code=2)
        try:
            done = roll_back(Path(bot_dir), symbol, now)
        except _bad_input() as exc:
            raise error(exc) from None
        print(f"rolled back {symbol} in {bot_dir} to the files of {done.backup}:")
        for path in done.files.values():
            print(f"  {path}")
        print(f"log: {Path(bot_dir) / LOG_FILE}")
        return
    missing = [
        f"--{n}" for n, v in (("from", from_), ("group", group), ("combo", combo)) if v is None
    ]
    if missing:
        raise Exit(f"error: {', '.join(missing)} required (or --rollback)", code=2)
    if not str(combo).isdigit():
        raise Exit(f"error: --combo: {combo!r} is not a combination index (0, 1, ...)", code=2)
    request = Request(
        from_dir=Path(from_),
        group_id=str(group),
        combo=int(combo),
        bot_dir=Path(bot_dir),
        control_from=Path(control_from) if control_from else None,
        account=str(account).lower(),
        dry_run=dry_run,
        symbol=symbol,
        control=ControlOptions(control_data_file, control_start_date, control_end_date),
        min_match=_share(min_match, "--min-match", MIN_MATCH),
        program=program or DEFAULT_PROGRAM,
        programs_file=Path(programs) if programs else None,
        max_breach=_share(max_breach, "--max-breach", DEFAULT_MAX_BREACH),
    )
    try:
        outcome = run_promote(request, cfg, now)
    except _bad_input() as exc:
        raise error(exc) from None
    cand, ctl = outcome.evidence.candidate, outcome.evidence.control
    print(
        f"promote {cand.symbol} {cand.group_id} combo {cand.combo} to {request.account.upper()} "
        f"in {request.bot_dir}"
    )
    print(f"control: {ctl.path}{' (run now for this combination)' if ctl.ran_now else ''}")
    print(f"execution: {execution_text(deployed_execution(cand.symbol, cfg))}")
    print(format_table(outcome.checks))
    _exit_on_fail(outcome.checks, "nothing written")
    if outcome.written is None:
        print("dry run: nothing written")
        return
    written = outcome.written
    for path in written.files.values():
        print(f"wrote {path}")
    if written.backup:
        print(f"previous files kept in {Path(bot_dir) / BACKUP_DIR} ({written.backup})")
    print(f"log: {Path(bot_dir) / LOG_FILE}")


@task(
    auto_shortflags=False,
    help={
        "bot_dir": "the live bot's folder",
        "symbol": "check only this symbol's deployed parameters (default: every one)",
        "min_match": "the match rate a reconciled session needs (default 0.9)",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def preflight(c, bot_dir, symbol=None, min_match=None, config=None):
    """Re-run the checklist for what is deployed; change nothing.

    News, .env, limits and the reconciled sessions, as promote checked them."""
    from backtest.analysis.reconcile_evidence import MIN_MATCH
    from backtest.promotion.checklist import format_table
    from backtest.promotion.flow import preflight as run_preflight

    cfg = _cfg(config)
    share = _share(min_match, "--min-match", MIN_MATCH)
    try:
        result = run_preflight(Path(bot_dir), cfg, symbol, min_match=share)
    except _bad_input() as exc:
        raise error(exc) from None
    for sym, checks in result.items():
        print(f"preflight {sym} in {bot_dir}")
        print(format_table(checks))
    _exit_on_fail([c for checks in result.values() for c in checks], "do not start the bot")
