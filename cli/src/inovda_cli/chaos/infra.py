"""The run's own infrastructure, which it may kill freely (never the servers on 5672 and 27017): a RabbitMQ node
of its own, a FerretDB, and an SMTP sink that notes when each email arrived."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from ..mailsink import MailSink
from ..processes import free_port
from .forms import now

RABBITMQ_BIN = Path(os.environ.get("RABBITMQ_BIN_DIR", "/usr/lib/rabbitmq/bin"))


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
    """A RabbitMQ node of its own: name, ports, data, logs, cookie, configuration and (no) plugins, all under
    `base`. `config` is its rabbitmq.conf: Inovda's bounds (deploy/rabbitmq/limits.conf), so that it runs
    what every other node runs, and whatever else a test needs (a TLS listener)."""

    def __init__(self, base: Path, config: str = "", name: str = "chaos") -> None:
        self.base = base
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"inovda-{name}-{os.getpid()}@localhost"
        self._process: subprocess.Popen[bytes] | None = None
        for folder in ("home", "mnesia", "log"):
            (base / folder).mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text(config)

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
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),  # its own, not /etc/rabbitmq's
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
    def __init__(self, base: Path, binary: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.data = base / "ferretdb"
        self.log = base / "ferretdb.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def _spawn(self) -> subprocess.Popen[bytes]:
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} is missing: run `make setup`")
        with self.log.open("ab") as log:
            command = [str(self.binary), "-listen", f"127.0.0.1:{self.port}", "-data", str(self.data)]
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
