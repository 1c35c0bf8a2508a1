"""invoke tasks (the prop account): both symbols on one account, the challenge, the risk."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from invoke import task

from tasks.edge import error


def _print(result: dict, paths: dict, seconds: float) -> None:
    picks = ", ".join(f"{p['symbol']} {p['risk']:g}" for p in result["picks"])
    print(result["rules_line"])
    print(
        f"account {result['program']['account_size']:g}: {picks} per trade; "
        f"{result['calendar']['days']} days {result['calendar']['first']}.."
        f"{result['calendar']['last']} (aligned by calendar date)"
    )
    for p in result["picks"]:
        print(f"  {p['symbol']}: trades from {p['source']}")
        for warning in p["warnings"]:
            print(f"  warning: {p['symbol']}: {warning}")
    for warning in result["calendar"]["warnings"]:
        print(f"  warning: {warning}")
    if result["equity"]["note"]:
        print(f"  note: {result['equity']['note']}")
    for row in result["rules"]:
        value = "" if row["value_pct"] is None else f" {row['value_pct']:.3f} %"
        limit = "" if row["limit_pct"] is None else f" (limit {row['limit_pct']:g} %)"
        print(f"  {row['status']:<7} {row['rule']}{value}{limit}: {row['detail']}")
    only = sum(b["only_combined"] for b in result["breaches"])
    print(
        f"  breaches over the history: {len(result['breaches'])} ({only} only on the combined "
        "account)"
    )
    for b in result["breaches"][:10]:
        print(
            f"    {b['date']} {b['rule']} {b['value_pct']:.3f} % > {b['limit_pct']:g} %"
            + (" (combined only)" if b["only_combined"] else "")
        )
    for key, title in (("replay", "replay"), ("simulation", "simulation")):
        s = result[key]
        print(
            f"{title} ({s['n']} challenges): passed {s['p_pass']:.1%}, breached "
            f"{s['p_breach']:.1%}, time limit {s['p_time_limit']:.1%}, unfinished "
            f"{s['p_unfinished']:.1%}; days to pass median {s['median_days_to_pass']}, "
            f"90 % {s['p90_days_to_pass']}"
        )
        for ph in s["phases"]:
            print(
                f"  {ph['phase']} ({ph['target_pct']:g} %): passed {ph['p_pass']:.1%}, median "
                f"{ph['median_days']} days, 90 % {ph['p90_days']}"
            )
    block = result["simulation"]["block"]["mean_block"]
    print(
        f"  stationary bootstrap, mean block {block:.2f} days, seed {result['simulation']['seed']}"
    )
    sizing = result["risk_sizing"]
    print(f"risk sizing (P(breach) <= {sizing['max_breach']:g}):")
    for lv in sizing["levels"]:
        sim = lv["simulation"]
        mark = " <= best" if sizing["best"] and lv["risk_pct"] == sizing["best"]["risk_pct"] else ""
        over = "" if lv["within_position_limit"] else "  over the program's risk per position"
        print(
            f"  {lv['risk_pct']:>6g} %: P(pass) {sim['p_pass']:6.1%}  P(breach) "
            f"{sim['p_breach']:6.1%}{over}{mark}"
        )
    if sizing["best"] is None:
        print("  no level keeps P(breach) within the bound and the program's risk per position")
    for path in paths.values():
        print(f"  {path}")
    print(f"done in {seconds:.1f} s")


@task(
    auto_shortflags=False,
    iterable=["pick"],
    help={
        "pick": "OUT:GROUP:COMBO, one per symbol (repeat --pick); OUT:GROUP:COMBO:SYMBOL when "
        "OUT holds several symbols. Runs with --save-daily, else re-run from recorded settings",
        "risk_per_symbol": "money per trade per pick, in pick order: 1000,800 (default: each "
        "run's risk)",
        "program": "prop program of the programs file (default the5ers_high_stakes; also "
        "the5ers_bootcamp)",
        "programs": "programs YAML file (default: programs.yaml at the repository root)",
        "risk_levels": "risk per trade levels, % of the account: START:STOP:STEP or a,b,c "
        "(default 0.25:5:0.25, 20 levels)",
        "max_breach": "the bound on P(breach) for the recommended risk (default 0.1)",
        "samples": "bootstrap paths (default 10000)",
        "seed": "bootstrap seed (default 0)",
        "horizon": "trading days per bootstrap path (default: the history's length)",
        "output_dir": "where the files go (default: backtest/output/account_{SYMBOLS})",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def account(
    c,
    pick,
    risk_per_symbol=None,
    program="the5ers_high_stakes",
    programs=None,
    risk_levels="0.25:5:0.25",
    max_breach=0.1,
    samples=10_000,
    seed=0,
    horizon=None,
    output_dir=None,
    config=None,
):
    """The prop account as the firm sees it: the picks on one account, the challenge, the risk.

    Every rule of the program on the account's history, the challenge replayed from every
    day and simulated by a seeded stationary bootstrap, P(pass) and P(breach) against risk.
    """
    from backtest.analysis.account import Settings, analyse
    from backtest.analysis.account_files import default_output_dir, provenance, write_account
    from backtest.analysis.account_picks import load_account, parse_levels, parse_pick
    from backtest.core.config import load_config
    from backtest.core.programs import load_program
    from backtest.runner.outputs import ResultsError

    started = time.perf_counter()
    try:
        cfg = load_config(config)
        prog = load_program(program, programs)
        settings = Settings(
            n_paths=int(samples),
            seed=int(seed),
            levels=tuple(parse_levels(risk_levels)),
            max_breach=float(max_breach),
            horizon=None if horizon is None else int(horizon),
        )
        specs = [parse_pick(p) for p in pick]
        acct = load_account(specs, prog, risk_per_symbol, cfg)
        result = analyse(acct, settings)
        out = Path(output_dir) if output_dir else default_output_dir(acct.symbols, cfg)
        command = " ".join(shlex.quote(a) for a in ["invoke", *sys.argv[1:]])
        paths = write_account(out, acct, result, provenance(settings, command))
    except (ValueError, ResultsError, OSError) as exc:
        raise error(exc) from None
    _print(result, paths, time.perf_counter() - started)
