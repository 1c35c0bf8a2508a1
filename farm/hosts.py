"""hosts.yaml: which VM runs which slice of which groups file, checked before any connection.

Format (see docs/FARM.md)::

    defaults: {user, port, identity_file, known_hosts, base_dir, python, venv,
               workers, period, output_dir, connect_timeout, command_timeout,
               stop_timeout, charts, save_daily, strict_data, env,
               collect_max_file_mb, collect_max_host_mb}
    symbols:  {SYMBOL: {groups_file, allow_uncovered, allow_sample,
                        server_tz, news_file, spread_model, spread_source, slippage,
                        in_sample: {data_file, start_date, end_date},
                        control: {data_file, start_date, end_date}}}
    hosts:    {NAME: {address, symbol, range: "0:30", <any default as override>}}
    cluster:  {scheduler: NAME, port, dashboard_port, processes: {NAME: N},
               worker_ports, nanny_ports, local_dir, remote_dir, start_timeout}

Local paths in the file are relative to the file's directory; ``~`` means the local
home. On the host, ``base_dir`` is absolute and normalised (no ``..``, not ``/``);
``venv`` and ``output_dir`` are relative to it, without ``..``. Types are strict
(a boolean is ``true``/``false``, never the string ``"false"``), and every check
happens before anything connects.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backtest.core.config import read_yaml_mapping
from backtest.runner.host_tools import parse_range
from farm.errors import HostsFileError

HOSTS_ENV = "IBSWEEP_HOSTS"
DEFAULT_HOSTS_FILE = Path(__file__).resolve().parent.parent / "hosts.yaml"

DEFAULT_KEYS: dict[str, Any] = {
    "user": None,
    "port": 22,
    "identity_file": None,
    "known_hosts": "known_hosts",
    "base_dir": None,
    "python": "python3",
    "venv": "venv",
    "workers": 1,
    "period": "in_sample",
    "output_dir": "output/{symbol}_{period}",
    "connect_timeout": 10,
    "command_timeout": 600,
    "stop_timeout": 120,
    "charts": False,
    "save_daily": False,
    "strict_data": True,
    "env": {},
    # fab collect's caps (MB = 2**20 bytes): a bigger file is not fetched, and a host whose
    # output holds more is not collected (a tampered or runaway host cannot fill this disk)
    "collect_max_file_mb": 1024,
    "collect_max_host_mb": 51200,
}
PERIODS = ("in_sample", "control")
# Per symbol, given to every host's runner when set (None: the runner's own default):
# the broker clock of an MT5 export, the news file, the execution settings of spec section 8.
RUN_KEYS = ("server_tz", "news_file")
EXECUTION_KEYS = ("spread_model", "spread_source", "slippage")
SYMBOL_KEYS = {"groups_file", "allow_uncovered", "allow_sample", *PERIODS, *RUN_KEYS}
SYMBOL_KEYS |= set(EXECUTION_KEYS)
PERIOD_KEYS = {"data_file", "start_date", "end_date"}
MOVED_KEYS = ("data_file", "start_date", "end_date")  # symbol level before per-period blocks
HOST_KEYS = {"address", "symbol", "range"} | set(DEFAULT_KEYS)
TOP_KEYS = {"defaults", "symbols", "hosts", "cluster"}
CLUSTER_DEFAULTS: dict[str, Any] = {
    "scheduler": None,
    "port": 8786,
    "dashboard_port": 8787,
    "processes": {},
    "worker_ports": None,
    "nanny_ports": None,
    "local_dir": ".cluster",
    "remote_dir": "cluster",
    "start_timeout": 120,
}
# Top-level names under base_dir that farm steps own; an output_dir there would mix in.
RESERVED_DIRS = ("code", "data", "requirements.txt", ".requirements.sha256")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Host:
    """One VM and the slice of a symbol's groups file it runs."""

    name: str
    address: str
    port: int
    user: str | None
    identity_file: Path | None
    known_hosts: Path
    symbol: str
    range_text: str
    start: int | None
    stop: int | None
    base_dir: str
    python: str
    venv: str
    workers: int
    period: str
    output_dir: str
    connect_timeout: int
    command_timeout: int
    charts: bool = False
    env: tuple[tuple[str, str], ...] = ()
    stop_timeout: int = 120
    strict_data: bool = True
    save_daily: bool = False
    collect_max_file_mb: int = DEFAULT_KEYS["collect_max_file_mb"]
    collect_max_host_mb: int = DEFAULT_KEYS["collect_max_host_mb"]

    @property
    def range_slice(self) -> slice:
        return slice(self.start, self.stop)

    def indices(self, n_groups: int) -> range:
        """The group indices this host runs, Python slice semantics over ``n_groups``."""
        return range(*self.range_slice.indices(n_groups))

    @property
    def remote_out(self) -> str:
        """Absolute remote output directory of this host's run."""
        return remote_join(
            self.base_dir, self.output_dir.format(symbol=self.symbol, period=self.period)
        )

    @property
    def remote_venv(self) -> str:
        return remote_join(self.base_dir, self.venv)


