"""What one innovation costs, for `make bench` (`scripts/bench.py` runs it with its deployment, also alone with
`--cost-only`): database commands and CPU milliseconds per innovation, per service and in total, FerretDB and
RabbitMQ included.

- Commands: each service process counts the commands of its database clients (`inovda_mongodb_commands_total`
  on its `/metrics`, a PyMongo CommandListener); read before and after the reports, driver handshakes and
  readiness pings left out.
- CPU: user + system time of each process from `/proc/<pid>/stat`, before and after: the services' processes,
  and the processes listening on the broker's and the database's ports (found through `/proc/net/tcp`). Those
  two are whole servers: run on ones nobody else uses meanwhile (`make infra`'s are shared by every test).

The window is from the first report published to the last score email sent and every service quiet again;
the office's index emails (per region, after their quiet period) mostly fall outside it.

    .venv/bin/python scripts/bench.py --cost-only [--cost-reports 200] [--flow-regions 10] [--cost-runs 3]
"""

from __future__ import annotations

import os
import re
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

NOT_SERVICE_WORK = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"})
_COMMAND_SAMPLE = re.compile(r'^inovda_mongodb_commands_total\{command="([^"]+)"\} ([0-9.e+]+)$', re.MULTILINE)
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# The figures on 02015ef (issue 15) and its targets, per innovation.
BEFORE = {"notification": 48.0, "scoring": 14.0, "submission": 6.0}
TARGET_COMMANDS, TARGET_CPU_MS = 20.0, 80.0
RSS_TARGET_MB = 150.0  # every process, issue 6


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # utime, stime (fields 14 and 15)


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (the peak resident set) of a process, in MB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def listening_pid(url: str, default_port: int) -> int | None:
    """The process listening on the URL's port on this machine, if it is one this user may see."""
    port = urlsplit(url).port or default_port
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(fields[9])
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


