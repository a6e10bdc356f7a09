"""The cost of one scoring event does not grow with the innovations already stored.

Counted, not timed: the database commands one event issues, the documents they return, and what they
filter on, with a region holding 2 innovations and with one holding 60 (and 20 other regions around it).
FerretDB 1.x answers only an `_id` lookup without reading the whole collection, so every read and write
of an event must name its document by `_id`.
"""

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient, monitoring

from inovda_scoring.adapters.readmodel import ScoringStore
from inovda_scoring.service import Incoming, ScoringService
from inovda_shared.contracts.events import InnovationSubmitted, RegionProfileUpdated
from inovda_shared.contracts.intake import InnovationReport, RegionProfile
from inovda_shared.outbox import OutboxRelay
from inovda_shared.topology import declare_topology
from tests.support import samples

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
PATH_CANDIDATES = 10


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[str] = []
        self.filters: list[dict[str, Any]] = []
        self.returned = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append(event.command_name)
        command = event.command
        if event.command_name == "find":
            self.filters.append(dict(command.get("filter") or {}))
        elif event.command_name in ("update", "delete"):
            key = "updates" if event.command_name == "update" else "deletes"
            self.filters.extend(dict(statement.get("q") or {}) for statement in command.get(key) or [])
        elif event.command_name == "findAndModify":
            self.filters.append(dict(command.get("query") or {}))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor") or {}
        self.returned += len(cursor.get("firstBatch") or cursor.get("nextBatch") or [])

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def counted_service(
    clean_broker: str, mongodb_url: str, database_name: str
) -> AsyncIterator[tuple[ScoringService, CommandCounter]]:
    counter = CommandCounter()
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
    service: ScoringService, counter: CommandCounter, region_code: str, stored: int
) -> tuple[int, int]:
    profile = RegionProfile.model_validate_json(json.dumps(samples.profile(region_code=region_code)))
    await service.on_profile_updated(
        RegionProfileUpdated(version=1, profile=profile, updated_at=NOW), Incoming("p", "c")
    )
    for number in range(stored):
        await score(service, submitted(region_code, number))
    counter.commands.clear()
    counter.filters.clear()
    counter.returned = 0
    await score(service, submitted(region_code, stored))
    return len(counter.commands), counter.returned


async def test_one_event_costs_the_same_with_few_or_many_innovations_stored(
    counted_service: tuple[ScoringService, CommandCounter],
) -> None:
    service, counter = counted_service
    for other in range(20):  # other regions' innovations must not be read either
        await score(service, submitted(f"64.{other + 10:02d}", 0))

    small_commands, small_returned = await cost_of_one_event(service, counter, "64.02", stored=2)
    large_commands, large_returned = await cost_of_one_event(service, counter, "64.03", stored=60)

    assert counter.filters, "the event reads and writes documents"
    assert all("_id" in query for query in counter.filters), [q for q in counter.filters if "_id" not in q]
    assert large_commands == small_commands
    # Documents read: the innovation, the region (its members inside), compliance summaries and the lock:
    # the same few, whatever the region holds.
    assert large_returned == small_returned