@dataclass(frozen=True)
class PeriodSetup:
    """One period of a symbol on the farm: its local data file and dates (None: the
    runner's configured dates for the period)."""

    data_file: Path | None = None
    start_date: str | None = None
    end_date: str | None = None


@dataclass(frozen=True)
class SymbolSetup:
    """Per-symbol inputs: the groups file every host slices, and per period the data
    file and dates; ``allow_sample`` lets a period without a data file run on the
    built-in sample data. ``server_tz``, ``news_file`` (local, pushed to each host like
    the data) and the execution settings (``spread_model``, ``spread_source``,
    ``slippage``) go to every host's runner as its options of those names; None: not
    given (the runner's config decides)."""

    name: str
    groups_file: Path | None
    allow_uncovered: bool
    n_groups: int | None
    periods: dict[str, PeriodSetup] = field(default_factory=dict)
    allow_sample: bool = False
    server_tz: str | None = None
    news_file: Path | None = None
    spread_model: str | None = None
    spread_source: str | None = None
    slippage: float | None = None

    def period(self, name: str) -> PeriodSetup:
        """The ``in_sample`` or ``control`` block (empty when hosts.yaml has none)."""
        return self.periods.get(name) or PeriodSetup()

    def data_path(self, period: str) -> Path | None:
        """The local data file for ``period``, if hosts.yaml names one."""
        return self.period(period).data_file


@dataclass(frozen=True)
class ClusterSetup:
    """hosts.yaml ``cluster:``: the Dask cluster fab cluster-up starts on the hosts.

    ``processes`` is the number of worker processes per host name (every host of
    hosts.yaml; its ``workers`` unless ``cluster.processes`` names it, 0: none).
    ``worker_ports``/``nanny_ports`` are ``"first:last"`` ranges (firewalls), None: any.
    """

    scheduler: str  # a host name of hosts.yaml
    port: int
    dashboard_port: int  # on the scheduler host's 127.0.0.1 (fab cluster-dashboard)
    processes: dict[str, int]
    worker_ports: str | None
    nanny_ports: str | None
    local_dir: Path  # CA, client certificate, scheduler.json (this machine)
    remote_dir: str  # relative to each host's base_dir
    start_timeout: int


@dataclass(frozen=True)
class Farm:
    """A validated hosts.yaml."""

    path: Path
    hosts: list[Host]
    symbols: dict[str, SymbolSetup]
    notes: list[str] = field(default_factory=list)
    cluster: ClusterSetup | None = None

    def host(self, name: str) -> Host:
        """The host called ``name`` (hosts.yaml validated that it exists)."""
        return next(h for h in self.hosts if h.name == name)

    def select(self, host: str | None = None, symbol: str | None = None) -> list[Host]:
        """The hosts matching ``--host`` (name or address) and ``--symbol``; unknown: an error."""
        chosen = self.hosts
        if host:
            names = [h.strip() for h in host.split(",") if h.strip()]
            for name in names:
                if not any(name in (h.name, h.address) for h in self.hosts):
                    known = ", ".join(h.name for h in self.hosts)
                    raise HostsFileError(f"{self.path}: no host '{name}' (hosts: {known})")
            chosen = [h for h in chosen if h.name in names or h.address in names]
        if symbol:
            if symbol not in {h.symbol for h in self.hosts}:
                raise HostsFileError(f"{self.path}: no host runs symbol '{symbol}'")
            chosen = [h for h in chosen if h.symbol == symbol]
        return chosen


