"""What every service process shares: its broker, its lifecycle around the consumer, its background tasks,
and its health and metrics endpoints."""

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any
from urllib.parse import urlencode

from faststream import FastStream
from faststream.rabbit import RabbitBroker
from faststream.rabbit.schemas import Channel
from faststream.specification import AsyncAPI
from pydantic import BaseModel
from pymongo import AsyncMongoClient

from .http import HttpServer
from .mongo import Document
from .observability import Readiness, live, metrics, prometheus_middleware, telemetry_middlewares
from .settings import ServiceSettings
from .topology import EVENTS_EXCHANGE, ServiceQueue, declare_topology

# The broker an AsyncAPI document names (the compose file's), whatever the environment says.
DOCUMENTED_BROKER = "amqp://rabbitmq:5672/"
# Longer than any one message takes; a container's grace period must be longer still.
DRAIN_SECONDS = 30.0
# What the work the handlers started (emails being sent) gets at least, when their own drain took it all.
DRAIN_FLOOR_SECONDS = 5.0


def instance_name(settings: ServiceSettings) -> str:
    """This replica's name: the configured one, or the host's and the process's."""
    return settings.instance_name or f"{socket.gethostname()}-{os.getpid()}"


def new_broker(settings: ServiceSettings, service: str) -> RabbitBroker:
    instance = instance_name(settings)
    # Per-message framework logs cost about a quarter of throughput; the services log what matters.
    # aio-pika names the connection (as the broker's tools show it) from the URL's `name` parameter.
    separator = "&" if "?" in settings.amqp_url else "?"
    named_url = f"{settings.amqp_url}{separator}{urlencode({'name': f'inovda-{service}-{instance}'})}"
    return RabbitBroker(
        named_url,
        default_channel=Channel(prefetch_count=settings.prefetch),
        graceful_timeout=DRAIN_SECONDS,
        logger=None,
        middlewares=[*telemetry_middlewares(service), prometheus_middleware(service)],
        description=f"Inovda {service} service",
    )


def service_app(
    name: str,
    settings: ServiceSettings,
    broker: RabbitBroker,
    mongo: AsyncMongoClient[Document],
    queue: ServiceQueue,
    prepare: Callable[[], Awaitable[None]],
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]],
    drain: Sequence[Callable[[], Awaitable[None]]] = (),
    publishes: Sequence[tuple[str, type[BaseModel]]] = (),
) -> FastStream:
    """A FastStream app that serves health and metrics from the start, prepares storage and topology
    before consuming, runs background loops while it consumes, and on SIGTERM stops consuming, drains
    in-flight messages, then closes the database. `publishes` (routing key, model) are the events it
    publishes on `inovda.events`: declared so that its AsyncAPI document (`make asyncapi`) shows them; the
    outbox relay publishes them."""
    log = logging.getLogger(f"inovda.{name}")
    tasks: list[asyncio.Task[None]] = []
    readiness = Readiness(broker, mongo)
    http = HttpServer(
        settings.http_host,
        settings.http_port,
        {"/health/live": live, "/health/ready": readiness.respond, "/metrics": metrics},
    )

    async def before_consuming() -> None:
        await http.start()
        await prepare()
        await broker.connect()
        await declare_topology(broker, (queue,))

    async def start_background() -> None:
        tasks.extend(asyncio.create_task(loop(), name=f"{name}-background") for loop in background)
        log.info("%s consuming %s; health and metrics on port %d", name, queue.name, http.port)

    async def stop_background() -> None:
        # FastStream runs this hook before it stops the broker. Stop consuming first, letting the handlers in
        # flight finish (up to DRAIN_SECONDS) while the connection and the database are still open; only then
        # is the work they started complete, and can be waited for, in what is left of DRAIN_SECONDS (at least
        # DRAIN_FLOOR_SECONDS), so that the whole drain stays within a container's grace period. (Stopping a
        # subscriber twice is harmless: the broker's own stop finds nothing left to do.)
        clock = asyncio.get_running_loop().time
        deadline = clock() + DRAIN_SECONDS
        for subscriber in broker.subscribers:
            await subscriber.stop()
        for finish in drain:  # work the handlers started but did not wait for
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finish(), max(deadline - clock(), DRAIN_FLOOR_SECONDS))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close() -> None:
        await mongo.close()
        await http.stop()

    for routing_key, model in publishes:
        title = f"{EVENTS_EXCHANGE.name}:{routing_key}"
        broker.publisher(exchange=EVENTS_EXCHANGE, routing_key=routing_key, schema=model, title=title)
    app = FastStream(
        broker,
        logger=log,
        specification=AsyncAPI(title=f"Inovda {name}", version="1.0.0", schema_version="3.0.0"),
        on_startup=[before_consuming],
        after_startup=[start_background],
        on_shutdown=[stop_background],
        after_shutdown=[close],
    )
    app.context.set_global("readiness", readiness)
    app.context.set_global("http", http)
    return app
