"""What the scale and stop tests do to the containers, and how they see a replica's state from the outside:
its in-flight deliveries (FastStream's Prometheus gauge) and its readiness, each read inside the container
with `docker exec` (the services' ports are not published: they scale)."""

import asyncio
import time

from . import stack
from .outside import Consumer, Seen, now
from .stack import Container, Stack

# The events each service publishes: after a fault of one replica, the next one shows the service moving again.
PRODUCES = {
    "submission": ("intake.", "unit.registered", "region.profile.updated", "innovation.submitted"),
    "scoring": ("innovation.scored", "region.index.updated", "unit.compliance.updated"),
    "notification": ("notification.",),
}

_IN_PROCESS = (
    "import urllib.request; "
    "text = urllib.request.urlopen('http://127.0.0.1:{port}/metrics', timeout=3).read().decode(); "
    "print(sum(float(line.rsplit(' ', 1)[1]) for line in text.splitlines() "
    "if line.startswith('faststream_received_messages_in_process')))"
)
_READY = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/health/ready', timeout=3)"


def port(service: str) -> int:
    return stack.service_port(stack.service_dockerfiles()[service])


async def in_process(container: Container) -> float:
    done = await asyncio.to_thread(container.exec, "python", "-c", _IN_PROCESS.format(port=port(container.service)))
    try:
        return float(done.stdout.strip())
    except ValueError:
        return 0.0


async def ready(container: Container) -> bool:
    done = await asyncio.to_thread(container.exec, "python", "-c", _READY.format(port=port(container.service)))
    return done.returncode == 0


async def busy(system: Stack, service: str, within: float = 20) -> tuple[Container, float]:
    """A replica of `service` holding deliveries in process right now (the first one, after `within` s)."""
    deadline = now() + within
    replicas = system.containers(service)
    while now() < deadline:
        for replica in replicas:
            count = await in_process(replica)
            if count > 0:
                return replica, count
    return replicas[0], 0.0


async def next_event(
    observer: Consumer, start: int, prefixes: tuple[str, ...], within: float, after: float = 0.0
) -> Seen | None:
    """The first event of one of these kinds observed after event number `start` (and arriving after `after`)."""
    deadline = now() + within
    while now() < deadline:
        found = next(
            (s for s in observer.seen[start:] if s.routing_key.startswith(prefixes) and s.at > after),
            None,
        )
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    return None


async def until_ready(containers: list[Container], within: float) -> float:
    """Seconds until every one of these containers answers /health/ready (AssertionError after `within`)."""
    started = now()
    pending = list(containers)
    while pending:
        if now() - started > within:
            raise AssertionError(f"not ready within {within:.0f} s: {[c.name for c in pending]}")
        answers = await asyncio.gather(*(ready(container) for container in pending))
        pending = [container for container, ok in zip(pending, answers, strict=True) if not ok]
        if pending:
            await asyncio.sleep(0.5)
    return round(now() - started, 2)


def kill(container: Container) -> float:
    """`docker kill` (SIGKILL); the monotonic time it was sent."""
    at = time.monotonic()
    stack.run(["docker", "kill", container.id], timeout=60)
    return at
