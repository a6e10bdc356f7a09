"""Wiring: the only place that builds adapters. `inovda-scoring` runs `main()`."""

import asyncio
import datetime as dt

from faststream import FastStream

from inovda_shared.logs import configure_logging
from inovda_shared.mongo import connect
from inovda_shared.outbox import OutboxRelay
from inovda_shared.runtime import new_broker, service_app
from inovda_shared.topology import SCORING_QUEUE

from .adapters.readmodel import ScoringStore
from .domain import available_years, load_rubric
from .handlers import register_handlers
from .service import ScoringService
from .settings import ScoringSettings


def create_app(settings: ScoringSettings) -> FastStream:
    for year in available_years():  # a broken rubric file stops the service at start, not mid-stream
        load_rubric(year)
    broker = new_broker(settings, "scoring")
    mongo = connect(settings.mongodb_url)
    store = ScoringStore(mongo[settings.mongodb_database])
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
    register_handlers(broker, service)
    return service_app("scoring", settings, broker, mongo, SCORING_QUEUE, store.ensure_indexes, background=[relay.run])


def main() -> None:
    settings = ScoringSettings()
    configure_logging(settings.log_level, service="scoring")
    asyncio.run(create_app(settings).run())
