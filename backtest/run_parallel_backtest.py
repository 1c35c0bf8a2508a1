"""Run every group of a groups file over one period, in parallel, losing nothing.

``python -m backtest.run_parallel_backtest --groups-file G.json ...`` (see
``--help`` and docs/io-contract). Everything is validated before anything runs
(groups, parameters, data, news file, output directory, an existing
checkpoint); bad input is one line on stderr and exit code 2.

The data is loaded once in this process; workers are forked from it and share
the bars (copy-on-write). A small supervisor feeds each worker one group at a
time over a pipe and waits on result pipes and process sentinels, so a worker
killed by a signal is noticed at once: its group is retried once on a fresh
worker, then recorded failed. Each finished group goes to the checkpoint
(fsync) before anything else, so a run that is interrupted (SIGINT/SIGTERM:
finished results are written, unfinished groups go to ``failed_groups``) or
killed resumes where it stopped when re-run on the same output directory.

Fault injection for tests, harmless unless set: ``IBSWEEP_FAULT`` is a comma
list of ``GROUP_ID:ACTION`` with ACTION ``raise`` (the group raises),
``kill`` (the worker SIGKILLs itself on every attempt), ``kill-once`` (on the
first attempt only; a marker file in OUT/.faults remembers it) or ``sleep=S``
(the group takes S seconds longer).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import logging.handlers
import math
import multiprocessing as mp
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable

import numpy as np

from backtest import config as config_mod
from backtest.bars import Bars, day_date
from backtest.checkpoint import Checkpoint, ResumeError
from backtest.config import REPO_ROOT, ConfigError
from backtest.engine import ENGINES, RunSettings, run_combos
from backtest.outputs import summary_rows, write_results
from backtest.params import ParamError
from backtest.trades import trade_records
from backtest.version import code_version

LOG_FORMAT = "%(asctime)s - %(levelname)s - %(message)s"
LOG_DATEFMT = "%Y-%m-%d %H:%M:%S"
FAULT_ENV = "IBSWEEP_FAULT"
PERIODS = ("in_sample", "control")
RUN_LOG = "run.log"
MAX_ATTEMPTS = 2  # a group whose worker dies is retried once
# Rough resident memory of one worker: the interpreter with numpy/numba/pandas,
# plus per-bar working arrays of the sweep (the bars themselves are shared).
_WORKER_BASE_BYTES = 350 * 2**20
_WORKER_BYTES_PER_BAR = 160

log = logging.getLogger("backtest.run")


class RunError(ValueError):
    """A run option that cannot be used (the message names the option)."""


@dataclass
class RunOptions:
    """Everything a run takes; the command line's options one to one."""

    groups_file: str | Path
    data_file: str | Path | None = None
    start_date: str | None = None
    end_date: str | None = None
    workers: int | str = "auto"
    output_dir: str | Path | None = None
    skip_charts: bool = False
    save_trades: bool = False
    period: str = "in_sample"
    risk: float | None = None
    account_size: float | None = None
    news_file: str | Path | None = None
    engine: str = "fast"
    config: str | Path | None = None
    server_tz: str | None = None
    drop_invalid: bool = False
    fresh: bool = False
    symbol: str | None = None


@dataclass
class RunReport:
    """What a run did: where its files are and how its groups ended."""

    output_dir: Path
    symbol: str
    files: dict[str, Path]
    groups: int
    ok: int
    failed: list[str]
    resumed: int
    exit_code: int
    interrupted: str | None = None
    top: list[dict[str, Any]] = field(default_factory=list)  # summary rows, best first


@dataclass
class _Plan:
    """A validated run, ready to execute."""

    options: RunOptions
    symbol: str
    period: str
    start_date: str
    end_date: str
    groups_file: Path
    groups: dict[str, Any]          # group_id -> backtest.groups.Group, file order
    combos: dict[str, list[dict[str, Any]]]
    bars: Bars
    settings: RunSettings
    workers: int | str              # a count or "auto"
    out_dir: Path
    header: dict[str, Any]


# --- preparation: validate everything before anything runs -------------------

