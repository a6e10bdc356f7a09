"""A scoring handler that dies half-way leaves nothing counted twice and nothing lost.

A change is committed by one write to the region (totals plus its journal); the unit counts, the events and
the innovation's document follow. Here a write after the commit fails, as if the process died there; then
either the same message comes back, or another innovation of the region comes first and finishes the change.
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
from inovda_scoring.domain.compliance import UnitCounts
from inovda_scoring.domain.placement import Placement
from inovda_scoring.domain.revision import ScoredRevision
from inovda_scoring.service import Incoming, ScoringService
from inovda_scoring.views import ScoringViews
from inovda_shared.contracts.events import InnovationSubmitted
from inovda_shared.contracts.intake import InnovationReport
from inovda_shared.mongo import connect
from inovda_shared.outbox import OutboxRelay
from inovda_shared.topology import declare_topology
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class ProcessDiedError(RuntimeError):
    pass


class DyingStore(ScoringStore):
    """The real store, except that one chosen write fails once (the process "dies" before it)."""

    dies_at: str | None = None

    def _die_here(self, step: str) -> None:
        if self.dies_at == step:
            self.dies_at = None
            raise ProcessDiedError(step)

    async def apply_compliance(self, placement: Placement, counts: UnitCounts, *, create: bool) -> None:
        self._die_here("unit counts")
        await super().apply_compliance(placement, counts, create=create)

    async def replace_innovation(self, revision: ScoredRevision, seq: int) -> None:
        self._die_here("innovation document")
        await super().replace_innovation(revision, seq)


@pytest.fixture
async def scoring(clean_broker: str, mongodb_url: str, drop_database: str) -> AsyncIterator[ScoringService]:
    client = connect(mongodb_url)
    broker = RabbitBroker(clean_broker, logger=None)
    await broker.connect()
    await declare_topology(broker)
    store = DyingStore(client[drop_database])
    relay = OutboxRelay([store.outbox], broker, 0.1, grace_seconds=0.3)
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


@pytest.mark.parametrize("dies_at", ["unit counts", "innovation document"])
@pytest.mark.parametrize("comes_next", ["the same message", "another innovation of the region"])
async def test_a_change_cut_short_is_finished_once(
    scoring: ScoringService, events: EventProbe, dies_at: str, comes_next: str
) -> None:
    store = scoring._store
    assert isinstance(store, DyingStore)
    first, second = submitted("INV-A"), submitted("INV-B", unit_code="DISDIK")

    store.dies_at = dies_at
    with pytest.raises(ProcessDiedError):
        await scoring.on_innovation_submitted(first, Incoming("message-a", "corr-a"))
    if comes_next == "another innovation of the region":
        await scoring.on_innovation_submitted(second, Incoming("message-b", "corr-b"))
    await scoring.on_innovation_submitted(first, Incoming("message-a", "corr-a"))  # the redelivery
    await scoring.on_innovation_submitted(first, Incoming("message-a", "corr-a"))  # and once more
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
