"""The fault-injection suite (issue 7): nothing lost, nothing doubled, whatever crashes.

It runs its own infrastructure, so that it may kill it freely (never the servers on 5672 and 27017): a
second RabbitMQ node (its own name, ports, data and cookie under var/chaos/), the access model of
deploy/rabbitmq/access.json imported into it (each service and outside system with its own user), a private
FerretDB, and an SMTP server. Two replicas of each service run as real processes.

A load generator publishes a known set of intake messages as the outside systems would (with `user_id`):
registrations first, then waves of innovation reports and their revisions, malformed messages, exact
duplicates, an older revision re-sent after a newer one, unchanged re-sends, and innovations for a year
without a rubric (the one thing expected in a dead-letter queue). Meanwhile a fault injector does each of
these several times, within a bounded time:

- `kill9`: SIGKILL a replica of each service while it holds messages in process, then restart it;
- `broker`: stop the RabbitMQ node and start it again (the services are not restarted: they must reconnect);
- `database`: stop FerretDB for a few seconds and start it again;
- `smtp`: the SMTP server refuses for a while (port closed, or every message answered 451), then accepts;
- `sigterm`: SIGTERM a replica during a burst (it must drain and exit 0), then restart it;
- `redeliver`: exact copies of events already handled, and an older revision delivered after a newer one.

Then it compares what was sent with what came out (answers, stored revisions, `innovation.scored`, the
region index recomputed from the messages themselves, emails by dedupe key, queues, dead letters, health),
prints a markdown table and writes everything as JSON under var/chaos/. Exit status 0 when every check holds.

    .venv/bin/python scripts/chaos.py            # the full form (`make chaos`)
    .venv/bin/python scripts/chaos.py --short    # the short form (tests/chaos)

Per fault: `outage`, from the kill or SIGTERM until the restarted replica is ready (for the broker and the
database: from stopping them until they answer again; SMTP: how long it refused); `ready`, from then until
every replica answers /health/ready; `progress`, until the pipeline moved again: after a kill or SIGTERM,
the next event of that service (the other replica goes on), after the broker or database came back, the next
event of any kind, after an SMTP refusal, the next email received.

A doubled email is reported with when its copies arrived and how soon after the first copy a notification
replica was gone (`evidence` in the JSON), the gap the README names: accepted by the SMTP server, and the
process gone before it recorded that.
"""

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support.samples: the realistic intake bodies the tests use

import aio_pika  # noqa: E402
from aio_pika.abc import (  # noqa: E402
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402

from inovda_cli.broker_access import render  # noqa: E402
from inovda_cli.deadletters import list_dead_letters, request_email_resends  # noqa: E402
from inovda_cli.mailsink import MailSink  # noqa: E402
from inovda_cli.processes import ServiceProcess, free_port  # noqa: E402
from inovda_cli.scoring import scoring_library  # noqa: E402
from inovda_notification.adapters.store import NotificationStore  # noqa: E402
from inovda_notification.domain import predicate_changed  # noqa: E402
from inovda_notification.views import NotificationViews  # noqa: E402
from inovda_scoring.adapters.readmodel import ScoringStore  # noqa: E402
from inovda_scoring.domain import (  # noqa: E402
    InnovationScore,
    compute_index,
    full_totals,
    load_rubric,
    score_innovation,
)
from inovda_shared.contracts.events import RegionIndexUpdated  # noqa: E402
from inovda_shared.contracts.intake import InnovationReport, RegionProfile  # noqa: E402
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, SPD_INDICATOR_IDS  # noqa: E402
from inovda_shared.mongo import connect  # noqa: E402
from inovda_shared.topology import EVENTS_EXCHANGE, INTAKE_EXCHANGE, SERVICE_QUEUES  # noqa: E402
from inovda_submission.domain.records import entity_id  # noqa: E402
from tests.support import samples  # noqa: E402

RABBITMQ_BIN = Path(os.environ.get("RABBITMQ_BIN_DIR", "/usr/lib/rabbitmq/bin"))
FERRETDB_BIN = ROOT / "var/bin/ferretdb"
ACCESS = ROOT / "deploy/rabbitmq/access.json"
OUT = ROOT / "var/chaos"

YEAR = 2025  # not the current year: no reminders or digests, so every expected email follows from the data
NO_RUBRIC_YEAR = 2027  # accepted by submission, dead-lettered by scoring ("add the file, restart, replay")
SERVICES = ("submission", "scoring", "notification")
DATABASES = {service: f"chaos_{service}" for service in SERVICES}
WATCH_QUEUE = "chaos.watch"
INJECTED = "x-chaos-injected"
DOMAIN = "chaos.example"
# The events each service publishes: after a fault of one replica, the next one shows the service moving again.
PRODUCES = {
    "submission": ("intake.", "unit.registered", "region.profile.updated", "innovation.submitted"),
    "scoring": ("innovation.scored", "region.index.updated", "unit.compliance.updated"),
    "notification": ("notification.",),
}
OTHER_AFFAIRS = ("pertanian", "perhubungan", "pariwisata", "komunikasi_informatika", "kepegawaian")


@dataclass(frozen=True)
class Form:
    name: str
    regions: int
    units_per_region: int
    innovations_per_region: int
    no_rubric_innovations: int
    faults_per_kind: int  # kill9 and sigterm: this many per service
    publish_rate: float  # intake messages per second
    burst: int  # innovation reports a kill or SIGTERM brings along when its target is idle
    gap_seconds: float  # between faults
    fault_seconds: float  # the bound on the whole fault schedule
    settle_seconds: float  # at most, after the last fault, for everything to come out


SHORT = Form("short", 2, 8, 55, 2, 2, 12.0, 12, 3.0, 900.0, 420.0)
FULL = Form("full", 4, 24, 380, 6, 3, 12.0, 30, 5.0, 2400.0, 1500.0)


@dataclass(frozen=True)
class Options:
    form: Form
    seed: int
    keep: bool = False
    json_path: Path | None = None
    env: dict[str, dict[str, str]] = field(default_factory=dict)


def now() -> float:
    return time.monotonic()


# --- infrastructure: a private broker, database and SMTP server --------------------------------------------


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def wait_for(what: str, check: Callable[[], Awaitable[bool]], within: float, every: float = 0.25) -> float:
    """Seconds until `check` holds; raises TimeoutError naming `what`."""
    started = now()
    while not await check():
        if now() - started > within:
            raise TimeoutError(f"{what}: not within {within:.0f}s")
        await asyncio.sleep(every)
    return now() - started


class RabbitNode:
    """A RabbitMQ node of its own: name, ports, data, logs, cookie and (no) plugins, all under `base`."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"inovda-chaos-{os.getpid()}@localhost"
        self._process: subprocess.Popen[bytes] | None = None
        for folder in ("home", "mnesia", "log"):
            (base / folder).mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.base / "home"),  # the Erlang cookie lives here, not in the main node's home
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),  # none: not /etc/rabbitmq's
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def url(self, user: str = "guest", password: str = "guest") -> str:
        return f"amqp://{user}:{password}@127.0.0.1:{self.port}/"

    async def ctl(self, *args: str, within: float = 90) -> str:
        process = await asyncio.create_subprocess_exec(
            str(RABBITMQ_BIN / "rabbitmqctl"),
            "-n",
            self.node,
            "-q",
            *args,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), within)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: exit {process.returncode}: {out.decode()[-500:]}")
        return out.decode()

    def _spawn(self) -> subprocess.Popen[bytes]:
        with (self.base / "server.log").open("ab") as log:
            return subprocess.Popen(
                [str(RABBITMQ_BIN / "rabbitmq-server")],
                env=self.env(),
                stdout=log,
                stderr=log,
                cwd=self.base,
                start_new_session=True,  # its own process group: beam.smp is a child of the start script
            )

    async def start(self) -> None:
        self._process = self._spawn()

        async def up() -> bool:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited with {self._process.returncode}; see {self.base}")
            if not port_open(self.port):
                return False
            try:
                await self.ctl("await_startup", within=30)
            except (RuntimeError, TimeoutError):
                return False
            return True

        await wait_for("RabbitMQ node", up, within=120, every=0.5)

    async def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(RuntimeError, TimeoutError):
            await self.ctl("stop", within=60)
        try:
            await asyncio.to_thread(self._process.wait, 60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            await asyncio.to_thread(self._process.wait, 30)

    async def import_definitions(self, definitions: dict[str, Any]) -> None:
        path = self.base / "definitions.json"
        path.write_text(json.dumps(definitions))
        path.chmod(0o600)
        await self.ctl("import_definitions", str(path))
        path.unlink()

    async def queue_depths(self) -> dict[str, int]:
        """Messages ready plus unacknowledged, per queue."""
        out = await self.ctl("list_queues", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged")
        depths = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit():
                depths[parts[0]] = int(parts[1]) + int(parts[2])
        return depths


class FerretServer:
    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.data = base / "ferretdb"
        self.log = base / "ferretdb.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def _spawn(self) -> subprocess.Popen[bytes]:
        if not FERRETDB_BIN.exists():
            raise RuntimeError(f"{FERRETDB_BIN} is missing: run `make setup`")
        with self.log.open("ab") as log:
            command = [str(FERRETDB_BIN), "-listen", f"127.0.0.1:{self.port}", "-data", str(self.data)]
            return subprocess.Popen(command, stdout=log, stderr=log)

    async def start(self) -> None:
        self._process = self._spawn()

        async def up() -> bool:
            return port_open(self.port)

        await wait_for("FerretDB", up, within=60)

    async def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            await asyncio.to_thread(self._process.wait, 30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            await asyncio.to_thread(self._process.wait, 30)


class TimedMailSink(MailSink):
    """The SMTP sink, also noting when each email arrived (for recovery times and the duplicate analysis)."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self.arrived: list[float] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.arrived.append(now())  # the controller's one thread appends in the order of `received`
        return answer


class Replica:
    def __init__(self, service: str, letter: str, env: dict[str, str], log_dir: Path) -> None:
        self.service = service
        self.name = f"{service}-{letter}"
        self.process = ServiceProcess(f"inovda-{service}", {**env, "INSTANCE_NAME": f"chaos-{self.name}"}, log_dir)

    async def start(self) -> None:
        self.process.start()
        await self.process.wait_until_ready(within_seconds=90)

    @property
    def running(self) -> bool:
        return self.process.running

    async def ready(self) -> bool:
        return self.running and await asyncio.to_thread(self.process.health) == 200

    async def in_process(self) -> float:
        """Deliveries this replica is handling right now (FastStream's Prometheus gauge)."""

        def read() -> float:
            url = f"http://127.0.0.1:{self.process.http_port}/metrics"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    text = response.read().decode()
            except OSError:
                return 0.0
            return sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("faststream_received_messages_in_process")
            )

        return await asyncio.to_thread(read)


