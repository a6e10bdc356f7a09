"""The system under test: the run's own infrastructure and two replicas of each service, as real processes."""

import asyncio
import json
import secrets
import subprocess
import urllib.request
from pathlib import Path

from inovda_shared.mongo import connect

from ..broker_access import intake_sources, render, source_regions
from ..processes import ServiceProcess, free_port
from .forms import ACCESS, BROKER_LIMITS, DATABASES, FERRETDB_BIN, SERVICES
from .infra import FerretServer, RabbitNode, TimedMailSink


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


class Cluster:
    """The private infrastructure and two replicas of each service."""

    def __init__(
        self, run_dir: Path, checkout: Path, regions: list[str], env: dict[str, dict[str, str]] | None = None
    ) -> None:
        self.run_dir = run_dir
        self.regions = regions  # the ones the run's outside systems write
        self.env = env or {}  # per service: settings to run it with instead of the defaults
        self.rabbit = RabbitNode(run_dir / "rabbitmq", config=(checkout / BROKER_LIMITS).read_text())
        self.ferret = FerretServer(run_dir, checkout / FERRETDB_BIN)
        self.mail = TimedMailSink(free_port())
        self.access = json.loads((checkout / ACCESS).read_text())
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
            "submission": {
                "SOURCE_USERS": json.dumps(intake_sources(self.access)),
                "SOURCE_REGIONS": json.dumps(self.source_regions()),
            },
            "scoring": {},
            "notification": {
                "SMTP_PORT": str(self.mail.port),
                # Every address is at one made-up domain: the per-domain limit would pace the whole run.
                "RATE_LIMIT_PER_DOMAIN_PER_MINUTE": "100000",
                "RATE_LIMIT_GLOBAL_PER_MINUTE": "100000",
                "EMAIL_QUOTA_PER_SOURCE_PER_DAY": "100000",
                # The run lasts minutes: the held emails' windows and a dead replica's takeover in seconds.
                "SCORE_EMAIL_WINDOW_SECONDS": "2",
                "INDEX_PREDICATE_SETTLE_SECONDS": "2",
                "INDEX_QUIET_SECONDS": "5",
                "INDEX_MIN_GAP_SECONDS": "0",
                "HEARTBEAT_INTERVAL_SECONDS": "1",
                "REPLICA_DEAD_AFTER_SECONDS": "8",
            },
            "portal": {"SESSION_SECRET": secrets.token_urlsafe(32), "SESSION_COOKIE_SECURE": "false"},
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

    def source_regions(self) -> dict[str, list[str]]:
        """The access model's, each region-bound source writing the run's regions (Kukar's and the next ones)."""
        return {
            source: codes if "*" in codes else self.regions for source, codes in source_regions(self.access).items()
        }

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