def remote_join(base: str, path: str) -> str:
    """``path`` under the remote ``base`` unless it is already absolute (POSIX paths)."""
    return path if path.startswith("/") else base.rstrip("/") + "/" + path


def hosts_file_path(path: str | os.PathLike | None = None) -> Path:
    """The hosts file in force: explicit path, ``$IBSWEEP_HOSTS`` or the repository's hosts.yaml."""
    return Path(path or os.environ.get(HOSTS_ENV) or DEFAULT_HOSTS_FILE)


def _local_path(value: Any, base: Path, where: str) -> Path | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise HostsFileError(f"{where}: must be a path string, got {value!r}")
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else base / path


def _check_unknown(raw: dict, known: set[str], where: str) -> None:
    for key in raw:
        if key not in known:
            raise HostsFileError(
                f"{where}: unknown key '{key}' (known: {', '.join(sorted(known))})"
            )


def _int(value: Any, where: str, minimum: int, maximum: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise HostsFileError(f"{where}: must be an integer {bounds}, got {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    """A real YAML boolean: ``"false"`` or ``"no"`` in quotes would read as true."""
    if not isinstance(value, bool):
        raise HostsFileError(f"{where}: must be true or false (unquoted), got {value!r}")
    return value


def _date(value: Any, where: str) -> str | None:
    """``YYYY-MM-DD`` (a YAML date or a string) as text, checked before connecting."""
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise HostsFileError(f"{where}: must be a date YYYY-MM-DD, got {value!r}") from None


def _plain(value: Any, where: str) -> str:
    """A non-empty string without control characters (it goes into remote commands)."""
    if not isinstance(value, str) or not value or any(ord(ch) < 32 for ch in value):
        raise HostsFileError(
            f"{where}: must be a non-empty string without control characters, got {value!r}"
        )
    return value


def _base_dir(value: Any, where: str) -> str:
    """Absolute, normalised, not ``/``: everything the farm writes or collects is under it."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise HostsFileError(f"{where}: must be an absolute remote path, got {value!r}")
    trimmed = _plain(value, where).rstrip("/") or "/"
    if ".." in trimmed.split("/") or posixpath.normpath(trimmed) != trimmed:
        raise HostsFileError(
            f"{where}: must be a normalised absolute path (no '..', '.' or '//'), got {value!r}"
        )
    if trimmed == "/":
        raise HostsFileError(f"{where}: must not be '/' (collect would fetch the whole disk)")
    return trimmed


def _relative(value: str, where: str, what: str) -> str:
    """A path relative to base_dir, without ``..`` or ``.`` parts, not base_dir itself."""
    parts = value.rstrip("/").split("/")
    if value.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise HostsFileError(
            f"{where}: must be a path relative to base_dir without '..', '.' or '//' "
            f"({what}), got {value!r}"
        )
    return value.rstrip("/")


def _host(name: str, raw: Any, defaults: dict, base: Path, where: str) -> Host:
    if not isinstance(raw, dict):
        raise HostsFileError(f"{where}: must be a mapping")
    _check_unknown(raw, HOST_KEYS, where)
    for key in ("address", "symbol", "range"):
        if key not in raw:
            raise HostsFileError(f"{where}: missing '{key}'")
    v = {**defaults, **raw}
    for what, value in (("host name", name), ("symbol", str(v["symbol"]))):
        if not _NAME.match(value):  # both become local and remote path components
            raise HostsFileError(
                f"{where}: {what} {value!r} may only hold letters, digits, '_', '.', '-'"
            )
    address = str(v["address"])
    try:
        ipaddress.ip_address(address)
    except ValueError:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9.-]*$", address):
            raise HostsFileError(
                f"{where}.address: not an IP address or host name: {address!r}"
            ) from None
    base_dir = _base_dir(v["base_dir"], f"{where}.base_dir")
    for key in ("venv", "output_dir", "python"):
        _plain(v[key], f"{where}.{key}")
    venv = _relative(v["venv"], f"{where}.venv", "the virtualenv fab setup makes")
    try:
        outputs = {v["output_dir"].format(symbol=v["symbol"], period=p) for p in PERIODS}
    except (KeyError, IndexError, ValueError):
        raise HostsFileError(
            f"{where}.output_dir: only {{symbol}} and {{period}} may appear in braces, "
            f"got {v['output_dir']!r}"
        ) from None
    for out in sorted(outputs):
        top = _relative(out, f"{where}.output_dir", "collect downloads all of it").split("/")[0]
        if top in (*RESERVED_DIRS, venv.split("/")[0]) or top.startswith(("code-", ".code-")):
            raise HostsFileError(
                f"{where}.output_dir: {out!r} is inside base_dir's {top!r}, which fab "
                "setup/deploy own (collect would download it); choose e.g. output/{symbol}_{period}"
            )
    if v["period"] not in PERIODS:
        raise HostsFileError(
            f"{where}.period: must be one of {', '.join(PERIODS)}, got {v['period']!r}"
        )
    start, stop = parse_range(v["range"], f"{where}.range", HostsFileError)
    env = v["env"] if v["env"] is not None else {}
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k) for k in env
    ):
        raise HostsFileError(f"{where}.env: must map variable names to values")
    for key, val in env.items():
        if isinstance(val, bool) or not isinstance(val, (str, int, float)) or "\0" in str(val):
            raise HostsFileError(
                f"{where}.env.{key}: must be a string or a number, got {val!r} (quote it)"
            )
    known_hosts = (
        _local_path(v["known_hosts"], base, f"{where}.known_hosts") or base / "known_hosts"
    )
    return Host(
        name=name,
        address=address,
        port=_int(v["port"], f"{where}.port", 1, 65535),
        user=None if v["user"] is None else str(v["user"]),
        identity_file=_local_path(v["identity_file"], base, f"{where}.identity_file"),
        known_hosts=known_hosts,
        symbol=str(v["symbol"]),
        range_text=str(v["range"]),
        start=start,
        stop=stop,
        base_dir=base_dir,
        python=v["python"],
        venv=venv,
        workers=_int(v["workers"], f"{where}.workers", 1),
        period=v["period"],
        output_dir=v["output_dir"].rstrip("/"),
        connect_timeout=_int(v["connect_timeout"], f"{where}.connect_timeout", 1),
        command_timeout=_int(v["command_timeout"], f"{where}.command_timeout", 1),
        charts=_bool(v["charts"], f"{where}.charts"),
        env=tuple((k, str(val)) for k, val in env.items()),
        stop_timeout=_int(v["stop_timeout"], f"{where}.stop_timeout", 1),
        strict_data=_bool(v["strict_data"], f"{where}.strict_data"),
        save_daily=_bool(v["save_daily"], f"{where}.save_daily"),
        collect_max_file_mb=_int(v["collect_max_file_mb"], f"{where}.collect_max_file_mb", 1),
        collect_max_host_mb=_int(v["collect_max_host_mb"], f"{where}.collect_max_host_mb", 1),
    )


