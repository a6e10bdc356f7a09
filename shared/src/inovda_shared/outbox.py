"""A transactional-outbox substitute for a database without transactions.

Events are stored in the same document write that makes them true, or right after an idempotent write,
as a batch: `events`, `published`, `batch` (a token naming this batch) and `created_at`. A collection of
such documents is an `Outbox`. Two kinds exist:

- a dedicated outbox collection, one document per handled message, keyed by the message's idempotency key:
  the document is also the record that the message was handled (`record`);
- a field-level outbox inside a read-model document (a region's index): a conditional update both changes
  the document and stages the events that announce the change (`stage`), in one atomic write.

Only the handler that wrote a batch publishes it right away; anything left unpublished (the broker was away,
the process died) is published by the relay. Publishing is at-least-once; every event carries a stable
message id so consumers can drop repeats. A batch is marked published only if it is still the current one,
so a newer batch staged meanwhile is never marked by mistake.
"""

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faststream.rabbit import RabbitBroker
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from .messaging import OutgoingEvent, publish_events
from .mongo import Document, DuplicateKeyError

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=30)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PendingBatch:
    outbox: "Outbox"
    key: str
    batch: str
    events: list[OutgoingEvent]


class Outbox:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("published", ASCENDING), ("created_at", ASCENDING)])

    async def record(self, key: str, events: list[OutgoingEvent]) -> PendingBatch | None:
        """Store the events of the message `key`; None when they were stored already (a redelivery)."""
        try:
            await self._collection.insert_one({"_id": key, **self._batch_fields(key, events)})
        except DuplicateKeyError:
            return None
        return PendingBatch(self, key, key, events)

    async def stage(
        self, key: str, condition: dict[str, Any], events: list[OutgoingEvent], changes: dict[str, Any]
    ) -> PendingBatch | None:
        """Apply `changes` to document `key` if it meets `condition`, staging `events` in the same write."""
        batch = uuid.uuid4().hex
        result = await self._collection.update_one(
            {"_id": key, **condition}, {"$set": {**changes, **self._batch_fields(batch, events)}}
        )
        return PendingBatch(self, key, batch, events) if result.matched_count else None

    async def contains(self, key: str) -> bool:
        return await self._collection.find_one({"_id": key}, {"_id": 1}) is not None

    async def is_published(self, key: str) -> bool:
        return await self._collection.find_one({"_id": key, "published": True}, {"_id": 1}) is not None

    async def mark_published(self, key: str, batch: str) -> None:
        await self._collection.update_one(
            {"_id": key, "batch": batch}, {"$set": {"published": True, "published_at": _now()}}
        )

    async def claim_stale(self, older_than: dt.timedelta, limit: int = 100) -> list[PendingBatch]:
        """Unpublished batches older than `older_than`, each leased to this caller for a while."""
        now = _now()
        claimed = []
        cursor = self._collection.find({"published": False, "created_at": {"$lt": now - older_than}}, {"_id": 1}).limit(
            limit
        )
        async for candidate in cursor:
            document = await self._collection.find_one_and_update(
                {
                    "_id": candidate["_id"],
                    "published": False,
                    "$or": [{"lease_until": {"$exists": False}}, {"lease_until": {"$lt": now}}],
                },
                {"$set": {"lease_until": now + LEASE}},
            )
            if document is not None:
                events = [OutgoingEvent.from_document(event) for event in document["events"]]
                claimed.append(PendingBatch(self, document["_id"], document["batch"], events))
        return claimed

    @staticmethod
    def _batch_fields(batch: str, events: list[OutgoingEvent]) -> dict[str, Any]:
        return {
            "events": [event.to_document() for event in events],
            "published": not events,
            "batch": batch,
            "created_at": _now(),
        }


class OutboxRelay:
    """Publishes batches: right after they are written, and later any that were left behind."""

    def __init__(
        self, outboxes: Sequence[Outbox], broker: RabbitBroker, interval_seconds: float, grace_seconds: float = 10.0
    ) -> None:
        self._outboxes = outboxes
        self._broker = broker
        self._interval = interval_seconds
        # A batch younger than this may still be in its handler's hands: publishing it too would only
        # make a duplicate. Recovery after a failure takes this long at most (plus one interval).
        self._grace = dt.timedelta(seconds=grace_seconds)

    async def publish(self, pending: PendingBatch) -> None:
        if pending.events:
            await publish_events(self._broker, pending.events)
        await pending.outbox.mark_published(pending.key, pending.batch)

    async def relay_stale_once(self) -> int:
        relayed = 0
        for outbox in self._outboxes:
            for pending in await outbox.claim_stale(older_than=self._grace):
                await self.publish(pending)
                relayed += 1
        return relayed

    async def run(self) -> None:
        while True:
            try:
                relayed = await self.relay_stale_once()
                if relayed:
                    log.info("outbox relay published %d batches of events left behind", relayed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the relay must outlive broker and database outages
                log.warning("outbox relay pass failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self._interval)
