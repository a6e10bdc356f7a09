"""Wiring: the only place that builds adapters. `inovda-submission` runs `main()`."""

import asyncio
import datetime as dt
import logging
import sys

from faststream import FastStream

from inovda_scoring.domain import available_years
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
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.runtime import DOCUMENTED_BROKER, new_broker, service_app
from inovda_shared.topology import SUBMISSION_QUEUE

from .adapters.store import SubmissionStore
from .domain.authentication import AccessNotConfiguredError, IntakeAccess
from .handlers import build_router
from .service import IntakeService
from .settings import SubmissionSettings

log = logging.getLogger("inovda.submission")


def create_app(settings: SubmissionSettings) -> FastStream:
    """The service, or AccessNotConfiguredError: without SOURCE_USERS and SOURCE_REGIONS intake fails closed
    unless INTAKE_AUTH=off says otherwise."""
    access = IntakeAccess.configured(settings.source_users, settings.source_regions, settings.intake_auth)
    log.info(access.describe())
    for source in access.sources_without_regions():
        log.warning("source %s has no regions in SOURCE_REGIONS: everything it sends is refused", source)
    broker = new_broker(settings, "submission")
    mongo = connect(settings.mongodb_url)
    database = mongo[settings.mongodb_database]
    store = SubmissionStore(database)
    outbox = Outbox(database["outbox"])
    relay = OutboxRelay([outbox], broker, settings.outbox_relay_interval_seconds, settings.outbox_relay_grace_seconds)
    # The years scoring has a rubric for (its rubric files, read as a library): nothing else can be scored.
    service = IntakeService(
        store,
        outbox,
        relay,
        clock=lambda: dt.datetime.now(dt.UTC),
        access=access,
        rubric_years=available_years(),
        verifier_sources=settings.verifier_sources,
    )
    seal = DeadLetterSeal()
    broker.include_router(build_router(service, seal))

    async def prepare() -> None:
        await store.ensure_indexes()
        await outbox.ensure_indexes()
        await seal.load(database)

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
    return create_app(SubmissionSettings(amqp_url=DOCUMENTED_BROKER, instance_name="asyncapi", intake_auth="off"))


def main() -> None:
    settings = SubmissionSettings()
    configure_logging(settings.log_level, service="submission")
    try:
        app = create_app(settings)
    except AccessNotConfiguredError as exc:
        log.critical("not starting: %s", exc)
        sys.exit(2)
    asyncio.run(app.run())