def _period(raw: Any, base: Path, where: str) -> PeriodSetup:
    """A symbol's ``in_sample`` / ``control`` block: data file and dates."""
    if raw is None:
        return PeriodSetup()
    if not isinstance(raw, dict):
        raise HostsFileError(f"{where}: must be a mapping with data_file, start_date, end_date")
    _check_unknown(raw, PERIOD_KEYS, where)
    start = _date(raw.get("start_date"), f"{where}.start_date")
    end = _date(raw.get("end_date"), f"{where}.end_date")
    if start and end and start > end:
        raise HostsFileError(f"{where}: start_date {start} is after end_date {end}")
    return PeriodSetup(_local_path(raw.get("data_file"), base, f"{where}.data_file"), start, end)


def _run_settings(raw: dict, base: Path, where: str) -> dict[str, Any]:
    """A symbol's runner settings (:data:`RUN_KEYS`, :data:`EXECUTION_KEYS`), each checked
    as the runner checks its option (absent or null: not given)."""
    from backtest.core.config import ConfigError, check_execution

    out: dict[str, Any] = {}
    tz = raw.get("server_tz")
    if tz is not None:
        from backtest.data.files import DataError
        from backtest.data.server_tz import check_server_tz

        try:
            out["server_tz"] = check_server_tz(
                _plain(tz, f"{where}.server_tz"), f"{where}.server_tz"
            )
        except DataError as exc:
            raise HostsFileError(" ".join(str(exc).split())) from None
    news = _local_path(raw.get("news_file"), base, f"{where}.news_file")
    if news is not None and news.name in ("", ".", ".."):
        raise HostsFileError(f"{where}.news_file: must name a file, got {raw['news_file']!r}")
    if news is not None:
        _plain(news.name, f"{where}.news_file")  # its name goes into remote paths
    out["news_file"] = news
    given = {k: raw[k] for k in EXECUTION_KEYS if raw.get(k) is not None}
    try:
        check_execution(given, where)
    except ConfigError as exc:
        raise HostsFileError(" ".join(str(exc).split())) from None
    if "slippage" in given:
        given["slippage"] = float(given["slippage"])
    return {**out, **given}


