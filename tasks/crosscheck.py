"""invoke tasks (check a result by eye or in MT5): one day drawn, a group as an MT5 .set."""

from __future__ import annotations

from pathlib import Path

from invoke import Exit, task

from tasks.edge import error


def _whole(value: object, option: str) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise error(f"{option}: {value!r} is not a whole number >= 0")
    return int(text)


@task(
    auto_shortflags=False,
    help={
        "from_": "a results directory (results_full_{SYMBOL}.json)",
        "group": "group id of the combination (as in results_combos_{SYMBOL}.csv)",
        "combo": "index of the combination in its group (the combo column)",
        "date": "the trading day to draw, YYYY-MM-DD (a date of the session time zone)",
        "symbol": "symbol (needed only when the directory holds several)",
    },
)
def day(c, from_, group, combo, date, symbol=None):
    """Re-run one combination as recorded and draw one trading day (PNG and offline HTML)."""
    from backtest.analysis.day import day_view, write_day
    from backtest.analysis.merge import detect_symbol
    from backtest.data.files import DataError
    from backtest.runner.outputs import ResultsError

    index = _whole(combo, "--combo")
    folder = Path(from_)
    try:
        sym = detect_symbol([folder], symbol)
        view = day_view(folder, sym, group, index, date)
        paths = write_day(folder, view)
    except (ValueError, ResultsError, DataError, OSError) as exc:
        raise error(exc) from None
    ib = f"IB {view.ib['low']}..{view.ib['high']}" if view.ib else "no IB"
    trades = len(view.trades)
    print(
        f"{group} combo {index} on {view.date}: {len(view.times)} bars ({view.timezone}), "
        f"{ib}, {trades} trade{'s' if trades != 1 else ''}"
        + (f"; no trade: {view.note}" if view.note else "")
    )
    for t in view.trades:
        print(
            f"  #{t['trade']} {t['direction']} {t['entry_local']} at {t['entry_price']} -> "
            f"{t['exit_local']} at {t['exit_price']} ({t['exit_reason']}), {t['r']:+.4f} R"
        )
    for kind, path in paths.items():
        print(f"  {kind}: {path}")
    if view.differences:
        lines = [f"  {k}: recorded {a!r}, re-run {b!r}" for k, (a, b) in view.differences.items()]
        raise Exit(
            "error: the re-run's metrics differ from the recorded ones:\n" + "\n".join(lines),
            code=1,
        )


@task(
    auto_shortflags=False,
    name="export-set",
    help={
        "groups_file": "the groups file that holds the group",
        "group": "id of the group to export (its grid: each varied parameter an arithmetic "
        "range, constraints dropping nothing)",
        "output": "the .set file to write (default: {group}.set beside the groups file)",
        "encoding": "promote (default: times, direction and weekdays as text, as invoke "
        "promote writes them; they must be fixed) or numeric (times as minutes after "
        "midnight, direction 0/1/2, weekdays a bit mask: MT5 can optimise them)",
        "risk": "money risked per trade, the InpRisk line (default: the config's run.risk)",
        "symbol": "the groups' symbol when the file names none",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def export_set(
    c, groups_file, group, output=None, encoding="promote", risk=None, symbol=None, config=None
):
    """Write one group as an MT5 Strategy Tester optimisation .set (name=value||start||...||Y)."""
    from backtest.analysis.export_set import export_group, write_set
    from backtest.core.config import ConfigError, load_config

    try:
        cfg = load_config(config)
        money = None
        if risk is not None:
            try:
                money = float(risk)
            except ValueError:
                money = float("nan")
            if not 0 < money < float("inf"):
                raise error(f"--risk: {risk!r} is not a positive number")
        export = export_group(groups_file, group, cfg, encoding, money, symbol)
        path = Path(output) if output else Path(groups_file).parent / f"{group}.set"
        write_set(path, export)
    except (ValueError, ConfigError, OSError) as exc:
        raise error(exc) from None
    swept = ", ".join(export.optimised) or "nothing"
    print(
        f"{export.symbol} group {group}: {export.combinations} combinations, MT5 optimises "
        f"{swept} -> {path} (UTF-16 LE, load it in the tester's Inputs tab)"
    )
