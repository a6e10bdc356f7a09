"""The fault injector: each of these several times, in a shuffled order, within a bounded time:

- `kill9`: SIGKILL a replica of each service while it holds messages in process, then restart it;
- `broker`: stop the RabbitMQ node and start it again (the services are not restarted: they must reconnect);
- `database`: stop FerretDB for a few seconds and start it again;
- `smtp`: the SMTP server refuses for a while (port closed, or every message answered 451), then accepts;
- `sigterm`: SIGTERM a replica during a burst (it must drain and exit 0), then restart it.

(The redelivery of exact copies, and of an older revision after a newer one, is the load's: `Load.redeliver`.)

Per fault: `outage`, from the kill or SIGTERM until the restarted replica is ready (for the broker and the
database: from stopping them until they answer again; SMTP: how long it refused); `ready`, from then until
every replica answers /health/ready; `progress`, until the pipeline moved again: after a kill or SIGTERM,
the next event of that service (the other replica goes on), after the broker or database came back, the next
event of any kind, after an SMTP refusal, the next email received.
"""

import asyncio
import contextlib
import random
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .cluster import Cluster, Replica
from .forms import SERVICES, Form, now
from .infra import wait_for
from .load import Load
from .watcher import Seen, Watcher

# The events each service publishes: after a fault of one replica, the next one shows the service moving again.
PRODUCES = {
    "submission": ("intake.", "unit.registered", "region.profile.updated", "innovation.submitted"),
    "scoring": ("innovation.scored", "region.index.updated", "unit.compliance.updated"),
    "notification": ("notification.",),
    "portal": (),  # publishes no event: its read model, checked at the end, shows it kept up
}


@dataclass
class Fault:
    kind: str
    target: str
    started_at: float = 0.0  # seconds since the run started
    outage_seconds: float = 0.0
    ready_seconds: float | None = None  # from undoing the fault until every replica is ready
    progress_seconds: float | None = None  # from undoing the fault until the pipeline moved again
    detail: dict[str, Any] = field(default_factory=dict)
    ok: bool = True


