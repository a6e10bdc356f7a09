"""A scoring handler that dies half-way leaves nothing counted twice and nothing lost.

A change is committed by one write to the region (totals, unit counts and its journal); the events' record,
the innovation's document and the publishing follow. Here a step after the commit fails, as if the process
died there; then either the same message comes back, or another innovation of the region comes first and
finishes the change.
"""

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from inovda_cli import samples
from inovda_scoring.adapters.store import ScoringStore
from inovda_scoring.domain.revision import ScoredRevision
from inovda_scoring.service import Incoming, ScoringService
from inovda_scoring.views import ScoringViews
from inovda_shared.contracts.events import InnovationSubmitted
from inovda_shared.contracts.intake import InnovationReport
from inovda_shared.messaging import OutgoingEvent
from inovda_shared.mongo import AsyncDatabase, Document, connect
from inovda_shared.outbox import Outbox, OutboxRelay, PendingBatch
from inovda_shared.topology import declare_topology
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class ProcessDiedError(RuntimeError):
    pass


class Death:
    """The one step at which the process "dies" (once)."""

    at: str | None = None

    def here(self, step: str) -> None:
        if self.at == step:
            self.at = None
            raise ProcessDiedError(step)


class DyingOutbox(Outbox):
    def __init__(self, records: Any, death: Death) -> None:
        super().__init__(records)
        self.death = death

    async def record_delivered(self, key: str, events: list[OutgoingEvent]) -> PendingBatch:
        self.death.here("events recorded")
        return await super().record_delivered(key, events)


class DyingStore(ScoringStore):
    """The real store, except that one chosen write fails once (the process "dies" before it)."""

    def __init__(self, database: AsyncDatabase[Document], death: Death) -> None:
        super().__init__(database)
        self.death = death
        self.outbox = DyingOutbox(database["outbox"], death)

    async def replace_innovation(self, revision: ScoredRevision, seq: int) -> None:
        self.death.here("innovation document")
        await super().replace_innovation(revision, seq)


class DyingRelay(OutboxRelay):
    def __init__(self, death: Death, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.death = death

    async def publish(self, pending: PendingBatch) -> None:
        self.death.here("events published")
        await super().publish(pending)


@pytest.fixture
async def scoring(clean_broker: str, mongodb_url: str, drop_database: str) -> AsyncIterator[ScoringService]:
    client = connect(mongodb_url)
    broker = RabbitBroker(clean_broker, logger=None)
    await broker.connect()
    await declare_topology(broker)
    death = Death()
    store = DyingStore(client[drop_database], death)
    relay = DyingRelay(death, [store.outbox], broker, 0.1, grace_seconds=0.3)
    service = ScoringService(store, relay, lambda: NOW, path_candidates=10, path_steps=5)
    relaying = asyncio.create_task(relay.run())  # as the service runs it: events a crash left behind
    yield service
    relaying.cancel()
    await broker.stop()
    await client.close()


@pytest.fixture
async def events(clean_broker: str) -> AsyncIterator[EventProbe]:
    async with EventProbe(clean_broker) as probe:
        yield probe


def submitted(external_id: str, unit_code: str = "DINKES") -> InnovationSubmitted:
    body = samples.innovation(external_id, unit_code=unit_code)
    return InnovationSubmitted(
        revision=1, innovation=InnovationReport.model_validate_json(json.dumps(body)), submitted_at=NOW
    )


async def counts(service: ScoringService) -> dict[str, Any]:
    store = service._store
    incremental, from_scratch = await ScoringViews(store).recomputed_index("64.02", 2026)
    units = {doc["unit_code"]: doc["innovations"] for doc in await store.compliance_of("64.02", 2026)}
    return {"n": incremental.n, "consistent": incremental == from_scratch, "units": units}


@pytest.mark.parametrize("dies_at", ["events recorded", "innovation document", "events published"])
@pytest.mark.parametrize("comes_next", ["the same message", "another innovation of the region"])
async def test_a_change_cut_short_is_finished_once(
    scoring: ScoringService, events: EventProbe, dies_at: str, comes_next: str
) -> None:
    store = scoring._store
    assert isinstance(store, DyingStore)
    first, second = submitted("INV-A"), submitted("INV-B", unit_code="DISDIK")

    store.death.at = dies_at
    with pytest.raises(ProcessDiedError):
        await scoring.on_innovation_submitted(first, Incoming("message-a", "corr-a"))
    if comes_next == "another innovation of the region":
        await scoring.on_innovation_submitted(second, Incoming("message-b", "corr-b"))
    redelivered = Incoming("message-a", "corr-a", handled_before=True)
    await scoring.on_innovation_submitted(first, redelivered)  # the redelivery
    await scoring.on_innovation_submitted(first, redelivered)  # and once more
    if comes_next == "the same message":
        await scoring.on_innovation_submitted(second, Incoming("message-b", "corr-b"))

    assert await counts(scoring) == {"n": 2, "consistent": True, "units": {"DINKES": 1, "DISDIK": 1}}
    await events.wait_for("innovation.scored", count=2)
    await asyncio.sleep(1.0)  # the relay's grace and interval: anything it would send twice, it has sent
    scored = [event.body["external_id"] for event in events.matching("innovation.scored")]
    assert sorted(set(scored)) == ["INV-A", "INV-B"]
    # Published at least once; a repeat carries the same message id, so consumers drop it.
    ids = {event.message_id for event in events.matching("innovation.scored")}
    assert len(ids) == 2
    dinkes = [event.body for event in events.matching("unit.compliance.updated", lambda b: b["unit_code"] == "DINKES")]
    assert dinkes
    assert all(body["innovations"] == 1 for body in dinkes)
