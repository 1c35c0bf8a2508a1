"""What a reconcile runs: the deployed parameters and the settings the backtest runs them
with, from a finished run (``--from``) or from what ``invoke promote`` wrote into the bot
folder (``--bot-dir``), and their identity (:func:`parameter_set_sha256`)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backtest.core.config import SymbolSpec, symbol_spec
from backtest.core.settings import RunSettings
from backtest.runner.rundir import result_paths


class ReconcileError(ValueError):
    """Bad input to a reconcile (exit code 2): one line naming the file or option."""


def parameter_set_sha256(symbol: str, params: dict[str, Any], risk: float) -> str:
    """The identity of a parameter set as ``invoke promote`` records it (sha256 of the
    canonical JSON of symbol, resolved parameters and risk per trade). A column that results
    format 1 stored as int64 (the news windows) is hashed as a whole number when its value
    is one (``15``, not ``15.0``): a set recorded from a format-1 run keeps its identity.
    Another float parameter given as a whole number (``sl_mult: 1`` in a hand-written file)
    is hashed as the float the results table holds (``1.0``): the same set, one identity."""
    from backtest.runner.store import FLOAT_PARAMS, LEGACY_TYPES

    were_whole = LEGACY_TYPES[1]

    def canonical(name: str, value: Any) -> Any:
        if name in were_whole:
            return int(value) if isinstance(value, float) and value.is_integer() else value
        whole = isinstance(value, int) and not isinstance(value, bool)
        return float(value) if name in FLOAT_PARAMS and whole else value

    canonical_params = {k: canonical(k, v) for k, v in params.items()}
    body = json.dumps(
        {"symbol": symbol, "params": canonical_params, "risk": float(risk)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


# --- what is deployed -------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """The parameters to reconcile against and the settings the backtest runs them with."""

    symbol: str
    params: dict[str, Any]
    spec: SymbolSpec
    settings: RunSettings  # risk, account and limits (news added by :func:`reconcile`)
    news_file: str | None
    server_tz: str | None  # the run's recorded broker clock, if any
    engine: str
    account: str | None  # demo / real when known
    source: dict[str, Any]  # provenance: where the parameters and settings come from
    params_sha256: str


def from_run(out_dir: Path, group_id: str, combo: int, symbol: str | None, cfg: dict) -> Deployment:
    """Combination ``combo`` of group ``group_id`` of the run in ``out_dir``, with the run's
    recorded symbol settings, risk, account, limits, news file and engine."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.panel import settings_of
    from backtest.analysis.rerun import pick, recorded_spec
    from backtest.analysis.table import RunTable

    out_dir = Path(out_dir)
    sym = detect_symbol([out_dir], symbol)
    table = RunTable.read(out_dir, sym, checkpoint_fallback=False)
    meta = table.results["metadata"]
    chosen = pick(table, group_id, combo)
    spec = recorded_spec(meta, cfg)
    settings = settings_of(meta)
    return Deployment(
        symbol=sym,
        params=chosen.params,
        spec=spec,
        settings=settings,
        news_file=meta.get("news_file"),
        server_tz=meta.get("server_tz"),
        engine=str(meta.get("engine") or "fast"),
        account=None,
        source={
            "kind": "run",
            "dir": str(out_dir.resolve()),
            "group_id": group_id,
            "combo": combo,
            "period": meta.get("period"),
            "code_version": meta.get("code_version"),
            "symbol_settings": "recorded by the run"
            if isinstance(meta.get("symbol_settings"), dict)
            else "today's config (the run recorded none)",
        },
        params_sha256=parameter_set_sha256(sym, chosen.params, settings.risk),
    )


def _env_value(path: Path, key: str) -> str | None:
    """``key``'s value in a ``.env`` file (``KEY=VALUE``, ``export``, quotes, comments);
    None when the file or the key is not there. Only this one value is read."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        match = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
        if not match or match.group(1) != key:
            continue
        value = match.group(2).strip()
        if value[:1] in ("'", '"') and value.find(value[0], 1) > 0:
            return value[1 : value.find(value[0], 1)]
        return re.split(r"\s+#", value, maxsplit=1)[0].strip()
    return None


def from_bot(bot_dir: Path, symbol: str, cfg: dict) -> Deployment:
    """What ``invoke promote`` deployed for ``symbol`` in ``bot_dir``: the parameters and
    settings of ``ibsweep_params_{SYMBOL}.json``; the symbol settings the in-sample run
    recorded when its folder is here (else today's config, said in the provenance); the
    news file the bot's ``.env`` names."""
    bot = Path(bot_dir)
    if not bot.is_dir():
        raise ReconcileError(f"{bot}: --bot-dir: not a folder")
    path = bot / f"ibsweep_params_{symbol}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        params, settings = document["params"], document["settings"]
        run_settings = RunSettings(
            risk=float(settings["risk"]),
            account_size=float(settings["account_size"]),
            daily_loss_limit_pct=float(settings["daily_loss_limit_pct"]),
            max_loss_limit_pct=float(settings["max_loss_limit_pct"]),
        )
    except FileNotFoundError:
        raise ReconcileError(
            f"{path}: no promoted parameters of {symbol} in the bot folder (invoke promote)"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReconcileError(f"{path}: not a readable parameter file: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise ReconcileError(f"{path}: field {exc} missing") from None
    ins = (document.get("provenance") or {}).get("in_sample") or {}
    spec, recorded = symbol_spec(symbol, cfg), "today's config (the in-sample run is not here)"
    server_tz, engine = None, "fast"
    run_dir = Path(str(ins.get("dir") or ""))
    if ins.get("dir") and result_paths(run_dir, symbol)["full"].is_file():
        from backtest.analysis.rerun import recorded_spec
        from backtest.runner.outputs import read_results

        try:
            meta = read_results(run_dir, symbol, combos=False)["metadata"]
        except (ValueError, OSError):
            meta = None
        if meta is not None:
            spec, recorded = recorded_spec(meta, cfg), f"recorded by the run {run_dir}"
            server_tz, engine = meta.get("server_tz"), str(meta.get("engine") or "fast")
    promote_cfg = cfg.get("promote", {})
    env = bot / str(promote_cfg.get("env_file", ".env"))
    news = _env_value(env, str(promote_cfg.get("env_news_file", "NEWS_FILE")))
    if news and not Path(news).is_absolute():
        news = str(bot / news)
    account = _env_value(env, str(promote_cfg.get("env_account", "ACCOUNT_TYPE")))
    sha = parameter_set_sha256(symbol, params, run_settings.risk)
    return Deployment(
        symbol=symbol,
        params=params,
        spec=spec,
        settings=run_settings,
        news_file=news,
        server_tz=server_tz,
        engine=engine,
        account=(account or str(document.get("account") or "")).lower() or None,
        source={
            "kind": "bot",
            "dir": str(bot.resolve()),
            "params_file": str(path.resolve()),
            "promoted_at": document.get("promoted_at"),
            "promoted_for": document.get("account"),
            "params_sha256_recorded": document.get("params_sha256"),
            "in_sample": {k: ins.get(k) for k in ("dir", "group_id", "combo")},
            "symbol_settings": recorded,
        },
        params_sha256=sha,
    )