class Injector:
    def __init__(self, cluster: Cluster, watcher: Watcher, load: Load, form: Form, rng: random.Random) -> None:
        self.cluster = cluster
        self.watcher = watcher
        self.load = load
        self.form = form
        self.rng = rng
        self.done: list[Fault] = []
        self.skipped: list[str] = []
        self.t0 = load.t0

    def plan(self) -> list[tuple[str, str]]:
        faults: list[tuple[str, str]] = []
        for round_number in range(self.form.faults_per_kind):
            faults += [("kill9", service) for service in SERVICES]
            faults += [("sigterm", service) for service in SERVICES]
            faults += [("broker", "rabbitmq"), ("database", "ferretdb")]
            faults += [("smtp", "closed port" if round_number % 2 == 0 else "451 to every message")]
        self.rng.shuffle(faults)
        return faults

    async def run(self) -> None:
        deadline = self.t0 + self.form.fault_seconds
        for kind, target in self.plan():
            if now() > deadline:
                self.skipped.append(f"{kind} {target}")
                continue
            fault = Fault(kind, target, started_at=round(now() - self.t0, 1))
            action = {
                "kill9": self._kill9,
                "sigterm": self._sigterm,
                "broker": self._broker,
                "database": self._database,
                "smtp": self._smtp,
            }[kind]
            try:
                await action(fault)
            except Exception as exc:
                fault.ok = False
                fault.detail["error"] = f"{type(exc).__name__}: {exc}"
                await self._restore_replicas(fault)
            self.done.append(fault)
            print(f"  fault {kind:8} {target:22} {_fault_line(fault)}", file=sys.stderr)
            await asyncio.sleep(self.form.gap_seconds)

    async def _busy_replica(self, service: str, fault: Fault) -> tuple[Replica, float]:
        """A replica of `service` with deliveries in process, bringing a burst of work when it is idle."""
        replicas = self.cluster.of(service)
        self.rng.shuffle(replicas)
        burst_sent = False
        deadline = now() + 60
        while now() < deadline:
            for replica in replicas:
                in_process = await replica.in_process()
                if in_process > 0:
                    return replica, in_process
            if not burst_sent:
                fault.detail["burst"] = self.form.burst
                asyncio.create_task(self.load.burst(self.form.burst))  # noqa: RUF006 - awaited by load.finish()
                burst_sent = True
            await asyncio.sleep(0.05)
        return replicas[0], 0.0

    async def _ready(self, fault: Fault, within: float = 180) -> None:
        """Every replica ready again (the same processes: only a killed or stopped one is restarted)."""
        try:
            fault.ready_seconds = round(await wait_for("all replicas ready", self.cluster.all_ready, within), 2)
        except TimeoutError:
            fault.ok = False
            fault.detail["not_ready"] = [replica.name for replica in self.cluster.replicas if not await replica.ready()]
            await self._restore_replicas(fault)

    async def _progress(self, fault: Fault, since: float, start: int, produced_by: tuple[str, ...] = ("",)) -> None:
        """Seconds from `since` until the first event (of the given kinds) after event number `start`."""
        if not produced_by:
            return

        def first() -> Seen | None:
            return next((e for e in self.watcher.events[start:] if e.routing_key.startswith(produced_by)), None)

        if await self.watcher.until(lambda: first() is not None, within=60):
            event = first()
            assert event is not None
            fault.progress_seconds = round(max(0.0, event.at - since), 2)

    async def _restore_replicas(self, fault: Fault) -> None:
        """A replica that did not come back on its own: restarted, so the run can go on (the fault failed)."""
        restarted = []
        for replica in self.cluster.replicas:
            if not await replica.ready():
                if replica.running:
                    replica.process.kill()
                with contextlib.suppress(Exception):
                    await replica.start()
                restarted.append(replica.name)
        if restarted:
            fault.detail["restarted_by_harness"] = restarted

    async def _kill9(self, fault: Fault) -> None:
        """SIGKILL mid-processing; the other replica goes on (progress: its service's next event), the killed
        one is restarted (outage: until it is ready)."""
        replica, in_process = await self._busy_replica(fault.target, fault)
        fault.target = replica.name
        fault.detail["in_process_at_kill"] = in_process
        start, killed_at = len(self.watcher.events), now()
        replica.process.kill()
        self.load.replica_faults.append((replica.service, "kill9", killed_at, killed_at))
        await replica.start()
        fault.outage_seconds = round(now() - killed_at, 2)
        await self._ready(fault)
        await self._progress(fault, killed_at, start, PRODUCES[replica.service])

    async def _sigterm(self, fault: Fault) -> None:
        """SIGTERM during a burst: the replica drains and exits 0, then is restarted."""
        replica, in_process = await self._busy_replica(fault.target, fault)
        fault.target = replica.name
        fault.detail["in_process_at_sigterm"] = in_process
        start, stopped_at = len(self.watcher.events), now()
        try:
            code = await replica.process.stop_async(within_seconds=45)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            code = None
        fault.detail["exit_code"] = code
        fault.detail["drain_seconds"] = round(now() - stopped_at, 2)
        self.load.replica_faults.append((replica.service, "sigterm", stopped_at, now()))
        fault.ok = code == 0
        await replica.start()
        fault.outage_seconds = round(now() - stopped_at, 2)
        await self._ready(fault)
        await self._progress(fault, stopped_at, start, PRODUCES[replica.service])

    async def _broker(self, fault: Fault) -> None:
        """Stop the node and start it again; the services must reconnect without being restarted."""
        pids = {replica.name: replica.process.process.pid for replica in self.cluster.replicas}
        await self._server_down(fault, self.cluster.rabbit.stop, self.cluster.rabbit.start, seconds=3)
        fault.detail["same_processes"] = pids == {r.name: r.process.process.pid for r in self.cluster.replicas}
        fault.ok = fault.ok and fault.detail["same_processes"]

    async def _database(self, fault: Fault) -> None:
        await self._server_down(fault, self.cluster.ferret.stop, self.cluster.ferret.start, seconds=4)

    async def _server_down(
        self, fault: Fault, stop: Callable[[], Awaitable[None]], start: Callable[[], Awaitable[None]], seconds: float
    ) -> None:
        await self.load.burst(self.form.burst)  # work in flight when the server goes
        stopped_at = now()
        await stop()
        await asyncio.sleep(seconds)
        await start()
        events, started_at = len(self.watcher.events), now()
        fault.outage_seconds = round(started_at - stopped_at, 2)
        await self._ready(fault)
        await self._progress(fault, started_at, events)

    async def _smtp(self, fault: Fault) -> None:
        mail = self.cluster.mail
        await self.load.burst(self.form.burst)  # emails to refuse
        refused_before = mail.refused
        stopped_at = now()
        if fault.target == "closed port":
            mail.stop()
        else:
            mail.refusing = True
        await asyncio.sleep(8)
        if fault.target == "closed port":
            mail.start()
        else:
            mail.refusing = False
        accepting_at = now()
        fault.outage_seconds = round(accepting_at - stopped_at, 2)
        fault.detail["answered_451"] = mail.refused - refused_before
        received = len(mail.received)
        fault.ready_seconds = 0.0

        async def delivered() -> bool:
            return len(mail.received) > received

        with contextlib.suppress(TimeoutError):
            await wait_for("an email after the refusal", delivered, within=90, every=0.1)
            fault.progress_seconds = round(mail.arrived[received] - accepting_at, 2)


def _fault_line(fault: Fault) -> str:
    ready = "-" if fault.ready_seconds is None else f"{fault.ready_seconds:.1f}s"
    progress = "-" if fault.progress_seconds is None else f"{fault.progress_seconds:.1f}s"
    outcome = "ok" if fault.ok else "FAILED"
    return f"outage {fault.outage_seconds:.1f}s ready {ready} progress {progress} {outcome} {fault.detail}"
