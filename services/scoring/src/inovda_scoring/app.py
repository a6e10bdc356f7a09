"""Wiring: the only place that builds adapters. `inovda-scoring` runs `main()`."""

import asyncio
import datetime as dt

from faststream import FastStream

from inovda_shared.contracts.events import InnovationScored, RegionIndexUpdated, UnitComplianceUpdated
from inovda_shared.logs import configure_logging
from inovda_shared.mongo import connect
from inovda_shared.outbox import OutboxRelay
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.runtime import DOCUMENTED_BROKER, new_broker, service_app
from inovda_shared.topology import SCORING_QUEUE

from .adapters.store import ScoringStore
from .domain import available_years, load_rubric
from .handlers import build_router
from .service import ScoringService
from .settings import ScoringSettings


def create_app(settings: ScoringSettings) -> FastStream:
    for year in available_years():  # a broken rubric file stops the service at start, not mid-stream
        load_rubric(year)
    broker = new_broker(settings, "scoring")
    mongo = connect(settings.mongodb_url)
    database = mongo[settings.mongodb_database]
    store = ScoringStore(database)
    relay = OutboxRelay(
        [store.outbox], broker, settings.outbox_relay_interval_seconds, settings.outbox_relay_grace_seconds
    )
    service = ScoringService(
        store,
        relay,
        clock=lambda: dt.datetime.now(dt.UTC),
        path_candidates=settings.path_candidates,
        path_steps=settings.path_steps_in_event,
    )
    seal = DeadLetterSeal()
    broker.include_router(build_router(service, seal))

    async def prepare() -> None:
        await store.ensure_indexes()
        await seal.load(database)

    return service_app(
        "scoring",
        settings,
        broker,
        mongo,
        SCORING_QUEUE,
        prepare,
        background=[relay.run],
        publishes=[
            (model.routing_key, model) for model in (InnovationScored, RegionIndexUpdated, UnitComplianceUpdated)
        ],
    )


def asyncapi_app() -> FastStream:
    """The app as `faststream docs gen --factory` documents it (`make asyncapi`): nothing is connected."""
    return create_app(ScoringSettings(amqp_url=DOCUMENTED_BROKER, instance_name="asyncapi"))


def main() -> None:
    settings = ScoringSettings()
    configure_logging(settings.log_level, service="scoring")
    asyncio.run(create_app(settings).run())
