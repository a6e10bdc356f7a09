"""Wiring: the only place that builds adapters. `inovda-submission` runs `main()`."""

import asyncio
import datetime as dt
import logging

from faststream import FastStream
from faststream.rabbit import RabbitBroker
from faststream.rabbit.schemas import Channel

from inovda_shared.logs import configure_logging
from inovda_shared.mongo import connect
from inovda_shared.outbox import Outbox, OutboxRelay
from inovda_shared.topology import SUBMISSION_QUEUE, declare_topology

from .adapters.store import SubmissionStore
from .handlers import register_handlers
from .service import IntakeService
from .settings import SubmissionSettings

log = logging.getLogger("inovda.submission")


def create_app(settings: SubmissionSettings) -> FastStream:
    broker = RabbitBroker(
        settings.amqp_url,
        default_channel=Channel(prefetch_count=settings.prefetch),
        graceful_timeout=30.0,
        logger=None,
    )
    mongo = connect(settings.mongodb_url)
    database = mongo[settings.mongodb_database]
    store = SubmissionStore(database)
    outbox = Outbox(database["outbox"])
    relay = OutboxRelay([outbox], broker, settings.outbox_relay_interval_seconds)
    service = IntakeService(store, outbox, relay, clock=lambda: dt.datetime.now(dt.UTC))
    register_handlers(broker, service)
    background: list[asyncio.Task[None]] = []

    async def prepare() -> None:
        await store.ensure_indexes()
        await outbox.ensure_indexes()
        await broker.connect()
        await declare_topology(broker, (SUBMISSION_QUEUE,))

    async def start_relay() -> None:
        background.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        log.info("submission service consuming %s", SUBMISSION_QUEUE.name)

    async def stop_relay() -> None:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)

    async def close_database() -> None:
        await mongo.close()

    return FastStream(
        broker,
        logger=log,
        on_startup=[prepare],
        after_startup=[start_relay],
        on_shutdown=[stop_relay],
        after_shutdown=[close_database],
    )


def main() -> None:
    settings = SubmissionSettings()
    configure_logging(settings.log_level, service="submission")
    asyncio.run(create_app(settings).run())
