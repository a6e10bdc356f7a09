"""Finds the infrastructure the tests run against.

In order: the URL in the environment (AMQP_URL, MONGODB_URL); a container started through
testcontainers where a Docker engine answers; else the local servers `make infra` starts.
"""

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
LOCAL_MONGODB_URL = "mongodb://127.0.0.1:27017/"


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
    elif docker_answers():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13-management") as container:
            host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
            yield f"amqp://guest:guest@{host}:{port}/"
    else:
        yield _require(LOCAL_AMQP_URL, "RabbitMQ")


@contextmanager
def mongodb_url() -> Iterator[str]:
    if url := os.environ.get("MONGODB_URL"):
        yield _require(url, "MongoDB")
    elif docker_answers():
        from testcontainers.mongodb import MongoDbContainer

        with MongoDbContainer("mongo:7") as container:
            yield container.get_connection_url()
    else:
        yield _require(LOCAL_MONGODB_URL, "MongoDB (FerretDB)")