def make_groups_command(path: Path, symbol: str, hosts: list[Host]) -> str:
    """The ``invoke make-groups`` line that writes the groups file the hosts' ranges slice."""
    stops = [h.stop for h in hosts if h.symbol == symbol]
    positive = [s for s in stops if s is not None and s > 0]
    n = max(positive) if stops and len(positive) == len(stops) else "N"
    try:
        out = path.relative_to(Path.cwd())
    except ValueError:
        out = path
    return (
        f"invoke make-groups --symbol {symbol} --grid GRID.yaml --groups {n} "
        f"--output {shlex.quote(str(out))}"
    )


def _count_groups(path: Path, symbol: str, where: str, hosts: list[Host]) -> int:
    from backtest.runner.groups import GroupsError, load_groups_file

    if not path.exists():
        raise HostsFileError(
            f"{where}: groups file {path} not found; fix: write it with "
            f"`{make_groups_command(path, symbol, hosts)}` (grid format: docs/ANALYSIS.md, "
            f"e.g. examples/grid_GER40.yaml), then check the ranges with fab deploy --dry-run"
        )
    try:
        return len(load_groups_file(path, symbol=symbol).groups)
    except GroupsError as exc:
        raise HostsFileError(f"{where}: {exc}") from None


def _check_ranges(path: Path, hosts: list[Host], setup: SymbolSetup) -> None:
    """Ranges inside the groups file, no group run twice, and (unless ``allow_uncovered``)
    every group of the groups file run by some host."""
    n = setup.n_groups
    spans: list[tuple[int, float, Host]] = []
    for h in (h for h in hosts if h.symbol == setup.name):
        where = f"{path}: hosts.{h.name}.range"
        if n is None:
            if any(v is not None and v < 0 for v in (h.start, h.stop)):
                raise HostsFileError(
                    f"{where}: negative bounds need symbols.{h.symbol}.groups_file"
                )
            lo, hi = h.start or 0, float("inf") if h.stop is None else h.stop
        else:
            for bound in (h.start, h.stop):
                if bound is not None and not -n <= bound <= n:
                    raise HostsFileError(
                        f"{where}: '{h.range_text}' is outside the groups file "
                        f"({n} groups, {setup.groups_file})"
                    )
            idx = h.indices(n)
            lo, hi = idx.start, idx.stop
        if hi <= lo:
            raise HostsFileError(f"{where}: '{h.range_text}' selects no group")
        spans.append((lo, hi, h))
    spans.sort(key=lambda s: (s[0], s[1]))
    for (_, hi_a, a), (lo_b, _, b) in zip(spans, spans[1:]):
        if lo_b < hi_a:
            raise HostsFileError(
                f"{path}: hosts.{b.name}.range: '{b.range_text}' overlaps host {a.name} "
                f"('{a.range_text}') at group index {lo_b}"
            )
    if n is None or setup.allow_uncovered:
        return
    covered = {i for lo, hi, _ in spans for i in range(lo, int(hi))}
    missing = [i for i in range(n) if i not in covered]
    if missing:
        raise HostsFileError(
            f"{path}: symbols.{setup.name}: groups {_spans(missing)} of {setup.groups_file} "
            f"({n} entries) are run by no host; fix: e.g. "
            f"{_even_ranges([h for _, _, h in spans], n)} "
            f"(or allow_uncovered: true to run only part of the groups file)"
        )