_MESSAGE_SAMPLE = re.compile(r"^faststream_(received|published)_messages_total\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)


@dataclass(frozen=True)
class Counts:
    """What a service process has done so far, from its metrics."""

    commands: dict[str, float]  # database commands, by name (driver handshakes and pings left out)
    consumed: float  # deliveries taken by its subscriber
    published: float  # messages it published

    @property
    def total_commands(self) -> float:
        return sum(self.commands.values())

    def __add__(self, other: Counts) -> Counts:
        names = {*self.commands, *other.commands}
        return Counts(
            {name: self.commands.get(name, 0.0) + other.commands.get(name, 0.0) for name in names},
            self.consumed + other.consumed,
            self.published + other.published,
        )

    def since(self, earlier: Counts, per: int) -> Counts:
        """What was done after `earlier`, per `per` (innovations, messages)."""
        return Counts(
            {name: (count - earlier.commands.get(name, 0.0)) / per for name, count in self.commands.items()},
            (self.consumed - earlier.consumed) / per,
            (self.published - earlier.published) / per,
        )


NO_COUNTS = Counts({}, 0.0, 0.0)


def counts_of(http_port: int) -> Counts:
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    commands: dict[str, float] = {}
    for command, count in _COMMAND_SAMPLE.findall(text):
        if command not in NOT_SERVICE_WORK:
            commands[command] = commands.get(command, 0.0) + float(count)
    messages = {"received": 0.0, "published": 0.0}
    for kind, count in _MESSAGE_SAMPLE.findall(text):
        messages[kind] += float(count)
    return Counts(commands, messages["received"], messages["published"])


@dataclass(frozen=True)
class Process:
    name: str  # the service ("submission", ...), or "FerretDB", "RabbitMQ"
    pid: int
    http_port: int | None  # a service's metrics


@dataclass
class Snapshot:
    cpu: dict[str, float]
    counts: dict[str, Counts]


def snapshot(processes: Sequence[Process]) -> Snapshot:
    cpu: dict[str, float] = {}
    counts: dict[str, Counts] = {}
    for process in processes:
        cpu[process.name] = cpu.get(process.name, 0.0) + cpu_seconds(process.pid)
        if process.http_port is not None:
            counts[process.name] = counts.get(process.name, NO_COUNTS) + counts_of(process.http_port)
    return Snapshot(cpu, counts)


@dataclass(frozen=True)
class Cost:
    innovations: int
    counts: dict[str, Counts]  # per innovation, per service
    cpu_ms: dict[str, float]  # per innovation, per process kind
    seconds: float

    @property
    def commands(self) -> dict[str, float]:
        """Database commands per innovation, per service."""
        return {service: counts.total_commands for service, counts in self.counts.items()}

    @property
    def total_commands(self) -> float:
        return sum(self.commands.values())

    @property
    def total_cpu_ms(self) -> float:
        return sum(self.cpu_ms.values())


def cost(before: Snapshot, after: Snapshot, innovations: int, seconds: float) -> Cost:
    return Cost(
        innovations,
        {name: counts.since(before.counts.get(name, NO_COUNTS), innovations) for name, counts in after.counts.items()},
        {name: (after.cpu[name] - before.cpu.get(name, 0.0)) * 1000 / innovations for name in after.cpu},
        seconds,
    )


def infrastructure(amqp_url: str, mongodb_url: str) -> list[Process]:
    found = []
    for name, url, port in (("RabbitMQ", amqp_url, 5672), ("FerretDB", mongodb_url, 27017)):
        pid = listening_pid(url, port)
        if pid is not None:
            found.append(Process(name, pid, None))
    return found


def median(values: Sequence[float]) -> float:
    """The middle value (of an even count, the upper of the two middle ones)."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def table(costs: Sequence[Cost]) -> list[tuple[str, str, str, str]]:
    """Rows for the benchmark's table: median over the runs."""
    if not costs:
        return []

    def spread(values: Sequence[float], digits: int = 1) -> str:
        text = f"{median(values):.{digits}f}"
        return text if len(values) == 1 else f"{text} ({min(values):.{digits}f}..{max(values):.{digits}f})"

    rows: list[tuple[str, str, str, str]] = []
    size = f"{costs[0].innovations} reports"
    for service in ("submission", "scoring", "notification"):
        values = [run.commands.get(service, float("nan")) for run in costs]
        rows.append(
            (f"db commands per innovation, {service} ({size})", spread(values), f"today {BEFORE[service]:.0f}", "")
        )
    totals = [run.total_commands for run in costs]
    met = median(totals) <= TARGET_COMMANDS
    rows.append(
        ("db commands per innovation, total", spread(totals), f"<= {TARGET_COMMANDS:.0f} (today ~69)", verdict(met))
    )
    names = sorted({name for run in costs for name in run.cpu_ms})
    for name in names:
        rows.append((f"CPU ms per innovation, {name}", spread([run.cpu_ms.get(name, 0.0) for run in costs]), "", ""))
    cpu = [run.total_cpu_ms for run in costs]
    rows.append(
        (
            "CPU ms per innovation, total",
            spread(cpu),
            f"<= {TARGET_CPU_MS:.0f} (today ~230)",
            verdict(median(cpu) <= TARGET_CPU_MS),
        )
    )
    return rows


def verdict(met: bool | None) -> str:
    """A row's verdict; None: no target applies to this figure (or it was not measured)."""
    return "n/a" if met is None else ("met" if met else "**missed**")


def rss_row(command: str, peak_mb: float | None, when: str = "") -> tuple[str, str, str, str]:
    """The peak RSS (VmHWM) of a process against the memory target of every Inovda process."""
    return (
        f"peak RSS (VmHWM) {command}{when}, MB",
        f"{peak_mb:.0f}" if peak_mb else "not measured",
        f"< {RSS_TARGET_MB:.0f} MB per process",
        verdict(peak_mb < RSS_TARGET_MB if peak_mb else None),
    )


def as_json(costs: Sequence[Cost]) -> list[Mapping[str, object]]:
    return [
        {
            "innovations": run.innovations,
            "seconds": run.seconds,
            "commands": run.commands,
            "cpu_ms": run.cpu_ms,
            "per_service": {service: asdict(counts) for service, counts in run.counts.items()},
        }
        for run in costs
    ]