def _as_options(options: RunOptions | dict[str, Any]) -> RunOptions:
    if isinstance(options, RunOptions):
        return options
    known = {f.name for f in fields(RunOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise RunError(f"unknown run option '{unknown[0]}' (known: {', '.join(sorted(known))})")
    if "groups_file" not in options:
        raise RunError("--groups-file is required")
    return RunOptions(**options)


def _date(value: str, option: str) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise RunError(f"{option}: {value!r} is not a date YYYY-MM-DD") from None


def _positive(value: Any, option: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise RunError(f"{option}: {value!r} must be a number > 0")
    return number


def _workers_option(value: int | str) -> int | str:
    if str(value).strip().lower() == "auto":
        return "auto"
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise RunError(f"--workers: {value!r} must be a whole number >= 1 or 'auto'")
    return number


def default_output_dir(symbol: str, period: str, cfg: dict[str, Any]) -> Path:
    """``backtest/output/parallel_{SYMBOL}_{YYYYMMDD}`` (in_sample, today's date) or
    ``backtest/output/parallel_control_{SYMBOL}``, under the repository root; the
    root folder can be moved with the config's ``run.output_root``."""
    root = Path(cfg["run"].get("output_root", "backtest/output"))
    root = root if root.is_absolute() else REPO_ROOT / root
    if period == "control":
        return root / f"parallel_control_{symbol}"
    return root / f"parallel_{symbol}_{dt.date.today():%Y%m%d}"


def _check_writable(out_dir: Path) -> None:
    probe = out_dir
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise RunError(f"--output-dir {out_dir}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RunError(f"--output-dir {out_dir}: {probe} is not writable")


def _news_ns(opts: RunOptions, groups_file: Path, combos: dict[str, list[dict[str, Any]]],
             currencies: tuple[str, ...]) -> tuple[np.ndarray, str | None]:
    """The sorted event times for the news filter, and a checksum of them."""
    from backtest.news import event_times, load_news

    needing = next((gid for gid, cs in combos.items() if any(c["news_filter"] for c in cs)), None)
    if opts.news_file is None:
        if needing is not None:
            raise RunError(f"{groups_file}: group {needing}: field 'news_filter': on, "
                           "but no --news-file was given")
        return np.zeros(0, dtype=np.int64), None
    events = event_times(load_news(opts.news_file), currencies)
    return events, hashlib.sha256(events.tobytes()).hexdigest()[:16]


def prepare(opts: RunOptions) -> _Plan:
    """Validate every input and load the data; raise a library error on bad input."""
    from backtest.data import load_period_bars
    from backtest.groups import expand_group, load_groups_file

    cfg = config_mod.load_config(opts.config)
    if opts.period not in PERIODS:
        raise RunError(f"--period: {opts.period!r} is not one of {', '.join(PERIODS)}")
    if opts.engine not in ENGINES:
        raise RunError(f"--engine: {opts.engine!r} is not one of {', '.join(ENGINES)}")
    workers = _workers_option(opts.workers)
    span = config_mod.period(opts.period, cfg)
    start = _date(opts.start_date or span.start_date, "--start-date")
    end = _date(opts.end_date or span.end_date, "--end-date")
    if start > end:
        raise RunError(f"--start-date {start} is after --end-date {end}")
    run_cfg = cfg["run"]
    settings_kw = {
        "risk": _positive(run_cfg["risk"] if opts.risk is None else opts.risk, "--risk"),
        "account_size": _positive(run_cfg["account_size"] if opts.account_size is None
                                  else opts.account_size, "--account-size"),
        "daily_loss_limit_pct": float(run_cfg["daily_loss_limit_pct"]),
        "max_loss_limit_pct": float(run_cfg["max_loss_limit_pct"]),
    }

    groups_file = Path(opts.groups_file)
    loaded = load_groups_file(groups_file, cfg, symbol=opts.symbol)
    if not loaded.groups:
        raise RunError(f"{groups_file}: field 'groups': no groups to run")
    if len(loaded.symbols) > 1:
        raise RunError(f"{groups_file}: field 'symbol': groups of several symbols "
                       f"({', '.join(loaded.symbols)}); run one symbol per groups file")
    symbol = loaded.symbols[0]
    if opts.symbol and symbol != opts.symbol:
        raise RunError(f"{groups_file}: field 'symbol': the file's groups are {symbol}, "
                       f"--symbol says {opts.symbol}")
    groups = {g.group_id: g for g in loaded.groups}
    combos = {gid: expand_group(g, cfg) for gid, g in groups.items()}
    spec = config_mod.symbol_spec(symbol, cfg)
    news_ns, news_checksum = _news_ns(opts, groups_file, combos, spec.currencies)

    out_dir = Path(opts.output_dir) if opts.output_dir else default_output_dir(symbol, opts.period, cfg)
    _check_writable(out_dir)

    loaded_bars = load_period_bars(symbol, opts.period, opts.data_file, cfg, opts.server_tz,
                                   opts.drop_invalid, log)
    bars = loaded_bars.between(start, end)
    if len(bars) == 0:
        raise RunError(f"{loaded_bars.source}: no bars between {start} and {end} "
                       f"(--start-date/--end-date)")
    settings = RunSettings(news_ns=news_ns, **settings_kw)
    header = {
        "symbol": symbol, "period": opts.period, "start_date": start, "end_date": end,
        "data_checksum": loaded_bars.checksum, "code_version": code_version(),
        "settings": {**settings_kw, "engine": opts.engine, "save_trades": bool(opts.save_trades),
                     "news_checksum": news_checksum, "server_tz": opts.server_tz,
                     "drop_invalid": bool(opts.drop_invalid)},
        "group_ids": list(groups),
    }
    return _Plan(opts, symbol, opts.period, start, end, groups_file, groups, combos, bars,
                 settings, workers, out_dir, header)


# --- one group, in a worker ---------------------------------------------------

def _json_ready(value: Any) -> Any:
    """numpy scalars to Python, tuples to lists, non-finite floats to null."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def best_index(metrics: list[dict[str, Any]]) -> int:
    """The best combination: highest ``total_r``, ties to the lower index."""
    return max(range(len(metrics)), key=lambda i: (metrics[i]["total_r"], -i))


def run_group(bars: Bars, group_id: str, combos: list[dict[str, Any]], settings: RunSettings,
              engine: str, save_trades: bool,
              best_trades: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A group's JSON-ready record and the best combination's trade records (for its
    charts; empty unless ``best_trades``)."""
    started = time.perf_counter()
    results = run_combos(bars, combos, settings, engine)
    entries = []
    for result in results:
        entry = {"params": _json_ready(result.params), "metrics": _json_ready(result.metrics)}
        if save_trades:
            entry["trades"] = trade_records(result.trades, bars)
        entries.append(entry)
    best = best_index([e["metrics"] for e in entries])
    record = {"group_id": group_id, "status": "ok",
              "elapsed_s": round(time.perf_counter() - started, 3),
              "combos": entries, "best": best}
    if not best_trades:
        return record, []
    return record, entries[best]["trades"] if save_trades else trade_records(results[best].trades, bars)


def failed_record(group_id: str, error: str, elapsed_s: float) -> dict[str, Any]:
    """The record of a group that did not finish (``error`` says why)."""
    return {"group_id": group_id, "status": "failed", "error": error,
            "elapsed_s": round(elapsed_s, 3), "combos": [], "best": None}


def _faults() -> dict[str, str]:
    out = {}
    for item in os.environ.get(FAULT_ENV, "").split(","):
        if ":" in item:
            gid, action = item.rsplit(":", 1)
            out[gid.strip()] = action.strip()
    return out


def _inject_fault(group_id: str, out_dir: Path) -> None:
    """Test hook (see the module docstring); nothing happens unless IBSWEEP_FAULT names the group."""
    action = _faults().get(group_id)
    if action is None:
        return
    if action == "raise":
        raise RuntimeError(f"injected fault ({FAULT_ENV})")
    if action.startswith("sleep="):
        time.sleep(float(action.split("=", 1)[1]))
    elif action == "kill" or action == "kill-once":
        marker = out_dir / ".faults" / f"{group_id}.killed"
        if action == "kill-once" and marker.exists():
            return
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class _Job:
    """What every worker needs; inherited through fork, never pickled."""

    bars: Bars
    settings: RunSettings
    engine: str
    save_trades: bool
    charts: bool
    out_dir: Path


def _worker_loop(conn: Connection, job: _Job) -> None:
    """Run the groups the parent sends, one at a time, until it sends None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides about Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        group_id, combos = task
        started = time.perf_counter()
        try:
            _inject_fault(group_id, job.out_dir)
            record, best_trades = run_group(job.bars, group_id, combos, job.settings,
                                            job.engine, job.save_trades, job.charts)
        except Exception as exc:  # the group fails, the worker and the run go on
            message = f"{type(exc).__name__}: {exc}"
            record, best_trades = failed_record(group_id, message, time.perf_counter() - started), []
        conn.send((record, best_trades))


# --- the supervisor -------------------------------------------------------------

@dataclass
class _Slot:
    proc: Any
    conn: Connection
    group_id: str | None = None
    started: float = 0.0


class _Supervisor:
    """N forked workers, one group each at a time; dead workers are replaced."""

    def __init__(self, workers: int, job: _Job):
        self.size = workers
        self.job = job
        self.ctx = mp.get_context("fork")
        self.slots: list[_Slot] = []
        self.combos: dict[str, list[dict[str, Any]]] = {}
        self.queue: deque[str] = deque()
        self.attempts: dict[str, int] = {}

    def _spawn(self) -> _Slot:
        parent_end, child_end = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(target=_worker_loop, args=(child_end, self.job), daemon=True)
        proc.start()
        child_end.close()
        return _Slot(proc, parent_end)

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.slots if s.proc.pid]

    def run(self, tasks: list[tuple[str, list[dict[str, Any]]]],
            on_done: Callable[[dict[str, Any], list[dict[str, Any]]], None],
            stopping: Callable[[], bool]) -> list[str]:
        """Run ``tasks``; call ``on_done`` per finished group; the ids left unfinished."""
        self.combos = dict(tasks)
        self.queue = deque(self.combos)
        self.attempts: dict[str, int] = {}
        self.slots = [self._spawn() for _ in range(min(self.size, len(self.queue)))]
        try:
            while not stopping() and (self.queue or self._busy()):
                self._dispatch()
                busy = self._busy()
                wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=0.5)
                finished = self._harvest()
                self._dispatch()  # the workers go on while the parent records results
                for record, best_trades in finished:
                    on_done(record, best_trades)
        finally:
            for record, best_trades in self._harvest(replace_dead=False):
                on_done(record, best_trades)  # results that arrived while stopping are kept
            unfinished = [s.group_id for s in self._busy()] + list(self.queue)
            self.shutdown(graceful=not unfinished)
        return unfinished

    def _busy(self) -> list[_Slot]:
        return [s for s in self.slots if s.group_id]

    def _dispatch(self) -> None:
        for slot in self.slots:
            if slot.group_id is None and self.queue:
                group_id = self.queue.popleft()
                self.attempts[group_id] = self.attempts.get(group_id, 0) + 1
                slot.group_id, slot.started = group_id, time.perf_counter()
                try:
                    slot.conn.send((group_id, self.combos[group_id]))
                except OSError:
                    pass  # the worker is gone: _harvest sees it dead

    def _harvest(self, replace_dead: bool = True) -> list[tuple[dict[str, Any], list]]:
        """The results waiting on the pipes; a dead worker's group is retried once, then failed."""
        finished = []
        for index, slot in enumerate(self.slots):
            if slot.group_id is None:
                continue
            result = self._receive(slot)
            if result is not None:
                slot.group_id = None
                finished.append(result)
            elif replace_dead and not slot.proc.is_alive():
                failed = self._retry_or_fail(slot)
                if failed is not None:
                    finished.append((failed, []))
                self.slots[index] = self._spawn()
        return finished

    @staticmethod
    def _receive(slot: _Slot) -> tuple[dict[str, Any], list] | None:
        try:
            if slot.conn.poll():
                return slot.conn.recv()
        except (EOFError, OSError):
            slot.proc.join(timeout=5)  # the worker died: let its exit code settle
        return None

    def _retry_or_fail(self, slot: _Slot) -> dict[str, Any] | None:
        """Requeue the dead worker's group (first death) or its failed record."""
        slot.proc.join(timeout=5)
        slot.conn.close()
        code = slot.proc.exitcode
        why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        if self.attempts[slot.group_id] < MAX_ATTEMPTS:
            log.warning(f"{slot.group_id}: worker died ({why}); retrying on a fresh worker")
            self.queue.appendleft(slot.group_id)
            return None
        return failed_record(slot.group_id, f"worker died ({why})",
                             time.perf_counter() - slot.started)

    def shutdown(self, graceful: bool) -> None:
        """Stop every worker: ask them (graceful) or terminate them."""
        for slot in self.slots:
            try:
                if graceful and slot.proc.is_alive():
                    slot.conn.send(None)
                elif slot.proc.is_alive():
                    slot.proc.terminate()
            except OSError:
                pass
        for slot in self.slots:
            slot.proc.join(timeout=5)
            if slot.proc.is_alive():
                slot.proc.kill()
                slot.proc.join()
            slot.conn.close()

    def kill_all(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# --- the run ---------------------------------------------------------------

def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def resolve_workers(requested: int | str, n_groups: int, n_bars: int) -> tuple[int, str]:
    """The worker count and why: ``auto`` = min(cores, memory / per-worker estimate, groups)."""
    if requested != "auto":
        count = max(1, min(int(requested), n_groups))
        capped = f" (capped from {requested}: only {n_groups} groups to run)" if count < int(requested) else ""
        return count, f"workers: {count}{capped}"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    per_worker = _WORKER_BASE_BYTES + _WORKER_BYTES_PER_BAR * n_bars
    available = _available_memory()
    by_memory = max(1, available // per_worker) if available else cores
    count = max(1, min(cores, by_memory, n_groups))
    memory = (f"{available / 2**30:.1f} GiB available / ~{per_worker / 2**20:.0f} MiB per worker"
              f" = {by_memory}" if available else "memory unknown")
    return count, f"workers auto: {count} = min({cores} cores, {memory}, {n_groups} groups to run)"


class _Signals:
    """SIGINT/SIGTERM: the first stops the run cleanly, a second exits at once."""

    def __init__(self, on_second: Callable[[], None]):
        self.received: int | None = None
        self.on_second = on_second
        self.previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.received is not None:
            self.on_second()
            os._exit(128 + signum)
        self.received = signum

    def __enter__(self) -> "_Signals":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_exc: Any) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


class _ConsoleHandler(logging.Handler):
    """Log lines to stdout, printed around the tqdm bar when one is shown. When
    stdout goes away (a closed pipe, a dropped ssh session) the run goes on:
    the console is dropped and run.log keeps every line."""

    def __init__(self) -> None:
        super().__init__()
        self.closed_stream = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.closed_stream:
            return
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stdout)
        except OSError:
            self.closed_stream = True
        except Exception:  # logging must never break the run
            self.handleError(record)


class _Logging:
    """Console logging for the run; lines before OUT exists are replayed into run.log."""

    def __init__(self) -> None:
        formatter = logging.Formatter(LOG_FORMAT, LOG_DATEFMT)
        self.console = _ConsoleHandler()
        self.early = logging.handlers.MemoryHandler(capacity=100_000, flushLevel=logging.CRITICAL + 1)
        self.file: logging.Handler | None = None
        for handler in (self.console, self.early):
            handler.setFormatter(formatter)

    def __enter__(self) -> "_Logging":
        log.setLevel(logging.INFO)
        log.propagate = False
        log.addHandler(self.console)
        log.addHandler(self.early)
        return self

    def to_file(self, path: Path) -> None:
        self.file = logging.FileHandler(path, encoding="utf-8")
        self.file.setFormatter(self.console.formatter)
        self.early.setTarget(self.file)
        self.early.flush()
        log.removeHandler(self.early)
        log.addHandler(self.file)

    def __exit__(self, *_exc: Any) -> None:
        for handler in (self.console, self.early, self.file):
            if handler is not None:
                log.removeHandler(handler)
                handler.close()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


class _Progress:
    """The progress line per finished group, and a tqdm bar on a terminal."""

    def __init__(self, total: int, done: int, to_run: int):
        self.total, self.done, self.to_run, self.ran = total, done, to_run, 0
        self.started = time.perf_counter()
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="group", file=sys.stderr)

    def finished(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.ran += 1
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.ran * (self.to_run - self.ran)
        where = f"[{self.done}/{self.total}] {record['group_id']}"
        if record["status"] == "ok":
            best = record["combos"][record["best"]]["metrics"]
            log.info(f"{where}: R={best['total_r']:.2f}, Trades={best['trades']}, "
                     f"ETA: {eta / 60:.1f}min")
        else:
            log.error(f"{where}: failed: {record['error']}")
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _draw_charts(plan: _Plan, record: dict[str, Any], best_trades: list[dict[str, Any]]) -> None:
    """The group's charts; a failure is logged, never fatal."""
    try:
        from backtest.charts import write_group_charts

        write_group_charts(plan.out_dir / "charts", record["group_id"], record["combos"],
                           best_trades, plan.settings.account_size, plan.symbol)
    except Exception as exc:  # charts are a by-product: the results matter
        log.warning(f"{record['group_id']}: charts not written: {type(exc).__name__}: {exc}")


def _metadata(plan: _Plan, workers: int, started: str) -> dict[str, Any]:
    opts = plan.options
    return {
        "symbol": plan.symbol, "period": plan.period,
        "start_date": plan.start_date, "end_date": plan.end_date,
        "data_file": plan.bars.source, "data_checksum": plan.header["data_checksum"],
        "code_version": plan.header["code_version"], "host": socket.gethostname(),
        "workers": workers, "engine": opts.engine,
        "risk": plan.settings.risk, "account_size": plan.settings.account_size,
        "daily_loss_limit_pct": plan.settings.daily_loss_limit_pct,
        "max_loss_limit_pct": plan.settings.max_loss_limit_pct,
        "save_trades": bool(opts.save_trades),
        "news_file": str(opts.news_file) if opts.news_file else None,
        "groups_file": str(plan.groups_file),
        "start_time": started, "end_time": _now(),
    }


def _execute(plan: _Plan, checkpoint: Checkpoint) -> RunReport:
    started = _now()
    done = checkpoint.done()
    order = [gid for gid in checkpoint.order(list(plan.groups)) if gid in plan.groups or gid in done]
    records: dict[str, dict[str, Any]] = {gid: done[gid] for gid in order if gid in done}
    todo = [gid for gid in order if gid not in records]
    extra = [gid for gid in records if gid not in plan.groups]
    if records:
        log.info(f"resuming from {checkpoint.path}: {len(records)} of {len(order)} groups already "
                 f"finished, not run again")
    if extra:
        log.info(f"{len(extra)} finished groups of the checkpoint are not in {plan.groups_file}; "
                 "they are kept in the results")
    workers, why = resolve_workers(plan.workers, max(1, len(todo)), len(plan.bars))
    days = f"{day_date(plan.bars.day[0])}..{day_date(plan.bars.day[-1])}"
    log.info(f"{plan.symbol} {plan.period} {plan.start_date}..{plan.end_date}: {len(plan.bars)} bars "
             f"({days}) from {plan.bars.source}; {len(todo)} groups to run, "
             f"engine {plan.options.engine}")
    log.info(why)

    progress = _Progress(len(order), len(records), len(todo))

    def on_done(record: dict[str, Any], best_trades: list[dict[str, Any]]) -> None:
        checkpoint.add(record)
        records[record["group_id"]] = record
        progress.finished(record)
        if record["status"] == "ok" and not plan.options.skip_charts:
            _draw_charts(plan, record, best_trades)

    job = _Job(plan.bars, plan.settings, plan.options.engine, bool(plan.options.save_trades),
               not plan.options.skip_charts, plan.out_dir)
    supervisor = _Supervisor(workers, job)
    with _Signals(on_second=supervisor.kill_all) as signals:
        unfinished = supervisor.run([(gid, plan.combos[gid]) for gid in todo], on_done,
                                    lambda: signals.received is not None)
        interrupted = signals.received
        progress.close()
        if interrupted is not None:
            log.warning(f"interrupted ({signal.Signals(interrupted).name}): {len(unfinished)} "
                        f"groups unfinished; writing the {len(records)} finished")
            for gid in unfinished:
                records[gid] = failed_record(gid, "interrupted", 0.0)
        final = [records[gid] for gid in order if gid in records]
        failed = [r for r in final if r["status"] != "ok"]
        failed_raw = [{**plan.groups[r["group_id"]].raw, "error": r["error"]} for r in failed]
        files = write_results(plan.out_dir, plan.symbol, _metadata(plan, workers, started),
                              final, failed_raw)
    exit_code = 128 + interrupted if interrupted is not None else (1 if failed else 0)
    log.info(f"done: {len(final) - len(failed)} of {len(final)} groups ok, {len(failed)} failed; "
             f"results in {plan.out_dir}")
    return RunReport(plan.out_dir, plan.symbol, files, len(final), len(final) - len(failed),
                     [r["group_id"] for r in failed], len(done), exit_code,
                     signal.Signals(interrupted).name if interrupted is not None else None,
                     summary_rows(final))


def run_backtest(options: RunOptions | dict[str, Any]) -> RunReport:
    """Run every group of the groups file; write results, checkpoint and run.log into OUT.

    Raises a library error (RunError, GroupsError, ParamError, ConfigError,
    DataError, NewsError, ResumeError) before anything runs or is written when
    the input is bad. A run with failed groups returns exit_code 1, an
    interrupted one 128 + the signal number.
    """
    opts = _as_options(options)
    with _Logging() as logging_setup:
        plan = prepare(opts)
        checkpoint = Checkpoint.open(plan.out_dir, plan.header, fresh=opts.fresh, log=log.warning)
        for gid, combos in plan.combos.items():
            checkpoint.verify_params(gid, combos)
        logging_setup.to_file(plan.out_dir / RUN_LOG)
        return _execute(plan, checkpoint)


# --- command line ----------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backtest.run_parallel_backtest",
        description="Run every group of a groups file over one period, in parallel; "
                    "resumable (re-run on the same --output-dir).")
    add = parser.add_argument
    add("--groups-file", required=True, help="groups file (JSON, io-contract format)")
    add("--data-file", help="M1 bars (Parquet/CSV/MT5 export); default: the period's "
                            "configured file, else built-in sample data")
    add("--start-date", help="first trading day, YYYY-MM-DD (default: the period's)")
    add("--end-date", help="last trading day, YYYY-MM-DD (default: the period's)")
    add("--workers", default="auto", help="worker processes, or 'auto' (default)")
    add("--output-dir", help="where results go (default: backtest/output/parallel_{SYMBOL}_"
                             "{YYYYMMDD}, or parallel_control_{SYMBOL} for --period control)")
    add("--skip-charts", action="store_true", help="do not draw equity charts")
    add("--save-trades", action="store_true", help="store every combination's trades in "
                                                    "results_full_{SYMBOL}.json")
    add("--period", default="in_sample", choices=PERIODS, help="configured period (default in_sample)")
    add("--risk", type=float, help="money risked per trade (default from config: 1000)")
    add("--account-size", type=float, help="account size for the prop-firm view (default 100000)")
    add("--news-file", help="news CSV (time, currency, impact); required when news_filter is on")
    add("--engine", default="fast", choices=ENGINES, help="fast sweep kernel or the emulator")
    add("--config", help="YAML config overriding the defaults (symbols, periods, run)")
    add("--server-tz", help="time zone of an MT5 export's broker server time")
    add("--drop-invalid", action="store_true", help="drop invalid/duplicate bars instead of failing")
    add("--fresh", action="store_true", help="replace an existing checkpoint instead of resuming")
    add("--symbol", help="symbol of a bare-list groups file whose groups name none")
    return parser


def input_errors() -> tuple[type[BaseException], ...]:
    """The library errors that mean bad input (exit code 2, nothing run)."""
    from backtest.data import DataError
    from backtest.groups import GroupsError
    from backtest.news import NewsError

    return (RunError, ConfigError, ParamError, ResumeError, GroupsError, DataError, NewsError)


def main(argv: list[str] | None = None) -> int:
    """Parse, run; bad input is one line on stderr and exit code 2 (nothing run)."""
    args = build_parser().parse_args(argv)
    options = RunOptions(**{f.name: getattr(args, f.name) for f in fields(RunOptions)})
    try:
        report = run_backtest(options)
    except input_errors() as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return report.exit_code


if __name__ == "__main__":
    _code = main()
    # Skip the interpreter's teardown: pyarrow's Parquet thread pool can abort the
    # process there ("terminate called without an active exception", apache/arrow#34314),
    # which would turn exit code 0/1/2 into SIGABRT. Every file is closed by now.
    for _stream in (sys.stdout, sys.stderr):
        try:
            _stream.flush()
        except OSError:
            pass
    os._exit(_code)
