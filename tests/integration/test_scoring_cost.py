"""The cost of one scoring event does not grow with the innovations already stored.

Counted, not timed: the database commands one event issues, the documents and bytes they return, and what
they filter on, with a region holding 25 innovations and with one holding 80 (and 20 other regions around
it). FerretDB 1.x answers only a filter that is exactly `{"_id": ...}` without reading the whole collection,
so every read and write of an event must be of that shape (the locks collection holds only the locks held
right now, so its filters may say more).
"""

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient

from inovda_cli import samples
from inovda_scoring.adapters.store import ScoringStore
from inovda_scoring.service import Incoming, ScoringService
from inovda_shared.contracts.events import InnovationSubmitted, RegionProfileUpdated
from inovda_shared.contracts.intake import InnovationReport, RegionProfile
from inovda_shared.outbox import OutboxRelay
from inovda_shared.topology import declare_topology
from tests.support.commands import CommandLog

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
PATH_CANDIDATES = 10


@pytest.fixture
async def counted_service(
    clean_broker: str, mongodb_url: str, database_name: str
) -> AsyncIterator[tuple[ScoringService, CommandLog]]:
    counter = CommandLog()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[counter], tz_aware=True)
    broker = RabbitBroker(clean_broker, logger=None)
    await broker.connect()
    await declare_topology(broker)
    store = ScoringStore(client[database_name])
    await store.ensure_indexes()
    service = ScoringService(
        store, OutboxRelay([store.outbox], broker, 1.0), lambda: NOW, path_candidates=PATH_CANDIDATES, path_steps=5
    )
    yield service, counter
    await broker.stop()
    await client.drop_database(database_name)
    await client.close()


def submitted(region_code: str, number: int) -> InnovationSubmitted:
    body = samples.innovation(f"{region_code}-{number}", region_code=region_code, title=f"Inovasi {number}")
    return InnovationSubmitted(
        revision=1, innovation=InnovationReport.model_validate_json(json.dumps(body)), submitted_at=NOW
    )


async def score(service: ScoringService, event: InnovationSubmitted) -> None:
    await service.on_innovation_submitted(event, Incoming(uuid.uuid4().hex, "cost"))


async def cost_of_one_event(
    service: ScoringService, counter: CommandLog, region_code: str, stored: int
) -> tuple[int, int, int]:
    profile = RegionProfile.model_validate_json(json.dumps(samples.profile(region_code=region_code)))
    await service.on_profile_updated(
        RegionProfileUpdated(version=1, profile=profile, updated_at=NOW), Incoming("p", "c")
    )
    for number in range(stored):
        await score(service, submitted(region_code, number))
    counter.clear()
    await score(service, submitted(region_code, stored))
    return len(counter.commands), counter.returned, counter.returned_bytes


async def test_one_event_costs_the_same_with_few_or_many_innovations_stored(
    counted_service: tuple[ScoringService, CommandLog],
) -> None:
    service, counter = counted_service
    for other in range(20):  # other regions' innovations must not be read either
        await score(service, submitted(f"64.{other + 10:02d}", 0))

    small_commands, small_returned, small_bytes = await cost_of_one_event(service, counter, "64.02", stored=25)
    large_commands, large_returned, large_bytes = await cost_of_one_event(service, counter, "64.03", stored=80)

    assert counter.filters, "the event reads and writes documents"
    assert all(set(query) == {"_id"} for query in counter.filters), [q for q in counter.filters if set(q) != {"_id"}]
    assert large_commands == small_commands
    # Documents read: the region (its kept path candidates inside), the innovation, the unit's counts and
    # the lock: the same few of the same size, whatever the region holds (ids differ by a digit or two).
    assert large_returned == small_returned
    assert large_bytes <= small_bytes * 1.02, (small_bytes, large_bytes)