def _even_ranges(hosts: list[Host], n: int) -> str:
    """Ranges splitting ``n`` groups evenly over ``hosts`` in their order, hosts.yaml style."""
    size, extra = divmod(n, len(hosts))
    parts, start = [], 0
    for i, h in enumerate(hosts):
        stop = start + size + (1 if i < extra else 0)
        parts.append(f'{h.name} range: "{start}:{stop}"')
        start = stop
    return ", ".join(parts)


def _spans(idx: list[int]) -> str:
    """Sorted indices as ``start:stop`` runs: ``[0, 1, 2, 5]`` -> ``"0:3, 5:6"``."""
    spans, start = [], idx[0]
    for a, b in zip(idx, idx[1:]):
        if b != a + 1:
            spans.append(f"{start}:{a + 1}")
            start = b
    spans.append(f"{start}:{idx[-1] + 1}")
    return ", ".join(spans)


def _ports(value: Any, where: str) -> str | None:
    """A ``"first:last"`` port range (or one port) for dask's --worker-port/--nanny-port."""
    if value is None:
        return None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    match = re.fullmatch(r"(\d{1,5})(?::(\d{1,5}))?", text.strip())
    first, last = (int(match.group(1)), int(match.group(2) or match.group(1))) if match else (0, 0)
    if not 1 <= first <= last <= 65535:
        raise HostsFileError(
            f"{where}: must be a port or a range 'first:last' within 1..65535, got {value!r}"
        )
    return f"{first}:{last}"


def _cluster(raw: Any, hosts: list[Host], base: Path, where: str) -> ClusterSetup:
    """The ``cluster:`` section, every field checked (names, types, ranges)."""
    if not isinstance(raw, dict):
        raise HostsFileError(f"{where}: must be a mapping (scheduler, port, processes, ...)")
    _check_unknown(raw, set(CLUSTER_DEFAULTS), where)
    v = {**CLUSTER_DEFAULTS, **raw}
    names = [h.name for h in hosts]
    if v["scheduler"] not in names:
        raise HostsFileError(
            f"{where}.scheduler: must name a host of hosts: ({', '.join(names)}), "
            f"got {v['scheduler']!r}"
        )
    port = _int(v["port"], f"{where}.port", 1, 65535)
    dashboard = _int(v["dashboard_port"], f"{where}.dashboard_port", 1, 65535)
    if dashboard == port:
        raise HostsFileError(f"{where}.dashboard_port: must differ from port ({port})")
    given = v["processes"] if v["processes"] is not None else {}
    if not isinstance(given, dict):
        raise HostsFileError(f"{where}.processes: must map host names to worker processes")
    for name in given:
        if name not in names:
            raise HostsFileError(
                f"{where}.processes: no host {name!r} in hosts: ({', '.join(names)})"
            )
    processes = {
        h.name: _int(given[h.name], f"{where}.processes.{h.name}", 0)
        if h.name in given
        else h.workers
        for h in hosts
    }
    if not any(processes.values()):
        raise HostsFileError(f"{where}.processes: every host has 0 worker processes")
    remote = _relative(
        _plain(v["remote_dir"], f"{where}.remote_dir"), f"{where}.remote_dir", "the cluster's files"
    )
    if remote.split("/")[0] in RESERVED_DIRS or remote.split("/")[0].startswith("code-"):
        raise HostsFileError(
            f"{where}.remote_dir: {remote!r} is inside base_dir's {remote.split('/')[0]!r}, "
            "which fab setup/deploy own; keep the default 'cluster'"
        )
    local = _local_path(v["local_dir"], base, f"{where}.local_dir")
    if local is None:
        raise HostsFileError(f"{where}.local_dir: must be a local folder, got {v['local_dir']!r}")
    return ClusterSetup(
        scheduler=v["scheduler"],
        port=port,
        dashboard_port=dashboard,
        processes=processes,
        worker_ports=_ports(v["worker_ports"], f"{where}.worker_ports"),
        nanny_ports=_ports(v["nanny_ports"], f"{where}.nanny_ports"),
        local_dir=local,
        remote_dir=remote,
        start_timeout=_int(v["start_timeout"], f"{where}.start_timeout", 1),
    )


