"""Shared pieces of the promotion tests: hand-made bars whose trades are known, real runs
of them through the runner, control through ``compare_control``, and a bot folder.

Every trading day has the same shape (GER40, Europe/Berlin, bars 09:00-10:05): the IB
09:00-10:00 is 16000.00..16020.00 (IB = 2000 points); the 10:00 bar rises through the
buy stop at 16020 (long, SL 16000, TP 16040 for tp_mult 1, 16060 for tp_mult 2). On a
"W" day the price then runs to 16050 and the day ends at 16051: tp_mult 1 exits at TP,
R = (2000 - 100 spread) / 2000 = 0.95; tp_mult 2 exits at the day's last close 16051,
R = (3100 - 100) / 2000 = 1.5. On an "L" day it falls to 15990: SL, R = -2100 / 2000 =
-1.05. Risk 1000 on 100 000 buys 50 lots, so 1 R of 2000 points is 1000.00. (The spread
is charged as a cost, spread_model "cost": the tests' config says so.)

Ten days cannot tell an edge from luck: :meth:`Scenario.judged` gives a copy of the run
whose real robustness file is made to judge one combination distinguishable from luck, the
evidence a promotion needs.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import yaml
from invoke import Context
from invoke.exceptions import Exit

from backtest.analysis.control import compare_control
from backtest.core.config import load_config
from tests.runner.helpers import run_cli

SYMBOL = "GER40"
IN_SAMPLE = ("2024-01-08", "2024-01-19")  # 10 weekdays
CONTROL = ("2024-02-05", "2024-02-16")  # 10 weekdays
IN_SAMPLE_DAYS = "LWWWWWWWWW"
CONTROL_DAYS = "WWWWWWWWWW"
LOSING_CONTROL_DAYS = "WLLLWLLWLL"  # -4.5 R, drawdown 5.4 %: losing, prop view still ok
GROUP, NO_NEWS_GROUP = "group_GER40_001", "group_GER40_002"
# Hand-computed from the module doc: in-sample tp_mult 1 (combo 0) and 2 (combo 1).
IN_SAMPLE_TOTAL_R = (9 * 0.95 - 1.05, 9 * 1.5 - 1.05)
PARAMS_COMBO_0 = {
    "ib_start": "09:00",
    "ib_end": "10:00",
    "trade_end": "17:30",
    "close_time": "22:00",
    "direction": "both",
    "entry_buffer": 0.0,
    "sl_mult": 1.0,
    "tp_mult": 1.0,
    "min_ib": 15.0,
    "max_ib": 0.0,
    "max_trades_per_day": 1,
    "weekdays": [0, 1, 2, 3, 4],
    "news_filter": True,
    "news_before": 15,
    "news_after": 15,
}


def _bar(minute: int, o: float, h: float, low: float, c: float) -> tuple:
    return minute, o, h, low, c


def day_bars(kind: str) -> list[tuple]:
    """(local minute, open, high, low, close) of one "W" or "L" day (module doc)."""
    bars = [_bar(540, 16010, 16020, 16005, 16012), _bar(541, 16010, 16015, 16000, 16012)]
    bars += [_bar(540 + i, 16010, 16015, 16005, 16012) for i in range(2, 60)]
    bars.append(_bar(600, 16012, 16030, 16012, 16030))  # rises through the buy stop 16020
    if kind == "W":
        bars.append(_bar(601, 16030, 16050, 16030, 16050))
        bars += [_bar(602 + i, 16050, 16052, 16049, 16051) for i in range(4)]
    else:
        bars.append(_bar(601, 16030, 16030, 15990, 15990))  # falls through the SL 16000
        bars += [_bar(602 + i, 15990, 15992, 15989, 15991) for i in range(4)]
    return bars


def write_pattern_bars(path: Path, start: str, days: str) -> Path:
    """Parquet M1 bars of the weekdays from ``start``, one ``days`` letter (W/L) each."""
    from backtest.data.sample import write_parquet

    rows = []
    date = dt.date.fromisoformat(start)
    for kind in days:
        while date.weekday() >= 5:
            date += dt.timedelta(days=1)
        midnight = pd.Timestamp(date, tz="Europe/Berlin")
        for minute, o, h, low, c in day_bars(kind):
            time = (midnight + pd.Timedelta(minutes=minute)).tz_convert("UTC")
            rows.append({"time": time, "open": o, "high": h, "low": low, "close": c})
        date += dt.timedelta(days=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(pd.DataFrame(rows), path)
    return path


def write_groups(path: Path) -> Path:
    """Two groups of two combinations (tp_mult 1, 2): with and without the news filter."""
    base = {"min_ib": 15.0}
    groups = [
        {
            "group_id": GROUP,
            "params": {**base, "news_filter": True},
            "grid": {"tp_mult": [1.0, 2.0]},
        },
        {"group_id": NO_NEWS_GROUP, "params": base, "grid": {"tp_mult": [1.0, 2.0]}},
    ]
    path.write_text(json.dumps({"symbol": SYMBOL, "groups": groups}))
    return path


def write_news(path: Path, first: dt.datetime, last: dt.datetime, currency: str = "EUR") -> Path:
    """A news CSV: one high-impact ``currency`` event a day at 15:00 UTC, first..last."""
    day = first.date()
    lines = ["time,currency,impact"]
    while day <= last.date():
        lines.append(f"{day.isoformat()}T15:00:00Z,{currency},high")
        day += dt.timedelta(days=1)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_config(path: Path, root: Path, extra: dict[str, Any] | None = None) -> Path:
    """The tests' config: the periods above, control data in ``root``, sample cache in
    ``root/sample``, 5 trades enough; ``extra`` deep-merged over it."""
    body: dict[str, Any] = {
        "periods": {
            "in_sample": {
                "start_date": IN_SAMPLE[0],
                "end_date": IN_SAMPLE[1],
                "data_file": str(root / "no_in_sample_{symbol}.parquet"),
            },
            "control": {
                "start_date": CONTROL[0],
                "end_date": CONTROL[1],
                "data_file": str(root / "control_{symbol}.parquet"),
            },
        },
        "run": {"sample_dir": str(root / "sample")},
        "promote": {"min_trades_in_sample": 5, "min_trades_control": 5},
        "symbols": {SYMBOL: {"spread_model": "cost"}},
    }
    path.write_text(yaml.safe_dump(_merged(body, extra or {})))
    return path


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` deep-merged over ``base`` (as the config loader merges YAML files)."""
    out = dict(base)
    for key, value in extra.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = _merged(base[key], value) if both else value
    return out


