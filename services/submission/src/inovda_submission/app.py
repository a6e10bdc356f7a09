"""Wiring: the only place that builds adapters. `inovda-submission` runs `main()`."""

import asyncio
import datetime as dt

from faststream import FastStream

from inovda_shared.contracts.events import (
    INTAKE_ACCEPTED,
    INTAKE_REJECTED,
    InnovationSubmitted,
    InnovationVerified,
    IntakeAnswer,
    RegionProfileUpdated,
    UnitRegistered,
)
from inovda_shared.logs import configure_logging
from inovda_shared.mongo import connect
from inovda_shared.outbox import Outbox, OutboxRelay
from inovda_shared.runtime import DOCUMENTED_BROKER, new_broker, service_app
from inovda_shared.topology import SUBMISSION_QUEUE

from .adapters.store import SubmissionStore
from .handlers import build_router
from .service import IntakeService
from .settings import SubmissionSettings


def create_app(settings: SubmissionSettings) -> FastStream:
    broker = new_broker(settings, "submission")
    mongo = connect(settings.mongodb_url)
    database = mongo[settings.mongodb_database]
    store = SubmissionStore(database)
    outbox = Outbox(database["outbox"])
    relay = OutboxRelay([outbox], broker, settings.outbox_relay_interval_seconds, settings.outbox_relay_grace_seconds)
    service = IntakeService(
        store,
        outbox,
        relay,
        clock=lambda: dt.datetime.now(dt.UTC),
        source_users=settings.source_users,
        verifier_sources=settings.verifier_sources,
    )
    broker.include_router(build_router(service))

    async def prepare() -> None:
        await store.ensure_indexes()
        await outbox.ensure_indexes()

    return service_app(
        "submission",
        settings,
        broker,
        mongo,
        SUBMISSION_QUEUE,
        prepare,
        background=[relay.run],
        publishes=[
            (f"{INTAKE_ACCEPTED}.{{source}}", IntakeAnswer),
            (f"{INTAKE_REJECTED}.{{source}}", IntakeAnswer),
            *(
                (model.routing_key, model)
                for model in (UnitRegistered, RegionProfileUpdated, InnovationSubmitted, InnovationVerified)
            ),
        ],
    )


def asyncapi_app() -> FastStream:
    """The app as `faststream docs gen --factory` documents it (`make asyncapi`): nothing is connected."""
    return create_app(SubmissionSettings(amqp_url=DOCUMENTED_BROKER, instance_name="asyncapi"))


def main() -> None:
    settings = SubmissionSettings()
    configure_logging(settings.log_level, service="submission")
    asyncio.run(create_app(settings).run())
