"""The Docker engine and the compose stack the container tests run: docker-compose.yml with the override of a
site without a registry (docker-compose.local.yml) and the tests' own (compose.test.yml: an observer user on
the broker, no email rate limit), as project `inovda-ctest`, every published port on 127.0.0.1 in a block of
its own (46xxx), its state under var/containers/.

Everything goes through the `docker` and `docker compose` commands, as an operator's would.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "var" / "containers"
PROJECT = "inovda-ctest"
PREFIX = os.environ.get("INOVDA_IMAGE_PREFIX", "inovda")
TAG = os.environ.get("INOVDA_TAG", "dev")
GRACE_SECONDS = 45  # compose stop_grace_period of the services (their drain is 30 s)
EXTRA_LABEL = "inovda-ctest.extra"  # containers a test starts with `docker run`, removed at the end
OBSERVER = "inovda-observer"
OBSERVER_QUEUE = "inovda.observer"
# Published on 127.0.0.1 only, away from `make infra` (5672, 27017), `make compose-up` (45672, 47017, 41025)
# and the ports other test runs pick.
PORTS = {
    "LOCAL_RABBITMQ_PORT": 46672,
    "LOCAL_RABBITMQ_TLS_PORT": 46671,
    "LOCAL_RABBITMQ_PROMETHEUS_PORT": 46692,
    "LOCAL_MONGODB_PORT": 46017,
    "LOCAL_SMTP_PORT": 46025,
}
PORTAL_PORTS = (46080, 46089)  # the portal's pages: one port of the range per replica
COMPOSE_FILES = (
    REPO / "docker-compose.yml",
    REPO / "docker-compose.local.yml",
    Path(__file__).resolve().parent / "compose.test.yml",
)


def run(
    arguments: Sequence[str], timeout: float = 120, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(arguments), capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO, input=stdin
    )
    if check and result.returncode != 0:
        output = result.stdout[-2000:] + result.stderr[-3000:]
        raise RuntimeError(f"{' '.join(arguments)}: exit {result.returncode}\n{output}")
    return result


def engine_problem() -> str | None:
    """Why no Docker engine with compose v2 can be used here, or None."""
    if shutil.which("docker") is None:
        return "no docker command (scripts/docker-engine.sh install, as root)"
    if run(["docker", "info"], timeout=30, check=False).returncode != 0:
        return "no Docker engine answers (scripts/docker-engine.sh start, as root)"
    if run(["docker", "compose", "version"], timeout=30, check=False).returncode != 0:
        return "the docker compose v2 plugin is missing (scripts/docker-engine.sh install)"
    return None


def service_dockerfiles() -> dict[str, Path]:
    """Service name -> its Dockerfile: every deploy/docker/<name>.Dockerfile but the CLI's (what images.sh builds)."""
    found = sorted((REPO / "deploy" / "docker").glob("*.Dockerfile"))
    return {path.name.removesuffix(".Dockerfile"): path for path in found if path.name != "cli.Dockerfile"}


def service_port(dockerfile: Path) -> int:
    match = re.search(r"HTTP_PORT=(\d+)", dockerfile.read_text(encoding="utf-8"))
    if match is None:
        raise AssertionError(f"{dockerfile} sets no HTTP_PORT")
    return int(match.group(1))


def image(name: str) -> str:
    return f"{PREFIX}-{name}:{TAG}"


def inspect(container: str) -> dict[str, Any]:
    document: list[dict[str, Any]] = json.loads(run(["docker", "inspect", container], timeout=30).stdout)
    return document[0]