def load_hosts(path: str | os.PathLike | None = None, *, need_groups: bool = False) -> Farm:
    """Read and validate a hosts file; every error names the file and the field.

    ``need_groups``: the symbols' groups files must exist (deploy, collect, retry).
    """
    file = hosts_file_path(path)
    if not file.exists():
        raise HostsFileError(f"{file}: hosts file not found (use --hosts-file or ${HOSTS_ENV})")
    raw = read_yaml_mapping(file, HostsFileError)
    _check_unknown(raw, TOP_KEYS, str(file))
    base = file.resolve().parent
    defaults_raw = raw.get("defaults") or {}
    if not isinstance(defaults_raw, dict):
        raise HostsFileError(f"{file}: defaults must be a mapping")
    _check_unknown(defaults_raw, set(DEFAULT_KEYS), f"{file}: defaults")
    defaults = {**DEFAULT_KEYS, **defaults_raw}
    hosts_raw = raw.get("hosts")
    if not isinstance(hosts_raw, dict) or not hosts_raw:
        raise HostsFileError(f"{file}: hosts must be a non-empty mapping of name -> host")
    hosts = [
        _host(str(name), h, defaults, base, f"{file}: hosts.{name}")
        for name, h in hosts_raw.items()
    ]
    symbols_raw = raw.get("symbols") or {}
    if not isinstance(symbols_raw, dict):
        raise HostsFileError(f"{file}: symbols must be a mapping")
    symbols: dict[str, SymbolSetup] = {}
    notes: list[str] = []
    for name in dict.fromkeys(h.symbol for h in hosts):
        s = symbols_raw.get(name) or {}
        where = f"{file}: symbols.{name}"
        if not isinstance(s, dict):
            raise HostsFileError(f"{where}: must be a mapping")
        for key in MOVED_KEYS:
            if key in s:
                raise HostsFileError(
                    f"{where}.{key}: data files and dates are per period now: put it under "
                    f"symbols.{name}.in_sample (and .control), e.g. in_sample: {{{key}: ...}}"
                )
        _check_unknown(s, SYMBOL_KEYS, where)
        groups = _local_path(s.get("groups_file"), base, f"{where}.groups_file")
        if need_groups and groups is None:
            raise HostsFileError(
                f"{where}.groups_file: missing (the groups file the hosts' ranges slice)"
            )
        n = (
            _count_groups(groups, name, f"{where}.groups_file", hosts)
            if groups is not None and (need_groups or groups.exists())
            else None
        )
        symbols[name] = SymbolSetup(
            name=name,
            groups_file=groups,
            allow_uncovered=_bool(s.get("allow_uncovered", False), f"{where}.allow_uncovered"),
            n_groups=n,
            periods={p: _period(s.get(p), base, f"{where}.{p}") for p in PERIODS},
            allow_sample=_bool(s.get("allow_sample", False), f"{where}.allow_sample"),
            **_run_settings(s, base, where),
        )
        _check_ranges(file, hosts, symbols[name])
    for name in symbols_raw:
        if name not in symbols:
            notes.append(f"{file}: symbols.{name}: no host runs it")
    cluster = (
        _cluster(raw["cluster"], hosts, base, f"{file}: cluster") if "cluster" in raw else None
    )
    return Farm(path=file, hosts=hosts, symbols=symbols, notes=notes, cluster=cluster)