# --- the messages: what is sent, and what each must cause ---------------------------------------------------


@dataclass
class Intake:
    message_id: str
    routing_key: str
    body: bytes
    user: str  # the outside system's broker user that publishes it
    expect: str  # "accepted" or "rejected"
    what: str
    external_id: str | None = None
    revision: int | None = None  # the revision its accepted answer must name
    unchanged: bool = False
    emails: tuple[str, ...] = ()  # dedupe keys of the emails its answer must cause
    published: int = 0  # times published, exact duplicates included


@dataclass
class Innovation:
    external_id: str
    region_code: str
    unit_code: str
    year: int
    revisions: list[dict[str, Any]] = field(default_factory=list)  # accepted bodies; revision n at n - 1
    message_ids: list[str] = field(default_factory=list)


class Dataset:
    """Builds the load, wave by wave, and keeps what every message must cause (the ledger)."""

    def __init__(self, form: Form, rng: random.Random, users: dict[str, str]) -> None:
        self.form = form
        self.rng = rng
        self.user_of = users  # source -> broker user
        self.intakes: dict[str, Intake] = {}
        self.innovations: dict[str, Innovation] = {}
        self.profiles: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
        self.regions = [f"64.{number:02d}" for number in range(2, 2 + form.regions)]
        self.units = {
            region: [f"R{index}-U{number:02d}" for number in range(1, form.units_per_region + 1)]
            for index, region in enumerate(self.regions)
        }
        self._serial = 0

    def _id(self, what: str) -> str:
        self._serial += 1
        return f"chaos-{self._serial:06d}-{what}"

    def _intake(self, routing_key: str, body: dict[str, Any] | bytes, source: str, expect: str, what: str) -> Intake:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        intake = Intake(
            self._id(what.split(":")[0].replace(" ", "-")), routing_key, raw, self.user_of[source], expect, what
        )
        self.intakes[intake.message_id] = intake
        return intake

    # registrations

    def registrations(self) -> list[Intake]:
        batch = []
        for region in self.regions:
            batch.append(self._profile(region, YEAR))
            for unit in self.units[region]:
                body = samples.unit(
                    unit,
                    region_code=region,
                    name=f"Unit {unit} wilayah {region}",
                    emails=[f"{unit.lower()}@{DOMAIN}"],
                    mentor_emails=[f"pendamping.{unit.lower()}@{DOMAIN}"],
                )
                intake = self._intake("unit.upsert.v1", body, "simpeg", "accepted", "unit")
                intake.revision = 1
                batch.append(intake)
        batch.append(self._profile(self.regions[0], NO_RUBRIC_YEAR))
        self.rng.shuffle(batch)
        return batch

    def _profile(self, region: str, year: int) -> Intake:
        history = self.profiles[(region, year)]
        if history:
            spd = dict(history[-1]["spd"])
            raised = self.rng.choice([key for key, level in spd.items() if level < 3] or list(spd))
            spd[raised] = min(3, spd[raised] + 1)
        else:
            spd = {key: self.rng.randint(1, 3) for key in SPD_INDICATOR_IDS if self.rng.random() < 0.8}
        body = samples.profile(year, region_code=region, admin_emails=[f"inovasi.{region}@{DOMAIN}"], spd=spd)
        history.append(body)
        intake = self._intake("region.profile.v1", body, "bappeda", "accepted", f"profile r{len(history)}")
        intake.revision = len(history)
        return intake

    # innovation reports

    def _report_body(self, innovation: Innovation) -> dict[str, Any]:
        rng = self.rng
        revision = len(innovation.revisions) + 1
        if innovation.revisions:  # a revision: better evidence, another level, a new title
            body: dict[str, Any] = json.loads(json.dumps(innovation.revisions[-1]))
            indicator = rng.choice(sorted(body["indicators"]))
            claim = body["indicators"][indicator]
            claim["level"] = 1 + claim["level"] % 3
            claim["evidence"] = samples.evidence(f"Data dukung {indicator} revisi {revision}")
            body["title"] = f"Inovasi {innovation.external_id} revisi {revision}"
            return body
        indicators: dict[str, dict[str, Any]] = {
            indicator: {"level": rng.randint(1, 3), "evidence": samples.evidence(f"Data dukung {indicator}")}
            for indicator in ("16", "17", "32", "33", "35")
        }
        indicators["33"]["basis"] = rng.choice("abcdef")
        for indicator in rng.sample([str(n) for n in range(18, 32)] + ["34"], k=rng.randint(2, 9)):
            evidence = samples.evidence(f"Data dukung {indicator}") if rng.random() < 0.85 else []
            indicators[indicator] = {"level": rng.randint(1, 3), "evidence": evidence}
        if rng.random() < 0.08:
            indicators["35"]["evidence"] = []  # a mandatory indicator without evidence: scored, not eligible
        overrides: dict[str, Any] = {
            "region_code": innovation.region_code,
            "year": innovation.year,
            "title": f"Inovasi {innovation.external_id}",
            "urusan": rng.sample(BASIC_SERVICE_AFFAIRS + OTHER_AFFAIRS, k=rng.randint(1, 2)),
            "applied_on": (dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(730))).isoformat(),
            "indicators": indicators,
        }
        if rng.random() < 0.1:
            overrides["applied_on"] = "2022-06-01"  # outside the window
        if rng.random() < 0.08:
            overrides["stage"] = "uji_coba"
        if rng.random() < 0.08:
            overrides["design"] = "Rancang bangun yang masih terlalu singkat."
        return samples.innovation(innovation.external_id, innovation.unit_code, **overrides)

    def new_innovations(self, count: int, year: int = YEAR) -> list[Intake]:
        batch = []
        for _ in range(count):
            region = self.rng.choice(self.regions)
            innovation = Innovation(
                f"CH-{len(self.innovations) + 1:05d}", region, self.rng.choice(self.units[region]), year
            )
            self.innovations[innovation.external_id] = innovation
            batch.append(self.revise(innovation))
        return batch

    def revise(self, innovation: Innovation) -> Intake:
        body = self._report_body(innovation)
        innovation.revisions.append(body)
        revision = len(innovation.revisions)
        intake = self._intake("innovation.report.v1", body, "e-inovasi", "accepted", f"report r{revision}")
        intake.external_id, intake.revision = innovation.external_id, revision
        intake.emails = (f"receipt:e-inovasi/{innovation.external_id}:r{revision}",)
        innovation.message_ids.append(intake.message_id)
        return intake

    def unchanged(self, innovation: Innovation) -> Intake:
        """The latest revision again under a new message id: accepted, `unchanged`, no new revision or email."""
        body = innovation.revisions[-1]
        intake = self._intake("innovation.report.v1", body, "e-inovasi", "accepted", "unchanged re-send")
        intake.external_id, intake.revision, intake.unchanged = innovation.external_id, len(innovation.revisions), True
        return intake

    def malformed(self, count: int) -> list[Intake]:
        """Sender bugs, each answered with a rejection; an email to the unit where the message names a known one."""
        batch = []
        for number in range(count):
            region = self.rng.choice(self.regions)
            unit = self.rng.choice(self.units[region])
            valid = samples.innovation(f"BAD-{self._serial}", unit, region_code=region, year=YEAR)
            kind = ("invalid_json", "not_object", "stage", "level", "unknown_unit", "source", "routing_key")[number % 7]
            if kind == "invalid_json":
                intake = self._intake(
                    "innovation.report.v1",
                    b'{"source": "e-inovasi", "title": ',
                    "e-inovasi",
                    "rejected",
                    "malformed: invalid JSON",
                )
            elif kind == "not_object":
                intake = self._intake(
                    "innovation.report.v1", b"[1, 2, 3]", "e-inovasi", "rejected", "malformed: not an object"
                )
            elif kind == "stage":
                intake = self._intake(
                    "innovation.report.v1",
                    {**valid, "stage": "selesai"},
                    "e-inovasi",
                    "rejected",
                    "malformed: unknown stage",
                )
            elif kind == "level":
                valid["indicators"]["16"]["level"] = 4
                intake = self._intake(
                    "innovation.report.v1", valid, "e-inovasi", "rejected", "malformed: level out of range"
                )
            elif kind == "unknown_unit":
                body = {**valid, "unit_code": f"NOPE-{number}"}
                intake = self._intake("innovation.report.v1", body, "e-inovasi", "rejected", "malformed: unknown unit")
            elif kind == "source":  # another system's source: the answer goes to the sender's own source
                intake = self._intake(
                    "innovation.report.v1", valid, "e-inovasi", "rejected", "malformed: source of another system"
                )
                intake.user = self.user_of["simpeg"]
            else:
                intake = self._intake(
                    "innovation.report.v9", valid, "e-inovasi", "rejected", "malformed: unknown routing key"
                )
            names_known_unit = kind in ("stage", "level", "source", "routing_key")
            if names_known_unit:
                source = "simpeg" if kind == "source" else "e-inovasi"
                intake.emails = (f"rejection:{source}/{intake.message_id}",)
            batch.append(intake)
        return batch

    def naming_unknown_units(self, count: int) -> list[Intake]:
        """Rejected for another reason than their unit, which nobody registered: no email can go anywhere."""
        batch = []
        for number in range(count):
            region = self.rng.choice(self.regions)
            unit = f"NEW-{self._serial}"
            if number % 2:
                body = samples.innovation(f"NEW-{self._serial}", unit, region_code=region, year=YEAR, stage="selesai")
                intake = self._intake("innovation.report.v1", body, "e-inovasi", "rejected", "malformed: new unit")
            else:
                body = samples.unit(unit, region_code=region, kind="planet")
                intake = self._intake("unit.upsert.v1", body, "simpeg", "rejected", "malformed: new unit's kind")
            batch.append(intake)
        return batch

    def immutable(self, innovation: Innovation) -> Intake:
        """A revision that moves the innovation to another year: rejected, with an email to its unit."""
        body = {**innovation.revisions[-1], "year": innovation.year - 1}
        intake = self._intake(
            "innovation.report.v1", body, "e-inovasi", "rejected", "malformed: revision moves the year"
        )
        intake.emails = (f"rejection:e-inovasi/{intake.message_id}",)
        return intake

    def bad_unit_update(self) -> Intake:
        """A registered unit's update with an address that is not one: rejected, the unit told by email."""
        region = self.rng.choice(self.regions)
        unit = self.rng.choice(self.units[region])
        body = samples.unit(unit, region_code=region, name=f"Unit {unit}", emails=["bukan alamat email"])
        intake = self._intake("unit.upsert.v1", body, "simpeg", "rejected", "malformed: unit email")
        intake.emails = (f"rejection:simpeg/{intake.message_id}",)
        return intake

    def duplicates(self, of: list[Intake], share: float) -> list[Intake]:
        """Exact copies (same message id and body) of some messages already sent: no new answer, no effect."""
        return [intake for intake in of if self.rng.random() < share]

    # waves: a revision is published only after the previous revision of its innovation was answered

    def wave1(self) -> list[Intake]:
        count = self.form.innovations_per_region * self.form.regions
        batch = self.new_innovations(count) + self.new_innovations(self.form.no_rubric_innovations, NO_RUBRIC_YEAR)
        batch += self.malformed(max(7, count // 12)) + self.naming_unknown_units(4)
        self.rng.shuffle(batch)
        return batch

    def later_wave(self, previous: list[Intake], answered: set[str], revise_share: float, number: int) -> list[Intake]:
        """Revisions of innovations whose latest revision was answered (a burst's may still be in flight)."""
        candidates = [i for i in self.innovations.values() if i.message_ids and i.message_ids[-1] in answered]
        revised = [innovation for innovation in candidates if self.rng.random() < revise_share]
        others = [innovation for innovation in candidates if innovation not in revised]
        batch = [self.revise(innovation) for innovation in revised]
        resent = self.rng.sample(others, k=min(len(others), max(2, len(others) // 25)))
        batch += [self.unchanged(innovation) for innovation in resent]
        batch += [self.immutable(innovation) for innovation in self.rng.sample(others, k=min(len(others), 2))]
        batch += [self.bad_unit_update() for _ in range(2)]
        batch += self.duplicates(previous, 0.06)
        if number == 2:
            batch += [self._profile(region, YEAR) for region in self.regions]
        else:  # an older revision re-sent after a newer one was stored: its own message id again
            older = [self.intakes[i.message_ids[-2]] for i in others if len(i.message_ids) >= 2]
            batch += self.rng.sample(older, k=min(len(older), max(2, len(older) // 10)))
        self.rng.shuffle(batch)
        return batch

    def expected_emails(self) -> Counter[str]:
        return Counter(key for intake in self.intakes.values() for key in intake.emails)


# --- publishing as the outside systems do, through broker restarts -------------------------------------------


class Publisher:
    """One broker user's confirmed publishing, reconnecting (and publishing again) through broker restarts."""

    def __init__(self, url: str, exchange: str, user_id: str | None) -> None:
        self._url = url
        self._exchange_name = exchange
        self._user_id = user_id
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()
        self.retries = 0

    async def _ensure(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is None:
                self._connection = await aio_pika.connect(self._url, timeout=10)
                channel = await self._connection.channel(publisher_confirms=True)
                self._exchange = await channel.get_exchange(self._exchange_name, ensure=False)
            return self._exchange

    async def _drop(self) -> None:
        async with self._lock:
            connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)

    async def publish(
        self,
        body: bytes,
        routing_key: str,
        message_id: str,
        headers: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        within: float = 300,
    ) -> None:
        deadline = now() + within
        while True:
            try:
                exchange = await self._ensure()
                message = aio_pika.Message(
                    body,
                    content_type="application/json",
                    message_id=message_id,
                    correlation_id=correlation_id,
                    user_id=self._user_id,
                    headers=headers,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                )
                await exchange.publish(message, routing_key=routing_key, timeout=15)
                return
            except Exception:  # the broker is away or refused the confirm: publish again (same message id)
                if now() > deadline:
                    raise
                self.retries += 1
                await self._drop()
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        await self._drop()


# --- what comes out: every event on inovda.events, and every email ------------------------------------------


@dataclass(frozen=True)
class Seen:
    routing_key: str
    message_id: str
    correlation_id: str | None
    body: dict[str, Any]
    at: float
    injected: bool


class Watcher:
    """A durable quorum queue bound to `inovda.events` with `#`, consumed through broker restarts."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.events: list[Seen] = []  # first copy of each event message id, in arrival order
        self.copies: Counter[str] = Counter()  # deliveries per message id (at-least-once: repeats happen)
        # Copies published per message id (an outbox relay's repeat, this harness's injected copies), not
        # counting the watch queue's own redeliveries after a broker restart.
        self.publications: Counter[str] = Counter()
        self.answered: set[str] = set()  # intake message ids with an answer
        self.changed = asyncio.Event()
        self.last_at = now()
        self._connection: AbstractRobustConnection | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=200)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE.name)
        queue = await channel.declare_queue(WATCH_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        await queue.bind(exchange, routing_key="#")
        await queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        key = message.message_id or f"no-id:{hash(message.body)}"
        injected = bool((message.headers or {}).get(INJECTED))
        self.copies[key if not injected else f"injected:{key}"] += 1
        if not message.redelivered:
            self.publications[key] += 1
        if not injected and self.copies[key] == 1:
            try:
                body = json.loads(message.body)
            except ValueError:
                body = {"unreadable": message.body[:200].decode(errors="replace")}
            self.events.append(Seen(message.routing_key or "", key, message.correlation_id, body, now(), False))
            if (message.routing_key or "").startswith("intake."):
                self.answered.add(str(body.get("message_id")))
        self.last_at = now()
        self.changed.set()
        await message.ack()

    def of(self, routing_key_prefix: str) -> list[Seen]:
        return [event for event in self.events if event.routing_key.startswith(routing_key_prefix)]

    def answers(self) -> dict[str, list[Seen]]:
        by_intake: dict[str, list[Seen]] = defaultdict(list)
        for event in self.of("intake."):
            by_intake[str(event.body.get("message_id"))].append(event)
        return by_intake

    async def until(self, condition: Callable[[], bool], within: float) -> bool:
        deadline = now() + within
        while not condition():
            self.changed.clear()
            remaining = deadline - now()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 1.0))
        return True


# --- the system under test ---------------------------------------------------------------------------------


class Cluster:
    """The private infrastructure and two replicas of each service."""

    def __init__(self, run_dir: Path, env: dict[str, dict[str, str]] | None = None) -> None:
        self.run_dir = run_dir
        self.env = env or {}  # per service: settings to run it with instead of the defaults
        self.rabbit = RabbitNode(run_dir / "rabbitmq")
        self.ferret = FerretServer(run_dir)
        self.mail = TimedMailSink(free_port())
        self.access = json.loads(ACCESS.read_text())
        self.passwords = {
            user: secrets.token_urlsafe(18) for user in [*self.access["services"], *self.access["outside_systems"]]
        }
        self.replicas: list[Replica] = []

    def user_url(self, user: str) -> str:
        return self.rabbit.url(user, self.passwords[user])

    async def start(self) -> None:
        await self.rabbit.start()
        await self.rabbit.import_definitions(render(self.access, self.passwords))
        await self.ferret.start()
        self.mail.start()
        client = connect(self.ferret.url)
        for database in DATABASES.values():
            await client.drop_database(database)
        await client.close()
        service_env = {
            "submission": {"SOURCE_USERS": json.dumps(self.access["outside_systems"])},
            "scoring": {},
            "notification": {
                "SMTP_PORT": str(self.mail.port),
                # Every address is at one made-up domain: the per-domain limit would pace the whole run.
                "RATE_LIMIT_PER_DOMAIN_PER_MINUTE": "100000",
                "RATE_LIMIT_GLOBAL_PER_MINUTE": "100000",
            },
        }
        for service in SERVICES:
            env = {
                "AMQP_URL": self.user_url(f"inovda-{service}"),
                "MONGODB_URL": self.ferret.url,
                "MONGODB_DATABASE": DATABASES[service],
                "LOG_LEVEL": "INFO",
                **service_env[service],
                **self.env.get(service, {}),
            }
            self.replicas += [Replica(service, letter, env, self.run_dir / "logs") for letter in "ab"]
        await asyncio.gather(*(replica.start() for replica in self.replicas))

    def of(self, service: str) -> list[Replica]:
        return [replica for replica in self.replicas if replica.service == service]

    async def all_ready(self) -> bool:
        return all(await asyncio.gather(*(replica.ready() for replica in self.replicas)))

    async def stop_replicas(self) -> dict[str, int | None]:
        """SIGTERM every running replica (each must drain and exit 0); their exit codes (-9: killed after 45 s)."""

        async def terminate(replica: Replica) -> int | None:
            if not replica.running:
                return None
            try:
                return await replica.process.stop_async(within_seconds=45)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                return -9

        codes = await asyncio.gather(*(terminate(replica) for replica in self.replicas))
        return {replica.name: code for replica, code in zip(self.replicas, codes, strict=True)}

    async def stop(self) -> None:
        await self.stop_replicas()
        self.mail.stop()
        await self.ferret.stop()
        await self.rabbit.stop()


# --- faults ------------------------------------------------------------------------------------------------


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
    def __init__(self, cluster: Cluster, watcher: Watcher, load: "Load", form: Form, rng: random.Random) -> None:
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


# --- the load generator ------------------------------------------------------------------------------------


class Load:
    def __init__(self, cluster: Cluster, watcher: Watcher, dataset: Dataset, form: Form) -> None:
        self.cluster = cluster
        self.watcher = watcher
        self.dataset = dataset
        self.form = form
        users = list(cluster.access["outside_systems"])
        self.publishers = {user: Publisher(cluster.user_url(user), INTAKE_EXCHANGE.name, user) for user in users}
        self.operator = Publisher(cluster.rabbit.url(), EVENTS_EXCHANGE.name, None)
        self.t0 = now()
        # (service, kind, when it began, when the process was gone): to tell what a doubled email followed
        self.replica_faults: list[tuple[str, str, float, float]] = []
        self.waves: dict[str, float] = {}
        self._bursts: list[asyncio.Task[None]] = []

    async def send(self, batch: Iterable[Intake], rate: float | None = None) -> None:
        interval = 1.0 / (rate or self.form.publish_rate)
        for intake in batch:
            started = now()
            await self.publishers[intake.user].publish(intake.body, intake.routing_key, intake.message_id)
            intake.published += 1
            await asyncio.sleep(max(0.0, interval - (now() - started)))

    async def wave(self, name: str, batch: list[Intake], within: float = 900) -> None:
        started = now()
        await self.send(batch)
        ids = {intake.message_id for intake in batch}
        answered = await self.watcher.until(lambda: ids <= self.watcher.answered, within)
        self.waves[name] = round(now() - started, 1)
        print(f"  wave {name}: {len(batch)} published, answered {'all' if answered else 'NOT all'}", file=sys.stderr)

    async def burst(self, count: int) -> None:
        """New innovations all at once: the work a kill or SIGTERM lands in."""
        task = asyncio.current_task()
        if task is not None:
            self._bursts.append(task)
        await self.send(self.dataset.new_innovations(count), rate=200)

    async def finish(self) -> None:
        current = asyncio.current_task()
        await asyncio.gather(*(task for task in self._bursts if task is not current), return_exceptions=True)

    async def redeliver(self) -> dict[str, Any]:
        """Exact copies of events already handled, and an older revision's event after a newer one."""
        copies = 0
        for prefix in ("intake.accepted.", "innovation.submitted", "innovation.scored", "region.index.updated"):
            events = self.watcher.of(prefix)
            for event in self.dataset.rng.sample(events, k=min(len(events), 12)):
                await self.operator.publish(
                    json.dumps(event.body).encode(),
                    event.routing_key,
                    event.message_id,
                    headers={INJECTED: 1},
                    correlation_id=event.correlation_id,
                )
                copies += 1
        # An older revision arriving late, under a message id nobody has seen (so only its revision tells).
        submitted = {
            (event.body["innovation"]["external_id"], event.body["revision"]): event
            for event in self.watcher.of("innovation.submitted")
        }
        late = []
        for innovation in self.dataset.innovations.values():
            older = submitted.get((innovation.external_id, 1))
            if len(innovation.revisions) >= 2 and innovation.year == YEAR and older is not None:
                late.append((innovation.external_id, older))
        late = self.dataset.rng.sample(late, k=min(len(late), 8))
        sent_at = now()
        for external_id, event in late:
            await self.operator.publish(
                json.dumps(event.body).encode(),
                event.routing_key,
                f"chaos-late-{external_id}-r1",
                headers={INJECTED: 1},
                correlation_id=event.correlation_id,
            )
        return {"copies": copies, "late_older_revisions": [external_id for external_id, _ in late], "at": sent_at}

    async def close(self) -> None:
        for publisher in [*self.publishers.values(), self.operator]:
            await publisher.close()


# --- checks ------------------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    lost: int = 0
    duplicated: int = 0
    evidence: list[dict[str, Any]] = field(default_factory=list)


def _sample(items: Iterable[Any], limit: int = 6) -> str:
    listed = sorted(str(item) for item in items)
    return ", ".join(listed[:limit]) + (f" (+{len(listed) - limit} more)" if len(listed) > limit else "")


async def verify(
    cluster: Cluster,
    watcher: Watcher,
    load: Load,
    redelivery: dict[str, Any],
    ready: dict[str, bool],
    exit_codes: dict[str, int | None],
) -> list[Check]:
    """Every check, each able to fail; a section that cannot be read fails with the reason."""
    scored: dict[tuple[str, int], list[Seen]] = defaultdict(list)
    for event in watcher.of("innovation.scored"):
        scored[(event.body["external_id"], event.body["revision"])].append(event)
    checks = _verify_answers(watcher, load.dataset)
    sections: list[tuple[str, Callable[[], Awaitable[list[Check]]]]] = [
        ("stored and scored", lambda: _verify_stored(cluster, watcher, load.dataset, scored, redelivery)),
        ("emails", lambda: _verify_emails(cluster, watcher, load, scored)),
        ("queues", lambda: _verify_queues(cluster, watcher, load.dataset)),
    ]
    for name, section in sections:
        try:
            checks += await section()
        except Exception as exc:  # e.g. a read model changed shape: say so, and go on with the other checks
            checks.append(Check(f"{name}: could not be checked", False, f"{type(exc).__name__}: {exc}"))
    checks.append(
        Check(
            "all services ready at the end",
            all(ready.values()),
            _sample(name for name, ok in ready.items() if not ok) or f"{len(ready)} of {len(ready)}",
        )
    )
    checks.append(
        Check(
            "every replica exits 0 on SIGTERM at the end",
            all(code == 0 for code in exit_codes.values()),
            ", ".join(f"{name} {code}" for name, code in exit_codes.items()),
        )
    )
    return checks


def _verify_answers(watcher: Watcher, dataset: Dataset) -> list[Check]:
    """Exactly one answer per message (an exact duplicate is the same message), with the right content."""
    checks = []
    answers = watcher.answers()
    for expect in ("accepted", "rejected"):
        expected = {i.message_id: i for i in dataset.intakes.values() if i.expect == expect}
        missing = [m for m in expected if m not in answers]
        doubled = [m for m in expected if len(answers.get(m, [])) > 1]
        wrong = [
            m
            for m, intake in expected.items()
            if any(_wrong_answer(answer.body, intake) for answer in answers.get(m, []))
        ]
        checks.append(
            Check(
                f"every {'valid' if expect == 'accepted' else 'malformed'} message: exactly one {expect} answer"
                + (" naming the right revision" if expect == "accepted" else ""),
                not missing and not doubled and not wrong,
                f"{len(expected)} messages; missing {len(missing)}, more than one {len(doubled)}, wrong {len(wrong)}"
                + (f": {_sample(missing + doubled + wrong)}" if missing or doubled or wrong else ""),
                lost=len(missing),
                duplicated=len(doubled),
            )
        )
    unknown = [m for m in answers if m not in dataset.intakes]
    checks.append(Check("no answer to a message nobody sent", not unknown, f"{len(unknown)} {_sample(unknown)}"))
    return checks


def _wrong_answer(answer: dict[str, Any], intake: Intake) -> bool:
    if answer["status"] != intake.expect:
        return True
    return intake.expect == "accepted" and (answer["revision"], answer["unchanged"]) != (
        intake.revision,
        intake.unchanged,
    )


async def _verify_stored(
    cluster: Cluster,
    watcher: Watcher,
    dataset: Dataset,
    scored: dict[tuple[str, int], list[Seen]],
    redelivery: dict[str, Any],
) -> list[Check]:
    """What the services stored (revisions, scores, the index, compliance) against what was sent."""
    checks = []
    client = connect(cluster.ferret.url)
    try:
        # Submission: every revision of every accepted innovation stored once, as sent. One read of the history
        # collection (`innovations_versions`, see inovda_submission.adapters.store): FerretDB reads a whole
        # collection for any filter but `_id`, so one read per innovation would take minutes.
        history = client[DATABASES["submission"]]["innovations_versions"]
        stored: dict[str, dict[int, Any]] = defaultdict(dict)
        async for document in history.find({}, {"entity_id": 1, "version": 1, "data": 1}):
            stored[document["entity_id"]][document["version"]] = document["data"]
        innovations = list(dataset.innovations.values())
        missing, differs, extra = [], [], 0
        for innovation in innovations:
            versions = stored.get(entity_id(_report(innovation.revisions[0])), {})
            for number, body in enumerate(innovation.revisions, start=1):
                if number not in versions:
                    missing.append(f"{innovation.external_id} r{number}")
                elif versions[number] != _report(body).model_dump(mode="json"):
                    differs.append(f"{innovation.external_id} r{number}")
            extra += sum(1 for number in versions if not 1 <= number <= len(innovation.revisions))
        checks.append(
            Check(
                "every revision of every accepted innovation stored once, as sent",
                not missing and not differs and not extra,
                f"{len(innovations)} innovations, {sum(len(i.revisions) for i in innovations)} revisions; "
                f"missing {len(missing)}, extra versions {extra}, stored otherwise than sent {len(differs)}"
                + (f": {_sample(missing + differs)}" if missing or differs else ""),
                lost=len(missing),
                duplicated=extra,
            )
        )

        # innovation.scored: the latest revision of every innovation of a year with a rubric, no revision twice.
        scorable = [i for i in innovations if i.year == YEAR]
        unscored = [i.external_id for i in scorable if (i.external_id, len(i.revisions)) not in scored]
        twice = [f"{key[0]} r{key[1]}" for key, events in scored.items() if len(events) > 1]
        never_sent = [
            f"{key[0]} r{key[1]}"
            for key in scored
            if key[0] not in dataset.innovations
            or dataset.innovations[key[0]].year != YEAR
            or not 1 <= key[1] <= len(dataset.innovations[key[0]].revisions)
        ]
        checks.append(
            Check(
                "every innovation's latest revision scored (innovation.scored), no revision twice",
                not unscored and not twice and not never_sent,
                f"{len(scorable)} innovations, {len(scored)} revisions scored; latest unscored {len(unscored)}, "
                f"scored twice {len(twice)}, never sent {len(never_sent)}"
                + (f": {_sample(unscored + twice + never_sent)}" if unscored or twice or never_sent else ""),
                lost=len(unscored),
                duplicated=len(twice),
            )
        )
        late = set(redelivery["late_older_revisions"])
        late_scored = [key for key, events in scored.items() if key[0] in late and events[-1].at >= redelivery["at"]]
        checks.append(
            Check(
                "an older revision delivered after a newer one is not scored",
                bool(late) and not late_scored,
                f"{len(late)} delivered; scored {len(late_scored)}",
            )
        )

        # Scoring's read model: each innovation at its latest revision, with the maturity its rubric gives.
        store = ScoringStore(client[DATABASES["scoring"]])
        read_model: dict[str, dict[str, Any]] = {}
        for region in dataset.regions:
            async for document in store.innovations.find({"placement.region_code": region, "placement.year": YEAR}):
                read_model[document["external_id"]] = document
        rubric = load_rubric(YEAR)
        scores = {i.external_id: score_innovation(_report(i.revisions[-1]), rubric) for i in scorable}
        wrong_stored = [
            external_id
            for external_id, score in scores.items()
            if external_id not in read_model
            or read_model[external_id]["revision"] != len(dataset.innovations[external_id].revisions)
            or (read_model[external_id]["maturity"], read_model[external_id]["eligible"])
            != (score.maturity, score.eligible)
        ]
        surplus = [key for key in read_model if key not in scores]
        checks.append(
            Check(
                "scoring's read model: each innovation at its latest revision, with the maturity its rubric gives",
                not wrong_stored and not surplus,
                f"{len(read_model)} stored; wrong or missing {len(wrong_stored)}, unexpected {len(surplus)}"
                + (f": {_sample(wrong_stored + surplus)}" if wrong_stored or surplus else ""),
            )
        )
        checks += await _verify_index(cluster, watcher, dataset, scorable, scores)
    finally:
        await client.close()
    return checks


async def _verify_index(
    cluster: Cluster,
    watcher: Watcher,
    dataset: Dataset,
    scorable: list[Innovation],
    scores: dict[str, InnovationScore],
) -> list[Check]:
    """Each region's index: incremental = recomputed from the stored innovations = computed here from the
    messages sent = the last one announced; and each unit's innovations counted once."""
    announced: dict[str, RegionIndexUpdated] = {}
    for event in watcher.of("region.index.updated"):
        update = RegionIndexUpdated.model_validate(event.body)
        key = f"{update.region_code}/{update.year}"
        if key not in announced or announced[key].version < update.version:
            announced[key] = update
    rubric = load_rubric(YEAR)
    rows, index_ok, compliance_wrong = [], True, []
    async with scoring_library(cluster.ferret.url, DATABASES["scoring"]) as scoring:
        for region in dataset.regions:
            mine = [i for i in scorable if i.region_code == region]
            spd = RegionProfile.model_validate_json(json.dumps(dataset.profiles[(region, YEAR)][-1])).spd
            expected = compute_index(full_totals(scores[i.external_id].contribution() for i in mine), spd, rubric)
            incremental, recomputed = await scoring.recomputed_index(region, YEAR)
            last = announced.get(f"{region}/{YEAR}")
            last_iid = last.iid if last else None
            index_ok = (
                index_ok
                and incremental == recomputed == expected
                and (last_iid, last and last.n)
                == (
                    expected.iid,
                    expected.n,
                )
            )
            rows.append(
                f"{region}: sent {expected.iid} (n {expected.n}), incremental {incremental.iid}, "
                f"recomputed {recomputed.iid}, announced {last_iid}"
            )
            counted = {row["unit_code"]: row for row in await scoring.compliance(region, YEAR)}
            for unit in dataset.units[region]:
                theirs = [i for i in mine if i.unit_code == unit]
                want = (len(theirs), sum(scores[i.external_id].eligible for i in theirs))
                row = counted.get(unit, {})
                if (row.get("innovations"), row.get("eligible")) != want:
                    compliance_wrong.append(f"{unit}: {row.get('innovations')}/{row.get('eligible')} not {want}")
    return [
        Check(
            "each region's index = recomputed from scratch = from the messages sent = announced",
            index_ok,
            "; ".join(rows),
        ),
        Check(
            "each unit's innovations and eligible ones counted once",
            not compliance_wrong,
            f"{sum(len(units) for units in dataset.units.values())} units; wrong {len(compliance_wrong)}"
            + (f": {_sample(compliance_wrong)}" if compliance_wrong else ""),
        ),
    ]


async def _verify_emails(
    cluster: Cluster, watcher: Watcher, load: Load, scored: dict[tuple[str, int], list[Seen]]
) -> list[Check]:
    """Every email that should exist received exactly once by dedupe key, and no other: receipts and rejections
    from the messages sent, scores from `innovation.scored`, predicate changes from `region.index.updated`."""
    expected = load.dataset.expected_emails()
    for (external_id, revision), events in scored.items():
        expected[f"score:{events[0].body['source']}/{external_id}:r{revision}"] += 1
    for event in watcher.of("region.index.updated"):
        update = RegionIndexUpdated.model_validate(event.body)
        if predicate_changed(update):
            expected[f"predicate:{update.region_code}/{update.year}:v{update.version}"] += 1
    received = Counter(item.dedupe_key for item in cluster.mail.received)
    missing = [key for key in expected if key not in received]
    doubled = {key: count for key, count in received.items() if count > 1}
    unexpected = [key for key in received if key not in expected]
    failed = [str(event.body.get("dedupe_key")) for event in watcher.of("notification.failed")]
    problems = list(dict.fromkeys(missing + list(doubled) + unexpected + failed))
    evidence = _doubled_emails(cluster, load, doubled)
    stored = await _stored_emails(cluster, list(doubled) + missing)
    for item in evidence:
        item["stored"] = stored.get(item["dedupe_key"])
    evidence += [{"dedupe_key": key, "missing": True, "stored": stored.get(key)} for key in missing]
    unconfirmed = [
        str(event.body.get("dedupe_key"))
        for event in watcher.of("notification.sent")
        if event.body.get("confirmed") is False
    ]
    near = Counter(
        item["next_notification_fault"] for item in evidence if (item.get("fault_after_first_copy_seconds") or 99) <= 15
    )
    explained = (
        f"{sum(near.values())} of {len(doubled)} doubled: first copy at most 15 s before a notification replica was "
        f"gone ({', '.join(f'{kind} {count}' for kind, count in sorted(near.items())) or 'none'})"
        if doubled
        else ""
    )
    return [
        Check(
            "every email that should exist received exactly once (by dedupe key), none other",
            not problems,
            f"{sum(expected.values())} expected, {len(cluster.mail.received)} received; missing {len(missing)}, "
            f"more than once {len(doubled)}, unexpected {len(unexpected)}, failed {len(failed)}"
            + (f": {_sample(problems)}" if problems else "")
            + (f"; {explained}" if explained else "")
            + (f"; recorded as sent without the server's answer {len(unconfirmed)}" if unconfirmed else ""),
            lost=len(missing),
            duplicated=sum(count - 1 for count in doubled.values()),
            evidence=evidence,
        )
    ]


async def _verify_queues(cluster: Cluster, watcher: Watcher, dataset: Dataset) -> list[Check]:
    """The work queues empty; the dead-letter queues holding exactly the expected messages, each with its
    reason: every event of the year without a rubric, once per copy of it published (delivery is at least
    once: an outbox relay's repeat, or a copy this harness injected, is dead-lettered again), nothing else."""
    depths = await cluster.rabbit.queue_depths()
    busy = {spec.name: depths.get(spec.name) for spec in SERVICE_QUEUES if depths.get(spec.name) != 0}
    expected = {
        ("scoring.events", f"innovation.submitted {innovation.external_id} r{revision}")
        for innovation in dataset.innovations.values()
        if innovation.year == NO_RUBRIC_YEAR
        for revision in range(1, len(innovation.revisions) + 1)
    } | {
        ("scoring.events", f"region.profile.updated {region}/{year} v{version}")
        for (region, year), history in dataset.profiles.items()
        if year == NO_RUBRIC_YEAR
        for version in range(1, len(history) + 1)
    }
    published = {
        ("scoring.events", _event_identity(event.routing_key, event.body)): watcher.publications[event.message_id]
        for event in watcher.events
        if event.routing_key in ("innovation.submitted", "region.profile.updated")
    }
    letters = await list_dead_letters(cluster.rabbit.url(), limit=100_000)
    found: Counter[tuple[str, str]] = Counter()
    wrong_reason = []
    for letter in letters:
        identity = _letter_identity(letter.routing_key, letter.body)
        found[(letter.queue, identity)] += 1
        if str(NO_RUBRIC_YEAR) not in letter.reason:
            wrong_reason.append(f"{letter.queue} {identity}: {letter.reason[:160]}")
    missing = [key for key in expected if not found[key]]
    unexpected = [key for key in found if key not in expected]
    repeated = {
        key: found[key] - max(1, published.get(key, 1)) for key in expected if found[key] > published.get(key, 1)
    }
    # When each dead letter not expected (or not expected so often) died, after how many attempts, and how many
    # copies of its message were published.
    evidence = [
        {
            "queue": letter.queue,
            "message": _letter_identity(letter.routing_key, letter.body),
            "message_id": letter.message_id,
            "died_at": letter.died_at,
            "attempts": letter.attempts,
            "reason": letter.reason[:300],
            "copies_published": watcher.publications.get(letter.message_id or "", 0),
        }
        for letter in letters
        if (letter.queue, _letter_identity(letter.routing_key, letter.body)) in [*unexpected, *repeated]
    ]
    problems = (
        [f"missing {key}" for key in missing]
        + [f"unexpected {key}" for key in unexpected]
        + [f"{count} more than copies published: {key}" for key, count in repeated.items()]
        + wrong_reason
    )
    copies = sum(max(1, published.get(key, 1)) for key in expected)
    return [
        Check("work queues empty at the end", not busy, f"{busy or 'all 0'}"),
        Check(
            f"dead-letter queues hold exactly the expected messages (year {NO_RUBRIC_YEAR} has no rubric), "
            "once per copy published, with reasons",
            not problems,
            f"{len(expected)} expected ({copies} copies published), {sum(found.values())} found; missing "
            f"{len(missing)}, unexpected {len(unexpected)}, more than once per copy {sum(repeated.values())}, "
            f"wrong reason {len(wrong_reason)}" + (f": {_sample(problems)}" if problems else ""),
            lost=len(missing),
            duplicated=sum(repeated.values()),
            evidence=evidence,
        ),
    ]


def _report(body: dict[str, Any]) -> InnovationReport:
    """The report as submission reads it (from JSON: the contract's types are strict)."""
    return InnovationReport.model_validate_json(json.dumps(body))


def _letter_identity(routing_key: str, body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    return _event_identity(routing_key, document) or f"{routing_key} {body[:80]!r}"


def _event_identity(routing_key: str, document: Any) -> str:
    """What an event is about: the innovation and revision, or the region, year and profile version."""
    try:
        if routing_key == "innovation.submitted":
            return f"innovation.submitted {document['innovation']['external_id']} r{document['revision']}"
        if routing_key == "region.profile.updated":
            profile = document["profile"]
            return f"region.profile.updated {profile['region_code']}/{profile['year']} v{document['version']}"
    except (KeyError, TypeError):
        pass
    return ""


async def _stored_emails(cluster: Cluster, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The notification service's record of these emails (status, attempts, times), to tell how a copy came."""
    if not keys:
        return {}
    client = connect(cluster.ferret.url)
    try:
        fields = (
            "status",
            "attempts",
            "confirmed",
            "created_at",
            "committing_at",
            "committed_by",
            "sent_at",
            "last_error",
        )
        views = NotificationViews(NotificationStore(client[DATABASES["notification"]]))
        found = {}
        for key in keys:
            email = await views.email(key)
            if email is not None:
                found[key] = {name: str(value) for name in fields if (value := getattr(email, name)) is not None}
        return found
    finally:
        await client.close()


def _doubled_emails(cluster: Cluster, load: Load, doubled: dict[str, int]) -> list[dict[str, Any]]:
    """For each email received more than once: when its copies arrived, and the first fault of a notification
    replica that ended after the first copy (SIGKILL, or the end of a SIGTERM's drain). A copy that follows
    such a fault within seconds is the gap the README documents: the SMTP server accepted the email, and the
    process was gone before it marked it sent."""
    arrivals: dict[str, list[float]] = defaultdict(list)
    for item, at in zip(cluster.mail.received, cluster.mail.arrived, strict=False):
        if item.dedupe_key in doubled:
            arrivals[item.dedupe_key].append(at)
    faults = sorted((ended, kind) for service, kind, _, ended in load.replica_faults if service == "notification")
    evidence = []
    for key, times in sorted(arrivals.items()):
        # From a second before the copy's arrival: the server notes the time only after the client sent it all.
        after = next(((ended, kind) for ended, kind in faults if ended >= times[0] - 1.0), None)
        evidence.append(
            {
                "dedupe_key": key,
                "arrived_at": [round(at - load.t0, 2) for at in times],
                "next_notification_fault": after[1] if after else None,
                "fault_after_first_copy_seconds": round(after[0] - times[0], 2) if after else None,
            }
        )
    return evidence


# --- the run -----------------------------------------------------------------------------------------------


async def reconcile_in_doubt(cluster: Cluster, watcher: Watcher, within: float = 120) -> dict[str, Any]:
    """What an operator does with the emails a crash left in doubt (`notification.sent` with `confirmed:
    false`: the process died between the commit mark and the server's answer): look each up in the mail
    server's log, and ask for those it does not have to be sent again (`inovda emails resend`)."""
    keys = sorted(
        {
            str(event.body["dedupe_key"])
            for event in watcher.of("notification.sent")
            if event.body.get("confirmed") is False
        }
    )
    received = {item.dedupe_key for item in cluster.mail.received}
    absent = [key for key in keys if key not in received]
    if absent:
        await request_email_resends(cluster.rabbit.url(), absent)
        with contextlib.suppress(TimeoutError):  # what did not come is reported as missing by the check
            await wait_for("the resent emails", lambda: _all_received(cluster, absent), within, every=0.5)
    print(
        f"  emails in doubt: {len(keys)}, of which the mail server did not have {len(absent)}: resent", file=sys.stderr
    )
    return {"in_doubt": len(keys), "not_at_the_mail_server": len(absent), "keys_resent": absent}


async def _all_received(cluster: Cluster, keys: list[str]) -> bool:
    received = {item.dedupe_key for item in cluster.mail.received}
    return all(key in received for key in keys)


async def settle(cluster: Cluster, watcher: Watcher, load: Load, within: float, quiet: float = 25.0) -> float:
    """Until every message is answered, the work queues and the watch queue are empty, and nothing new has
    come out (events or emails) for `quiet` seconds: the outbox relay and email retries have had their turn."""
    started = now()
    emails = len(cluster.mail.received)
    emails_at = now()
    while now() - started < within:
        if len(cluster.mail.received) != emails:
            emails, emails_at = len(cluster.mail.received), now()
        answered = set(load.dataset.intakes) <= watcher.answered
        depths = await cluster.rabbit.queue_depths()
        empty = all(depths.get(spec.name, 0) == 0 for spec in SERVICE_QUEUES) and depths.get(WATCH_QUEUE, 0) == 0
        if answered and empty and now() - max(watcher.last_at, emails_at) > quiet:
            break
        await asyncio.sleep(2)
    return now() - started


def summarize(faults: list[Fault]) -> dict[str, dict[str, Any]]:
    kinds: dict[str, list[Fault]] = defaultdict(list)
    for fault in faults:
        kinds[fault.kind].append(fault)
    summary = {}
    for kind, items in sorted(kinds.items()):
        ready = [f.ready_seconds for f in items if f.ready_seconds is not None]
        progress = [f.progress_seconds for f in items if f.progress_seconds is not None]
        summary[kind] = {
            "count": len(items),
            "failed": sum(not f.ok for f in items),
            "outage_seconds_median": round(statistics.median(f.outage_seconds for f in items), 2),
            "ready_seconds_max": max(ready) if ready else None,
            "progress_seconds_median": round(statistics.median(progress), 2) if progress else None,
            "progress_seconds_max": max(progress) if progress else None,
        }
    return summary


def render_report(result: dict[str, Any]) -> str:
    figures = result["figures"]
    lines = [
        f"## Chaos run: {result['form']} form, seed {result['seed']}, {result['duration_seconds']:.0f} s",
        "",
        "| figure | value |",
        "|---|---|",
        f"| intake messages sent: distinct (publishes) | {figures['messages']} ({figures['publishes']}) |",
        f"| of which malformed | {figures['malformed']} |",
        f"| events observed: distinct (deliveries) | {figures['events']} ({figures['event_deliveries']}) |",
        f"| emails received | {figures['emails']} |",
        f"| emails in doubt after a crash (of which not at the mail server: resent) | "
        f"{result['emails_in_doubt']['in_doubt']} ({result['emails_in_doubt']['not_at_the_mail_server']}) |",
        f"| faults injected | {figures['faults']} ({_kinds(result['faults_by_kind'])}) |",
        f"| faults skipped (time bound) | {len(result['skipped_faults'])} |",
        f"| redelivered | {', '.join(f'{what} {count}' for what, count in result['redelivered'].items())} |",
        f"| **lost** | **{figures['lost']}** |",
        f"| **duplicated effects** | **{figures['duplicated']}** |",
        "",
        "| fault | count | failed | outage (median) | all ready after (max) | progress after (median / max) |",
        "|---|---|---|---|---|---|",
    ]
    for kind, row in result["faults_by_kind"].items():
        progress = (
            f"{row['progress_seconds_median']} / {row['progress_seconds_max']} s"
            if row["progress_seconds_max"] is not None
            else "-"
        )
        ready = f"{row['ready_seconds_max']} s" if row["ready_seconds_max"] is not None else "-"
        lines.append(
            f"| {kind} | {row['count']} | {row['failed']} | {row['outage_seconds_median']} s | {ready} | {progress} |"
        )
    lines += ["", "| check | ok | detail |", "|---|---|---|"]
    for check in result["checks"]:
        detail = " ".join(str(check["detail"]).split()).replace("|", "/")
        lines.append(f"| {check['name']} | {'yes' if check['ok'] else '**NO**'} | {detail} |")
    lines.append("")
    lines.append(f"**{'PASS' if result['passed'] else 'FAIL'}**: {result['json']}")
    return "\n".join(lines)


def _kinds(by_kind: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{kind} {row['count']}" for kind, row in by_kind.items())


@contextlib.asynccontextmanager
async def running(cluster: Cluster) -> AsyncIterator[Cluster]:
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()


async def run(options: Options) -> dict[str, Any]:
    form, seed = options.form, options.seed
    started_at = dt.datetime.now(dt.UTC)
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    run_dir = OUT / f"run-{stamp}-{os.getpid()}"
    rng = random.Random(seed)
    cluster = Cluster(run_dir, options.env)
    t0 = now()
    print(f"chaos ({form.name}, seed {seed}): infrastructure under {run_dir}", file=sys.stderr)
    async with running(cluster):
        watcher = Watcher(cluster.rabbit.url())
        await watcher.start()
        sources = {source: user for user, source in cluster.access["outside_systems"].items()}
        dataset = Dataset(form, rng, sources)
        load = Load(cluster, watcher, dataset, form)
        await load.wave("registrations", dataset.registrations())
        injector = Injector(cluster, watcher, load, form, random.Random(seed + 1))  # the fault order
        faults = asyncio.create_task(injector.run())
        wave1 = dataset.wave1()
        await load.wave("reports", wave1)
        wave2 = dataset.later_wave(wave1, watcher.answered, 0.4, 2)
        await load.wave("revisions", wave2)
        await load.wave("more revisions", dataset.later_wave(wave2, watcher.answered, 0.3, 3))
        await faults
        await load.finish()
        # Before the redelivery: everything scored, so that an older revision really arrives after a newer one.
        await settle(cluster, watcher, load, form.settle_seconds, quiet=12)
        redelivery = await load.redeliver()
        settle_seconds = await settle(cluster, watcher, load, form.settle_seconds)
        in_doubt = await reconcile_in_doubt(cluster, watcher)
        await watcher.stop()
        await load.close()
        ready = {replica.name: await replica.ready() for replica in cluster.replicas}
        exit_codes = await cluster.stop_replicas()
        checks = await verify(cluster, watcher, load, redelivery, ready, exit_codes)
    duration = now() - t0
    lost = sum(check.lost for check in checks)
    duplicated = sum(check.duplicated for check in checks)
    by_kind = summarize(injector.done)
    redelivered = {
        "intake exact duplicates": sum(max(0, intake.published - 1) for intake in dataset.intakes.values()),
        "of which an older revision after a newer one": sum(
            intake.published - 1
            for intake in dataset.intakes.values()
            if intake.published > 1 and _superseded(intake, dataset)
        ),
        "event copies (answers, submitted, scored, index)": redelivery["copies"],
        "innovation.submitted of revision 1 after a newer one": len(redelivery["late_older_revisions"]),
    }
    planned = form.faults_per_kind * (2 * len(SERVICES) + 3)
    checks.append(
        Check(
            "every fault injected as planned and recovered from (services reconnected by themselves)",
            len(injector.done) == planned and all(fault.ok for fault in injector.done),
            f"{len(injector.done)} of {planned} injected; failed: "
            + (_sample(f"{f.kind} {f.target} {f.detail}" for f in injector.done if not f.ok) or "none"),
        )
    )
    json_path = options.json_path or OUT / f"chaos-{form.name}-{stamp}.json"
    result: dict[str, Any] = {
        "form": form.name,
        "seed": seed,
        "started_at": started_at.isoformat(),
        "duration_seconds": round(duration, 1),
        "settle_seconds": round(settle_seconds, 1),
        "waves_seconds": load.waves,
        "run_dir": str(run_dir),
        "json": str(json_path),
        "figures": {
            "messages": len(dataset.intakes),
            "publishes": sum(intake.published for intake in dataset.intakes.values()),
            "malformed": sum(intake.expect == "rejected" for intake in dataset.intakes.values()),
            "innovations": len(dataset.innovations),
            "events": len(watcher.events),
            "event_deliveries": sum(watcher.copies.values()),
            "emails": len(cluster.mail.received),
            "faults": len(injector.done),
            "publisher_retries": sum(p.retries for p in load.publishers.values()),
            "lost": lost,
            "duplicated": duplicated,
        },
        "faults_by_kind": by_kind,
        "redelivered": redelivered,
        "emails_in_doubt": in_doubt,
        "faults": [asdict(fault) for fault in injector.done],
        "skipped_faults": injector.skipped,
        "checks": [asdict(check) for check in checks],
        "passed": all(check.ok for check in checks) and lost == 0 and duplicated == 0,
        "form_parameters": asdict(form),
        "service_env": options.env,
        "code": await _code_state(),
    }
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2, default=str))
    if not options.keep:
        for folder in (run_dir / "rabbitmq" / "mnesia", run_dir / "ferretdb"):
            await asyncio.to_thread(shutil.rmtree, folder, True)
    return result


async def _code_state() -> dict[str, Any]:
    """The commit and the files changed since: what the services ran (they run from the working tree)."""

    async def git(*args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            "git", *args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        out, _ = await process.communicate()
        return out.decode().rstrip()

    changed = [line[3:] for line in (await git("status", "--porcelain")).splitlines()]
    return {"head": (await git("rev-parse", "HEAD")).strip(), "changed": changed}


def _superseded(intake: Intake, dataset: Dataset) -> bool:
    """A report whose innovation has a newer revision than the one it made."""
    innovation = dataset.innovations.get(intake.external_id or "")
    return innovation is not None and intake.revision is not None and intake.revision < len(innovation.revisions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="the short form (a few hundred messages)")
    parser.add_argument("--seed", type=int, default=None, help="the data and fault order (default: random)")
    parser.add_argument("--keep", action="store_true", help="keep the broker's and database's data afterwards")
    parser.add_argument("--json", type=Path, default=None, help="where to write the result (default: var/chaos/)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="SERVICE:NAME=VALUE",
        help="run a service with another setting, e.g. notification:SMTP_MAX_ATTEMPTS=1 (repeatable)",
    )
    args = parser.parse_args()
    env: dict[str, dict[str, str]] = defaultdict(dict)
    for item in args.env:
        service, _, setting = item.partition(":")
        name, _, value = setting.partition("=")
        if service not in SERVICES or not name:
            parser.error(f"--env {item}: expected SERVICE:NAME=VALUE, SERVICE one of {', '.join(SERVICES)}")
        env[service][name] = value
    options = Options(
        SHORT if args.short else FULL,
        args.seed if args.seed is not None else random.randrange(10**6),
        args.keep,
        args.json,
        dict(env),
    )
    result = asyncio.run(run(options))
    print(render_report(result))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
