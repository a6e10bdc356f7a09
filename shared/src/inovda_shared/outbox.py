"""A transactional-outbox substitute for a database without transactions.

The events a message causes are stored in ONE outbox document keyed by the message's idempotency key,
written after the effect itself (whose write is idempotent for the same key). The document is both the
record that the message was handled (a redelivery finds it and does nothing twice) and the promise that
its events go out: published right away when the broker answers, else by the relay once it is back.
Only the handler that recorded the document publishes it; a redelivery that finds it leaves anything
unpublished to the relay. Publishing is at-least-once (a relay may re-send what a slow handler was
still sending); every event carries a stable message id so consumers can drop repeats.
"""

import asyncio
import datetime as dt
import logging

from faststream.rabbit import RabbitBroker
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from .messaging import OutgoingEvent, publish_events
from .mongo import Document, DuplicateKeyError

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=30)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Outbox:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("published", ASCENDING), ("created_at", ASCENDING)])

    async def record(self, key: str, events: list[OutgoingEvent]) -> bool:
        """Store the events of the message `key`; False when they were stored already (a redelivery)."""
        document = {
            "_id": key,
            "events": [event.to_document() for event in events],
            "published": not events,
            "created_at": _now(),
        }
        try:
            await self._collection.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def contains(self, key: str) -> bool:
        return await self._collection.find_one({"_id": key}, {"_id": 1}) is not None

    async def is_published(self, key: str) -> bool:
        return await self._collection.find_one({"_id": key, "published": True}, {"_id": 1}) is not None

    async def mark_published(self, key: str) -> None:
        await self._collection.update_one({"_id": key}, {"$set": {"published": True, "published_at": _now()}})

    async def claim_stale(self, older_than: dt.timedelta, limit: int = 100) -> list[Document]:
        """Unpublished documents older than `older_than`, each leased to this caller for a while."""
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
                claimed.append(document)
        return claimed


class OutboxRelay:
    """Publishes outbox documents: right after they are written, and later for any that were left behind."""

    def __init__(self, outbox: Outbox, broker: RabbitBroker, interval_seconds: float) -> None:
        self._outbox = outbox
        self._broker = broker
        self._interval = interval_seconds

    async def publish(self, key: str, events: list[OutgoingEvent]) -> None:
        if events:
            await publish_events(self._broker, events)
        await self._outbox.mark_published(key)

    async def relay_stale_once(self) -> int:
        documents = await self._outbox.claim_stale(older_than=dt.timedelta(seconds=self._interval * 2))
        for document in documents:
            events = [OutgoingEvent.from_document(event) for event in document["events"]]
            await self.publish(document["_id"], events)
        return len(documents)

    async def run(self) -> None:
        while True:
            try:
                relayed = await self.relay_stale_once()
                if relayed:
                    log.info("outbox relay published the events of %d stored messages", relayed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the relay must outlive broker and database outages
                log.warning("outbox relay pass failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self._interval)
