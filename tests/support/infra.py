"""Finds the infrastructure the tests run against.

In order: the URL in the environment (AMQP_URL, MONGODB_URL); the local servers `make infra` starts, when they
answer; else a container started through testcontainers where a Docker engine answers. The local servers come
before Docker: where an engine runs but no registry is reachable (this project's CI), testcontainers could
not pull its images.
"""

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
LOCAL_MONGODB_URL = "mongodb://127.0.0.1:27017/"
BROKER_LIMITS = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "limits.conf"


def broker_max_message_bytes() -> int:
    """The largest message every Inovda broker node takes (deploy/rabbitmq/limits.conf)."""
    found = re.search(r"^max_message_size\s*=\s*(\d+)\s*$", BROKER_LIMITS.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise AssertionError(f"{BROKER_LIMITS} sets no max_message_size")
    return int(found.group(1))


def docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=2):
            return True
    except OSError:
        return False


def _require(url: str, what: str) -> str:
    if not reachable(url):
        raise RuntimeError(f"{what} does not answer at {url}: run `make infra` (or set the URL) first")
    return url


@contextmanager
def rabbitmq_url() -> Iterator[str]:
    if url := os.environ.get("AMQP_URL"):
        yield _require(url, "RabbitMQ")
    elif reachable(LOCAL_AMQP_URL) or not docker_answers():
        yield _require(LOCAL_AMQP_URL, "RabbitMQ")
    else:
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13-management") as container:
            host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
            yield f"amqp://guest:guest@{host}:{port}/"


@contextmanager
def mongodb_url() -> Iterator[str]:
    if url := os.environ.get("MONGODB_URL"):
        yield _require(url, "MongoDB")
    elif reachable(LOCAL_MONGODB_URL) or not docker_answers():
        yield _require(LOCAL_MONGODB_URL, "MongoDB (FerretDB)")
    else:
        from testcontainers.mongodb import MongoDbContainer

        with MongoDbContainer("mongo:7") as container:
            yield container.get_connection_url()
