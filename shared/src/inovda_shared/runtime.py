"""What every service process shares: its broker, its lifecycle around the consumer, its background tasks."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from faststream import FastStream
from faststream.rabbit import RabbitBroker
from faststream.rabbit.schemas import Channel
from pymongo import AsyncMongoClient

from .mongo import Document
from .settings import ServiceSettings
from .topology import ServiceQueue, declare_topology

# Longer than any one message takes; a container's grace period must be longer still.
DRAIN_SECONDS = 30.0


def new_broker(settings: ServiceSettings) -> RabbitBroker:
    # Per-message framework logs cost about a quarter of throughput; the services log what matters.
    return RabbitBroker(
        settings.amqp_url,
        default_channel=Channel(prefetch_count=settings.prefetch),
        graceful_timeout=DRAIN_SECONDS,
        logger=None,
    )


def service_app(
    name: str,
    broker: RabbitBroker,
    mongo: AsyncMongoClient[Document],
    queue: ServiceQueue,
    prepare: Callable[[], Awaitable[None]],
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]],
) -> FastStream:
    """A FastStream app that prepares storage and topology before consuming, runs background loops while
    it consumes, and on SIGTERM stops consuming, drains in-flight messages, then closes the database."""
    log = logging.getLogger(f"inovda.{name}")
    tasks: list[asyncio.Task[None]] = []

    async def before_consuming() -> None:
        await prepare()
        await broker.connect()
        await declare_topology(broker, (queue,))

    async def start_background() -> None:
        tasks.extend(asyncio.create_task(loop(), name=f"{name}-background") for loop in background)
        log.info("%s consuming %s", name, queue.name)

    async def stop_background() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close_database() -> None:
        await mongo.close()

    return FastStream(
        broker,
        logger=log,
        on_startup=[before_consuming],
        after_startup=[start_background],
        on_shutdown=[stop_background],
        after_shutdown=[close_database],
    )
