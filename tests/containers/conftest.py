"""The container tests: the images built (`scripts/images.sh`, what `make images` runs), the whole system up
with docker compose, and the pipeline pushed through the containers as outside systems would.

They need a Docker engine with the compose v2 plugin. Where none answers, the session starts one
(scripts/docker-engine.sh, as root, when Debian's docker.io is installed) and stops it at the end; where none
can be had, the tests skip and say why, except under CI=true, where they fail: CI (`.ci/run`) installs and
starts the engine, so a missing one there is a broken CI, not a reason to skip.

Figures (build and start-up times, messages, emails, recovery times) are printed at the end of the run and
written to var/containers/figures.json.
"""

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import outside, stack
from .stack import REPO, WORK, Stack

FIGURES: dict[str, Any] = {}
STARTED_ENGINE: list[bool] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.containers)
            # The first test also waits for the images and the stack (session fixtures); each test bounds its
            # own waits.
            item.add_marker(pytest.mark.timeout(2400))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "figures.json"
    path.write_text(json.dumps(FIGURES, indent=2, default=str))
    terminalreporter.section("container figures")
    for name, value in FIGURES.items():
        terminalreporter.write_line(f"{name}: {json.dumps(value, default=str)}")
    terminalreporter.write_line(f"(also in {path})")


@pytest.fixture(scope="session")
def figures() -> dict[str, Any]:
    return FIGURES


@pytest.fixture(scope="session")
def engine() -> Iterator[None]:
    problem = stack.engine_problem()
    startable = not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists()
    if problem and "answers" in problem and startable and os.geteuid() == 0 and shutil.which("dockerd"):
        # Installed but not running: start it for this session (and stop it after).
        if subprocess.run(["scripts/docker-engine.sh", "start"], cwd=REPO, check=False).returncode == 0:
            STARTED_ENGINE.append(True)
        problem = stack.engine_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the container tests, and they cannot run: {problem}", pytrace=False)
        pytest.skip(f"container tests skipped: {problem}")
    yield
    if STARTED_ENGINE:
        subprocess.run(["scripts/docker-engine.sh", "stop"], cwd=REPO, check=False, timeout=120)


@pytest.fixture(scope="session")
def images(engine: None) -> None:
    """Every image, as `make images` builds it (cached layers make a second run take seconds)."""
    started = time.monotonic()
    built = subprocess.run(["scripts/images.sh"], cwd=REPO, capture_output=True, text=True, timeout=2400, check=False)
    FIGURES["images_build_seconds"] = round(time.monotonic() - started, 1)
    FIGURES["images_build_steps"] = [line for line in built.stderr.splitlines() if line.startswith("images: ")]
    if built.returncode != 0:
        pytest.fail(f"scripts/images.sh failed:\n{built.stderr[-4000:]}", pytrace=False)


@pytest.fixture(scope="session")
def system(images: None) -> Iterator[Stack]:
    """The whole system up (every container healthy), torn down with its volumes at the end."""
    system = Stack()
    system.remove_leftovers()
    for port in [*stack.PORTS.values(), *range(stack.PORTAL_PORTS[0], stack.PORTAL_PORTS[1] + 1)]:
        if outside_port_taken(port):
            pytest.fail(
                f"127.0.0.1:{port} is taken: another {stack.PROJECT} stack? (docker compose -p {stack.PROJECT} down)",
                pytrace=False,
            )
    system.prepare()
    started = time.monotonic()
    try:
        system.compose("up", "--detach", "--wait", "--wait-timeout", "400", timeout=480)
        FIGURES["compose_up_seconds"] = round(time.monotonic() - started, 1)
        yield system
    finally:
        (WORK / "compose.log").write_text(system.logs(tail=400))
        for container in stack.run(
            ["docker", "ps", "-aq", "--filter", f"label={stack.EXTRA_LABEL}"], timeout=30, check=False
        ).stdout.split():
            stack.run(["docker", "rm", "-f", container], timeout=60, check=False)
        system.compose("down", "--volumes", "--remove-orphans", "--timeout", "45", timeout=300, check=False)


def outside_port_taken(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
async def observer(system: Stack) -> AsyncIterator[outside.Consumer]:
    consumer = outside.observer(system.amqp_url(stack.OBSERVER))
    await consumer.start()
    yield consumer
    await consumer.stop()


@pytest.fixture(scope="session")
async def results(system: Stack, observer: outside.Consumer) -> AsyncIterator[dict[str, outside.Consumer]]:
    """Each outside system's results queue, read as that system."""
    consumers = {source: outside.answers(system.amqp_url(user), source) for source, user in outside.USERS.items()}
    for consumer in consumers.values():
        await consumer.start()
    yield consumers
    for consumer in consumers.values():
        await consumer.stop()


@pytest.fixture(scope="session")
async def publishers(system: Stack, observer: outside.Consumer) -> AsyncIterator[dict[str, outside.Publisher]]:
    found = {source: outside.Publisher(system.amqp_url(user), user) for source, user in outside.USERS.items()}
    yield found
    for publisher in found.values():
        await publisher.close()