class Scenario:
    """The runs every promotion test starts from (built once per test session)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = write_config(root / "ibsweep.yaml", root)
        self.cfg = load_config(self.config)
        self.groups = write_groups(root / "groups.json")
        self.news = write_news(
            root / "news_history.csv", dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 29)
        )
        self.real_bars = write_pattern_bars(
            root / "data" / "in_sample.parquet", IN_SAMPLE[0], IN_SAMPLE_DAYS
        )
        write_pattern_bars(root / "control_GER40.parquet", CONTROL[0], CONTROL_DAYS)
        self.losing_control_bars = write_pattern_bars(
            root / "losing_control.parquet", CONTROL[0], LOSING_CONTROL_DAYS
        )
        self.run = self.sweep(root / "run", self.real_bars)
        compare_control(self.run, top="100%", min_count=0, cfg=self.cfg)
        self._judged: dict[tuple[str, int], Path] = {}

    def sweep(
        self,
        out: Path,
        bars: Path,
        *extra: Any,
        config: Path | None = None,
        save_daily: bool = True,
    ) -> Path:
        """A real run of the groups over ``bars`` (in-sample dates, unless ``extra`` says
        otherwise) into ``out``."""
        done = run_cli(
            "--groups-file", self.groups, "--data-file", bars,
            "--start-date", IN_SAMPLE[0], "--end-date", IN_SAMPLE[1],
            "--workers", 1, "--output-dir", out, "--skip-charts",
            *(["--save-daily"] if save_daily else []),
            "--news-file", self.news, "--config", config or self.config, *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return out

    def copy_run(self, target: Path, source: Path | None = None) -> Path:
        """A copy of a run folder (a test may add files to it)."""
        shutil.copytree(source or self.run, target)
        return target

    def config_with(self, path: Path, extra: dict[str, Any]) -> Path:
        return write_config(path, self.root, extra)

    def losing_control(self, out: Path, run: Path | None = None) -> Path:
        """``out`` with the control comparison of every combination of ``run`` (default:
        the scenario's) on the losing control days (module doc: -4.5 R for tp_mult 1)."""
        compare_control(
            run or self.run,
            top="100%",
            min_count=0,
            output_dir=out,
            data_file=str(self.losing_control_bars),
            cfg=self.cfg,
        )
        return out

    def judged(self, combo: int, group: str = GROUP) -> Path:
        """A copy of the run with ``robustness_GER40.json`` by the real `invoke robustness`,
        then made to judge ``group`` combo ``combo`` distinguishable from luck (made once)."""
        if (group, combo) not in self._judged:
            self._judged[(group, combo)] = judge(
                self.copy_run(self.root / f"judged_{group}_{combo}"), group, combo, self.cfg
            )
        return self._judged[(group, combo)]


def judge(run: Path, group: str, combo: int, cfg: dict[str, Any]) -> Path:
    """``run`` with ``robustness_{SYMBOL}.json`` by the real `invoke robustness`, then made
    to judge ``group`` combo ``combo`` distinguishable from luck; its cost stress is the
    real one of that combination (``stress.cost_stress``, the selected one first)."""
    from backtest.analysis.stress import cost_stress
    from tasks.robust import robustness

    robustness.body(Context(), from_=str(run), samples=200)
    path = run / f"robustness_{SYMBOL}.json"
    document = json.loads(path.read_text())
    document["selected"].update(group_id=group, combo=combo)
    stress = cost_stress(run, SYMBOL, [(group, combo)], cfg=cfg)
    document["cost_stress"] = stress
    document["verdict"].update(
        distinguishable_from_luck=True,
        text="the selected combination is distinguishable from luck",
        cost_stress=stress["text"],
    )
    path.write_text(json.dumps(document, indent=1))
    return run


_SCENARIO: dict[str, Scenario] = {}


def scenario(tmp_path_factory: Any) -> Scenario:
    """The session's :class:`Scenario` (runs are real and take seconds: built once)."""
    if "s" not in _SCENARIO:
        _SCENARIO["s"] = Scenario(tmp_path_factory.mktemp("promote"))
    return _SCENARIO["s"]


def make_bot(folder: Path, account: str = "DEMO", news_days: float = 20.0) -> Path:
    """A live bot's folder: ``.env`` (ACCOUNT_TYPE, NEWS_FILE) and a news file with a
    high-impact EUR event every day from two days ago to ``news_days`` days ahead."""
    folder.mkdir(parents=True)
    now = dt.datetime.now(dt.UTC)
    write_news(folder / "news.csv", now - dt.timedelta(days=2), now + dt.timedelta(days=news_days))
    (folder / ".env").write_text(
        f"# live bot settings\nACCOUNT_TYPE={account}\nNEWS_FILE=news.csv\nMT5_LOGIN=123456\n"
    )
    return folder


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder (None) under ``folder``, by relative path."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def backup_copies(folder: Path) -> list[Path]:
    """The dated copies of parameter files in a backup folder (not their manifests)."""
    return sorted(
        p for p in folder.glob("ibsweep_params_*.*") if not p.name.endswith(".manifest.json")
    )


def promote_task(**options: Any) -> None:
    """``invoke promote`` in-process (the task body), options as on the command line."""
    from tasks.promote import promote

    promote.body(
        Context(), **{k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}
    )


def expect_exit(code: int, **options: Any) -> str:
    """Run ``invoke promote`` expecting ``Exit(code)``; its message."""
    try:
        promote_task(**options)
    except Exit as exc:
        assert exc.code == code, exc.message
        return str(exc.message)
    raise AssertionError(f"invoke promote did not exit with {code}")


def _table(output: str) -> tuple[list[str], dict[str, int]]:
    """The lines of a printed checklist table (``format_table``) from its header on, and
    where its columns start."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("#  status"))
    columns = {name: lines[header].index(name) for name in ("status", "check", "reason")}
    return lines[header:], columns


def statuses(output: str) -> dict[str, str]:
    """``check name -> status`` of a printed checklist table (``format_table``)."""
    lines, at = _table(output)
    found = {}
    for line in lines[1:]:
        status = line[at["status"] : at["check"]].strip()
        if len(line) < at["reason"] or status not in ("PASS", "FAIL", "MISSING", "MANUAL"):
            break
        found[line[at["check"] : at["reason"]].strip()] = status
    return found


def only_failure(output: str) -> str:
    """The one FAIL line's check name (AssertionError unless exactly one FAILs)."""
    bad = [name for name, status in statuses(output).items() if status == "FAIL"]
    assert len(bad) == 1, output
    return bad[0]


def promote_fails(capsys: Any, bot: Path, **options: Any) -> tuple[str, str]:
    """``invoke promote`` on ``bot`` exits 1 and leaves the bot folder byte for byte as it
    was; (the exit message, the printed output)."""
    before = snapshot(bot)
    message = expect_exit(1, bot_dir=bot, **options)
    output = capsys.readouterr().out
    assert snapshot(bot) == before
    return message, output


def reason(output: str, name: str) -> str:
    """The reason printed on the table line of check ``name``."""
    lines, at = _table(output)
    line = next(li for li in lines[1:] if li[at["check"] :].startswith(name + " "))
    return line[at["reason"] :].strip()


# --- the live bot's sessions, reconciled (checklist items 2 and 6) ----------------------


def weekdays_after(moment: dt.datetime, count: int) -> list[dt.date]:
    """The first ``count`` weekdays after the local (Berlin) date of ``moment``."""
    day = moment.astimezone(ZoneInfo("Europe/Berlin")).date() + dt.timedelta(days=1)
    days = []
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def session_deals(path: Path, days: list[dt.date], skip: tuple[int, ...] = ()) -> Path:
    """A ``history_deals_get`` CSV of the bot's trades on "W" days (module doc): long at
    the buy stop 16020.00 20 s after the 10:00 bar opens (Berlin), out at the TP 16040.00
    90 s later; the days at the indexes ``skip`` are left out (trades the bot missed)."""
    from tests.analysis.reconcile_helpers import deals_rows, write_deals_csv

    rows: list[str] = []
    for k, day in enumerate(days):
        if k in skip:
            continue
        entry = pd.Timestamp(f"{day} 10:00:20", tz="Europe/Berlin").tz_convert("UTC").value
        rows += deals_rows(
            position=100 + k, direction=1, entry_utc_ns=entry, entry_price=16020.0,
            exit_utc_ns=entry + 90 * 10**9, exit_price=16040.0, reason="tp", sl=16000.0,
            tp=16040.0, lots=50.0,
        )  # fmt: skip
    return write_deals_csv(path, rows)


def reconcile_session(
    bot: Path,
    config: Path,
    days: list[dt.date],
    account: str,
    skip: tuple[int, ...] = (),
) -> Path:
    """`invoke reconcile --bot-dir BOT` of the deployed parameters on "W" bars of ``days``
    with the bot's deals of them (:func:`session_deals`); its JSON."""
    from tasks.reconcile import reconcile
    from tests.analysis.reconcile_helpers import SERVER_TZ

    work = bot.parent / f"reconcile_{account}_{days[0]}"
    work.mkdir(exist_ok=True)
    bars = write_pattern_bars(work / "bars.parquet", days[0].isoformat(), "W" * len(days))
    deals = session_deals(work / "deals.csv", days, skip)
    reconcile.body(
        Context(), deals=str(deals), data_file=str(bars), symbol=SYMBOL, bot_dir=str(bot),
        server_tz=SERVER_TZ, account=account, config=str(config),
    )  # fmt: skip
    return bot / "ibsweep_reconcile" / account / f"reconcile_{SYMBOL}.json"


# --- a second symbol on the account (checklist step 5 on the whole account) -------------

XAU_GROUP = "group_XAUUSD_001"


def write_xauusd_bars(path: Path, start: str, days: str) -> Path:
    """XAUUSD M1 bars shaped like the GER40 days of the module doc, an hour earlier in
    London time (IB 08:00-09:00, 1900.00..1920.00: IB 2000 points), one ``days`` letter
    (W/L) per weekday from ``start``: tp_mult 1 makes (2000 - 20) / 2000 = +0.99 R on a "W"
    day, -(2000 + 20) / 2000 = -1.01 R on an "L" day (spread 0.20, bid_ask)."""
    from backtest.data.sample import write_parquet

    rows = []
    date = dt.date.fromisoformat(start)
    for kind in days:
        while date.weekday() >= 5:
            date += dt.timedelta(days=1)
        midnight = pd.Timestamp(date, tz="Europe/London")
        for minute, o, h, low, c in day_bars(kind):
            time = (midnight + pd.Timedelta(minutes=minute - 60)).tz_convert("UTC")
            rows.append(
                {"time": time, "open": o - 14100, "high": h - 14100, "low": low - 14100,
                 "close": c - 14100}
            )  # fmt: skip
        date += dt.timedelta(days=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(pd.DataFrame(rows), path)
    return path


def xauusd_run(s: Scenario, out: Path, days: str) -> Path:
    """A real XAUUSD run (one combination: tp_mult 1, no news filter) over the in-sample
    dates on :func:`write_xauusd_bars` of ``days``, with its compact trades."""
    groups = out.parent / "groups_XAUUSD.json"
    groups.write_text(
        json.dumps(
            {
                "symbol": "XAUUSD",
                "groups": [{"group_id": XAU_GROUP, "params": {}, "grid": {"tp_mult": [1.0]}}],
            }
        )
    )
    bars = write_xauusd_bars(out.parent / "xauusd.parquet", IN_SAMPLE[0], days)
    done = run_cli(
        "--groups-file", groups, "--data-file", bars,
        "--start-date", IN_SAMPLE[0], "--end-date", IN_SAMPLE[1],
        "--workers", 1, "--output-dir", out, "--skip-charts", "--save-daily", "--no-report",
        "--config", s.config,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def deploy_by_hand(bot: Path, symbol: str, run: Path, group: str, combo: int, risk: float) -> Path:
    """``ibsweep_params_{symbol}.json`` as a promotion of ``run``'s combination leaves it
    (the fields the whole-account line reads: the in-sample run and the risk)."""
    document = {
        "format": 1,
        "symbol": symbol,
        "account": "demo",
        "promoted_at": "2024-02-01T12:00:00+00:00",
        "settings": {"risk": risk, "account_size": 100000.0},
        "provenance": {"in_sample": {"dir": str(run), "group_id": group, "combo": combo}},
    }
    path = bot / f"ibsweep_params_{symbol}.json"
    path.write_text(json.dumps(document, indent=1))
    return path


def programs_file(path: Path, **changes: Any) -> Path:
    """A programs file holding ``test_program``: the shipped The5ers High Stakes with
    ``changes`` (deep-merged)."""
    from backtest.core.config import REPO_ROOT

    shipped = yaml.safe_load((REPO_ROOT / "programs.yaml").read_text())
    program = _merged(shipped["programs"]["the5ers_high_stakes"], changes)
    path.write_text(yaml.safe_dump({"programs": {"test_program": program}}))
    return path
