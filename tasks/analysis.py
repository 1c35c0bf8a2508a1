"""invoke tasks (analysis): merge result dirs, control-period check, make groups, charts."""

from __future__ import annotations

from pathlib import Path

from invoke import task

from tasks.edge import error


def _cfg(config: str | None) -> dict:
    from backtest.core.config import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        raise error(exc) from None


def _dirs(values: list[str]) -> list[Path]:
    """``--dir a --dir b`` and ``--dir a,b`` both work."""
    return [Path(part) for value in values for part in value.split(",") if part.strip()]


@task(
    auto_shortflags=False,
    iterable=["dir"],
    help={
        "dir": "a result directory to merge; "
        "repeat (--dir a --dir b) or comma-separate (--dir a,b)",
        "output": "directory to write the merged results into (may be one of the inputs)",
        "groups_file": "the sweep's groups file: lists groups missing from every directory",
        "symbol": "symbol to merge (needed only when the directories hold several)",
        "force": "merge even if data checksum, code version, period, dates or risk differ",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def merge(c, dir, output, groups_file=None, symbol=None, force=False, config=None):
    """Merge result directories into one, re-rank, list missing/failed groups."""
    from backtest.analysis.merge import MergeError, merge_dirs

    cfg = _cfg(config)
    try:
        report = merge_dirs(
            _dirs(dir),
            Path(output),
            symbol=symbol,
            groups_file=Path(groups_file) if groups_file else None,
            force=force,
            cfg=cfg,
        )
        rerun = report.rerun_groups() if (report.missing or report.failed) else None
    except (MergeError, ValueError) as exc:
        raise error(exc) from None
    print("\n".join(report.summary_lines()))
    if rerun:
        print(f"re-run them with:\n  {rerun}")


@task(
    auto_shortflags=False,
    help={
        "from_": "the in-sample results directory (results_full_{SYMBOL}.json)",
        "top": "share ('10%') or count ('25') of the qualifying in-sample combinations to re-run",
        "min_count": "re-run at least this many combinations (at most all)",
        "rank_by": "metric that ranks the in-sample combinations: total_r (default), sharpe, "
        "profit_factor, r_over_dd, avg_r, winrate",
        "min_trades": "only in-sample combinations with at least this many trades qualify",
        "require_prop_ok": "only in-sample combinations inside the prop-firm limits qualify",
        "min_control_trades": "flag control results with fewer trades than this (default 30)",
        "output": "directory for control_vs_in_sample_{SYMBOL}.csv/.json/.npz (default: --from)",
        "data_file": "control-period data file (default: the config's control data; after a run "
        "on real data there is no fallback to sample data)",
        "start_date": "first control trading day (default: the config's control period); no "
        "control day may lie inside the in-sample period",
        "end_date": "last control trading day (default: the config's control period)",
        "server_tz": "broker server time zone of an MT5 control file (default: the in-sample "
        "run's)",
        "news_file": "news CSV for combinations with news_filter (default: the in-sample run's)",
        "symbol": "symbol (needed only when the directory holds several)",
        "engine": "fast or emulator (default: the in-sample run's)",
        "workers": "processes to spread the combinations over",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def control(
    c,
    from_,
    top="10%",
    min_count=10,
    rank_by="total_r",
    min_trades=0,
    require_prop_ok=False,
    min_control_trades=30,
    output=None,
    data_file=None,
    start_date=None,
    end_date=None,
    server_tz=None,
    news_file=None,
    symbol=None,
    engine=None,
    workers=1,
    config=None,
):
    """Re-run the best in-sample combinations on the control period, side by side."""
    import json

    from backtest.analysis.control import compare_control

    cfg = _cfg(config)
    try:
        path = compare_control(
            Path(from_),
            top=top,
            min_count=int(min_count),
            output_dir=Path(output) if output else None,
            data_file=data_file,
            cfg=cfg,
            engine=engine,
            workers=int(workers),
            symbol=symbol,
            news_file=news_file,
            start_date=start_date,
            end_date=end_date,
            server_tz=server_tz,
            rank_by=rank_by,
            min_trades=int(min_trades),
            require_prop_ok=require_prop_ok,
            min_control_trades=int(min_control_trades),
        )
    except (ValueError, OSError) as exc:
        raise error(exc) from None
    document = json.loads(path.with_suffix(".json").read_text())
    rows, ctl = document["rows"], document["metadata"]["control"]
    data = ctl["data"]
    print(
        f"control {ctl['start_date']}..{ctl['end_date']} ({ctl['trading_days']} trading days) on "
        f"{data['source']} data {data['path']} (sha256 {data['checksum'][:12]})"
    )
    print(f"{len(rows)} combinations re-run; best in-sample first:")
    for row in rows[:10]:
        note = " FEW TRADES" if row["few_control_trades"] else ""
        print(
            f"  {row['group_id']} combo {row['combo']}: R/trade in-sample "
            f"{row['is_r_per_trade']:+.3f}, control {row['ctl_r_per_trade']:+.3f} "
            f"({row['ctl_trades']} trades{note}), t {row['ctl_t_stat']:+.2f}, "
            f"prop {'ok' if not row['breaks_prop_limits'] else 'BROKEN'}"
        )
    losing = sum(r["control_loses_money"] for r in rows)
    breaking = sum(r["breaks_prop_limits"] for r in rows)
    few = sum(r["few_control_trades"] for r in rows)
    print(
        f"{losing} lose money on the control period, {breaking} break the prop limits, "
        f"{few} have fewer than {min_control_trades} control trades -> {path}"
    )
    if ctl["data"]["source"] == "sample":
        print("NOTE: the control period ran on built-in SAMPLE data (a random walk, no edge)")
    _refresh_report(Path(from_), path, symbol)


def _refresh_report(run: Path, written: Path, symbol: str | None) -> None:
    """The run's report rewritten with the control section, when it has one and the
    control file went beside it."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.report import refresh_report

    if written.parent.resolve() == run.resolve():
        refresh_report(run, detect_symbol([run], symbol))


@task(
    auto_shortflags=False,
    name="make-groups",
    iterable=["grid"],
    help={
        "symbol": "symbol of the groups (GER40, XAUUSD, ...); default: the grids' 'symbol'",
        "grid": "grid YAML (params, grid, constraints, or a list of such blocks); repeat "
        "(--grid a.yaml --grid b.yaml) or comma-separate to cut several grids together",
        "groups": "exactly how many groups to write (near-equal estimated cost)",
        "output": "groups file to write (default: groups_{SYMBOL}.json)",
        "id_prefix": "group ids are PREFIX001, PREFIX002, ... (default: group_{SYMBOL}_)",
        "hosts": "also print hosts.yaml ranges for this many hosts (near-equal cost each)",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def make_groups(c, grid, groups, symbol=None, output=None, id_prefix=None, hosts=None, config=None):
    """Cut parameter grids into exactly N groups of near-equal estimated cost (a groups file)."""
    from backtest.analysis.make_groups import hosts_lines, load_grid, plan_groups
    from backtest.runner.groups import write_groups_file

    cfg = _cfg(config)
    for option, value in (("--groups", groups), ("--hosts", hosts)):
        if value is not None and not str(value).isdigit():
            raise error(f"{option}: {value!r} is not a whole number")
    paths = _dirs(grid)
    if not paths:
        raise error("--grid: give at least one grid file")
    try:
        specs = [(str(path), load_grid(path)) for path in paths]
        named = {spec["symbol"] for _, spec in specs if spec.get("symbol") is not None}
        if symbol is None and len(named) > 1:
            raise error(f"--grid: the grids name several symbols ({', '.join(sorted(named))})")
        symbol = symbol or next(iter(named), None)
        if not symbol:
            raise error(f"{paths[0]}: no symbol: pass --symbol or set 'symbol' in the grid")
        plan = plan_groups(symbol, specs, int(groups), cfg, str(paths[0]), id_prefix)
        body = plan.groups_file()
        path = Path(output or f"groups_{symbol}.json")
        lines = hosts_lines(plan, int(hosts), path) if hosts is not None else []
    except ValueError as exc:
        raise error(exc) from None
    write_groups_file(path, body["symbol"], body["groups"])
    costs = plan.group_costs
    mean = sum(costs) / len(costs)
    print(f"{plan.combinations} combinations in {len(costs)} groups -> {path}")
    print(
        f"estimated cost per group: min {min(costs):.1f}, max {max(costs):.1f}, "
        f"mean {mean:.1f} (max {max(costs) / mean - 1:+.1%}, min {min(costs) / mean - 1:+.1%})"
    )
    print("\n".join(lines))


@task(
    auto_shortflags=False,
    help={
        "from_": "a results directory (results_full_{SYMBOL}.json); without saved trades "
        "(--save-trades) the best combinations are re-run with the run's recorded data "
        "file (checksum verified) and settings",
        "charts": "the groups to draw: all (default) or top:N (the N best by total_r)",
        "symbol": "symbol (needed only when the directory holds several)",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def charts(c, from_, charts="all", symbol=None, config=None):
    """Redraw a run's charts (per-group equity and heatmap, whole-run heatmaps) into its charts/."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.redraw import redraw_charts
    from backtest.runner.outputs import ResultsError
    from backtest.runner.plan import top_option

    directory = Path(from_)
    cfg = _cfg(config)
    try:
        count = top_option(charts, "--charts")
        if count == 0:
            raise ValueError(f"--charts {charts!r}: all or top:N (N >= 1)")
        symbol = detect_symbol([directory], symbol)
        done = redraw_charts(directory, symbol, count, cfg)
    except (ValueError, ResultsError, OSError) as exc:
        raise error(exc) from None
    how = []
    if done.saved:
        how.append(f"{len(done.saved)} from saved trades")
    if done.rerun:
        how.append(f"{len(done.rerun)} re-run with the recorded data and settings")
    print(
        f"charts of {done.groups} of {done.ok_groups} groups ({', '.join(how)}) and "
        f"{len(done.whole_run)} whole-run heatmaps -> {done.charts_dir}"
    )
    for gid, keys in done.differ.items():
        print(f"WARNING: {gid}: the re-run's {', '.join(keys)} differ from the recorded ones")
