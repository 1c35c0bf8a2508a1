"""invoke tasks (production): reconcile the live bot's deals against the backtest."""

from __future__ import annotations

from pathlib import Path

from invoke import task

from tasks.analysis import _cfg
from tasks.edge import error


def _many(values: list[str] | None) -> list[str]:
    """``--x a --x b`` and ``--x a,b`` both work."""
    return [
        part.strip() for value in values or [] for part in str(value).split(",") if part.strip()
    ]


@task(
    auto_shortflags=False,
    iterable=["magic", "deal_symbol"],
    help={
        "deals": "the bot's deals: the MT5 terminal's account history report (HTML, UTF-16) "
        "or a CSV of MetaTrader5.history_deals_get rows",
        "data_file": "M1 bars of the days the deals cover (Parquet, CSV or an MT5 export)",
        "symbol": "the symbol reconciled (GER40, XAUUSD, ...)",
        "from_": "a finished run's folder: reconcile its combination --group/--combo",
        "group": "with --from: the combination's group id",
        "combo": "with --from: the combination's index inside its group",
        "bot_dir": "the live bot's folder: reconcile what invoke promote deployed there",
        "start_date": "first trading day (default: the first deal's)",
        "end_date": "last trading day (default: the last deal's)",
        "tolerance": "largest entry time difference of a match (default 2m; 90s, 1h)",
        "server_tz": "the broker server's clock of the deals and of an MT5 bars export "
        "(default: the run's, else broker:NY+7)",
        "magic": "only deals of these magic numbers (deals CSV); repeat or comma-separate",
        "deal_symbol": "the broker's name(s) of the symbol in the deals (default: --symbol); "
        "repeat or comma-separate",
        "account": "demo or real: the account the deals come from (default: the bot's .env "
        "ACCOUNT_TYPE, else unknown)",
        "news_file": "news CSV for news_filter (default: the bot's NEWS_FILE, or the run's)",
        "output": "folder for reconcile_{SYMBOL}.csv/.json/.html (default: --from, or "
        "BOT/ibsweep_reconcile/{account})",
        "engine": "fast or emulator (default: the run's)",
        "config": "config YAML (default: $IBSWEEP_CONFIG or ./ibsweep.yaml)",
    },
)
def reconcile(
    c,
    deals,
    data_file,
    symbol,
    from_=None,
    group=None,
    combo=None,
    bot_dir=None,
    start_date=None,
    end_date=None,
    tolerance="2m",
    server_tz=None,
    magic=None,
    deal_symbol=None,
    account=None,
    news_file=None,
    output=None,
    engine=None,
    config=None,
):
    """Match the bot's live trades to the backtest of its parameters (reconcile_{SYMBOL}.*)."""
    from backtest.analysis import reconcile as lib
    from backtest.analysis import reconcile_deploy as deploy
    from backtest.analysis import reconcile_outputs as outputs
    from backtest.data.deal_records import DealsError
    from backtest.data.files import DataError
    from backtest.runner.outputs import ResultsError

    cfg = _cfg(config)
    if (from_ is None) == (bot_dir is None):
        raise error("give either --from OUT --group G --combo K or --bot-dir BOT")
    if from_ is not None and (group is None or combo is None):
        raise error("--from needs --group and --combo")
    if from_ is not None and not str(combo).isdigit():
        raise error(f"--combo: {combo!r} is not a combination index (0, 1, ...)")
    if account is not None and str(account).lower() not in ("demo", "real"):
        raise error(f"--account: {account!r} must be demo or real")
    if engine is not None and engine not in ("fast", "emulator"):
        raise error(f"--engine: {engine!r} must be fast or emulator")
    try:
        magics = tuple(int(m) for m in _many(magic))
    except ValueError:
        raise error(f"--magic: {', '.join(_many(magic))} are not whole numbers") from None
    try:
        if from_ is not None:
            deployment = deploy.from_run(Path(from_), str(group), int(combo), symbol, cfg)
        else:
            deployment = deploy.from_bot(Path(bot_dir), symbol, cfg)
        request = lib.Request(
            deals=Path(deals),
            data_file=Path(data_file),
            deployment=deployment,
            server_tz=server_tz,
            start_date=start_date,
            end_date=end_date,
            tolerance=tolerance,
            deal_symbols=tuple(_many(deal_symbol)),
            magics=magics,
            account=account,
            news_file=news_file,
            engine=engine,
        )
        result = lib.reconcile(request, cfg)
    except (deploy.ReconcileError, DealsError, DataError, ResultsError, ValueError, OSError) as exc:
        raise error(exc) from None
    out = (
        Path(output)
        if output
        else outputs.default_output_dir(
            Path(from_) if from_ else None,
            Path(bot_dir) if bot_dir else None,
            result.summary["account"],
        )
    )
    paths = outputs.write_outputs(result, out)
    print("\n".join(outputs.summary_lines(result)))
    for kind, path in paths.items():
        print(f"  {kind}: {path}")