def poll(what: str, condition: Callable[[], bool], within: float, every: float = 1.0) -> float:
    """Seconds until `condition` holds; AssertionError naming `what` after `within` seconds."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: not within {within:.0f} s")
        time.sleep(every)
    return time.monotonic() - started


@dataclass
class Container:
    id: str
    name: str
    service: str

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = inspect(self.id)["State"]
        return state

    def health(self) -> str:
        return str((self.state().get("Health") or {}).get("Status", "none"))

    def exec(self, *command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return run(["docker", "exec", self.id, *command], timeout=timeout, check=False)


class Stack:
    """The compose project of the tests: its env file, passwords and containers."""

    def __init__(self) -> None:
        self.env_file = WORK / "test.env"
        self.mail_dir = WORK / "mail"
        self.access_file = WORK / "access.json"
        self.env: dict[str, str] = {}

    def compose(
        self, *arguments: str, timeout: float = 300, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        files = [argument for path in COMPOSE_FILES for argument in ("-f", str(path))]
        command = ["docker", "compose", "-p", PROJECT, "--env-file", str(self.env_file), *files, *arguments]
        return run(command, timeout=timeout, check=check, stdin=stdin)

    def remove_leftovers(self) -> None:
        """What a run stopped short left in the engine (containers, volumes, networks of the project, and the
        containers tests started), from any checkout: the engine's restart policy brings such containers back
        when it starts, holding the ports this run needs."""
        project = f"label=com.docker.compose.project={PROJECT}"
        for kind, label in (
            ("container", f"label={EXTRA_LABEL}"),
            ("container", project),
            ("volume", project),
            ("network", project),
        ):
            listed = run(
                ["docker", kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter", label],
                timeout=60,
                check=False,
            ).stdout.split()
            if listed:
                run(["docker", kind, "rm", *(["-f"] if kind != "network" else []), *listed], timeout=120, check=False)

    def prepare(self) -> None:
        """A new env file (random passwords from deploy/compose/make-env.sh, this stack's ports), the broker's
        access model with the observer added, and an empty mail folder the sink (uid 10001) may write."""
        WORK.mkdir(parents=True, exist_ok=True)
        self.env_file.unlink(missing_ok=True)
        run(["sh", "deploy/compose/make-env.sh", str(self.env_file)], timeout=30)
        extra = {**{name: str(port) for name, port in PORTS.items()}, "LOCAL_MAIL_DIR": "./var/containers/mail"}
        extra["RABBITMQ_TLS_DIR"] = "./var/containers/tls"
        shutil.rmtree(WORK / "tls", ignore_errors=True)
        run(["sh", "deploy/compose/make-tls.sh", str(WORK / "tls")], timeout=60)
        extra["LOCAL_PORTAL_PORTS"] = "-".join(str(port) for port in PORTAL_PORTS)
        extra["RABBITMQ_PASSWORD_INOVDA_OBSERVER"] = secrets.token_hex(24)
        with self.env_file.open("a", encoding="utf-8") as handle:
            handle.write("# tests/containers\n" + "".join(f"{name}={value}\n" for name, value in extra.items()))
        for line in self.env_file.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and "=" in line:
                name, _, value = line.partition("=")
                self.env[name] = value
        access = json.loads((REPO / "deploy" / "rabbitmq" / "access.json").read_text(encoding="utf-8"))
        observer = rf"^{re.escape(OBSERVER_QUEUE)}$"
        access["services"][OBSERVER] = {
            "configure": observer,
            "write": observer,
            "read": rf"^({re.escape(OBSERVER_QUEUE)}|inovda\.events)$",
            "binds": {"inovda.events": ["#"]},  # its topic permission: every event, as outside.observer binds
        }
        self.access_file.write_text(json.dumps(access, indent=2), encoding="utf-8")
        self.access_file.chmod(0o644)
        shutil.rmtree(self.mail_dir, ignore_errors=True)
        self.mail_dir.mkdir(parents=True)
        try:
            os.chown(self.mail_dir, 10001, 10001)  # the images' unprivileged user
        except PermissionError:  # not root (a member of the docker group): anyone may write it
            self.mail_dir.chmod(0o777)

    def password(self, user: str) -> str:
        return self.env["RABBITMQ_PASSWORD_" + user.upper().replace("-", "_")]

    def amqp_url(self, user: str) -> str:
        return f"amqp://{user}:{self.password(user)}@127.0.0.1:{PORTS['LOCAL_RABBITMQ_PORT']}/"

    def containers(self, service: str | None = None, running_only: bool = True) -> list[Container]:
        listing = '{{.ID}} {{.Names}} {{.Label "com.docker.compose.service"}}'
        arguments = ["docker", "ps", "--no-trunc", "--format", listing]
        arguments += ["--filter", f"label=com.docker.compose.project={PROJECT}"]
        if not running_only:
            arguments.append("--all")
        if service:
            arguments += ["--filter", f"label=com.docker.compose.service={service}"]
        found = []
        for line in run(arguments, timeout=30).stdout.splitlines():
            container_id, name, label = line.split(" ", 2)
            found.append(Container(container_id, name, label))
        return sorted(found, key=lambda container: container.name)

    def all_healthy(self, services: Sequence[str]) -> bool:
        containers = [container for service in services for container in self.containers(service)]
        return bool(containers) and all(container.health() == "healthy" for container in containers)

    def logs(self, tail: int = 60, *services: str) -> str:
        """The last `tail` lines of each service's containers (all services when none is named)."""
        return self.compose("logs", "--no-color", "--tail", str(tail), *services, check=False, timeout=60).stdout
