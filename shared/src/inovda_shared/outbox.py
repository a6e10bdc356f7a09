"""A transactional-outbox substitute for a database without transactions.

An `Outbox` is two collections:

- the records (`<name>`): one document per handled message or announcement, keyed by its idempotency key,
  with the events it caused. Insert-only: a record is never changed, so its cost never grows with the data.
  It is also the inbox: a key recorded before means the message was handled before (`record`, `contains`);
- the pending set (`<name>_pending`): a key for every record whose events may not be published yet. It is
  written before the record and deleted once the events are out, so it stays small, and the relay reads
  only it instead of scanning every record ever written.

Two ways to record, chosen by whoever records:

- `record`: the pending key, then the record. For work no broker message will bring back (a loop's, an
  announcement made in passing): the handler that recorded it publishes it right away, and anything left
  pending (the broker was away, the process died) is published by the relay.
- `record_delivered`: the record only. For work a broker message caused, published before that message is
  acknowledged: if the process dies or publishing fails, the message comes back, and its redelivery meets
  the record (`recorded`, or the record's unique `_id`) and publishes its events again (a copy's first
  delivery publishes nothing: `inovda_shared.consumer.handled_before`). The redelivery is the recovery, not
  the relay; a batch whose publishing failed gets its pending key then, so that the relay sends it even if
  its message is dead-lettered, and a dead letter's replay publishes it again.

Publishing is at-least-once; every event carries a stable message id so consumers can drop repeats.

Every write here is by `_id`, and the relay reads only the small pending set (FerretDB: see inovda_shared.mongo).
"""

import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from faststream.rabbit import RabbitBroker
from pymongo.asynchronous.collection import AsyncCollection

from .batching import BatchedDeletes, BatchedInserts
from .messaging import OutgoingEvent, publish_events
from .mongo import Document, DuplicateKeyError
from .retry import supervised

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=30)
# A pending key without its record belongs to a handler that died between the two writes; the message's
# redelivery writes both again. Only one left this long is dropped: a handler merely slow must not lose it.
ABANDONED = dt.timedelta(hours=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PendingBatch:
    outbox: "Outbox"
    key: str
    events: list[OutgoingEvent]
    # False: recorded without a pending key (`Outbox.record_delivered`): nothing to delete once published.
    pending_key: bool = True
    # True: recorded before (a redelivery, a concurrent copy): these are the stored events, to publish again.
    repeated: bool = False


class Outbox:
    def __init__(self, records: AsyncCollection[Document]) -> None:
        self._records = records
        self._pending = records.database[f"{records.name}_pending"]
        self._record_inserts = BatchedInserts(self._records)
        self._pending_inserts = BatchedInserts(self._pending)
        self._pending_deletes = BatchedDeletes(self._pending)

    async def ensure_indexes(self) -> None:
        """Nothing to create: every read and write goes by `_id`."""

    async def record(self, key: str, events: list[OutgoingEvent]) -> PendingBatch | None:
        """Store the events of the message `key`; None when they were stored already (a redelivery)."""
        now = _now()
        stored_events = [event.to_document() for event in events]
        if events:
            # Pending first: a crash between the two writes leaves a pending key without a record, which the
            # message's redelivery completes (or the relay drops); never a record whose events nobody sends.
            # Already there: a concurrent copy of the same message, or an earlier attempt that died here.
            with contextlib.suppress(DuplicateKeyError):
                await self._pending_inserts.insert_one({"_id": key, "created_at": now})
        try:
            await self._record_inserts.insert_one({"_id": key, "events": stored_events, "created_at": now})
        except DuplicateKeyError:
            return None
        return PendingBatch(self, key, events)

    async def record_delivered(self, key: str, events: list[OutgoingEvent]) -> PendingBatch:
        """Store the events of the broker message `key`, without a pending key: the caller publishes them before
        the message is acknowledged. Recorded before (a redelivery, a concurrent copy): the stored events."""
        document = {"_id": key, "events": [event.to_document() for event in events], "created_at": _now()}
        try:
            await self._record_inserts.insert_one(document)
        except DuplicateKeyError:
            recorded = await self.recorded(key)
            if recorded is None:  # records are never removed: a database that lost one is not to be trusted
                raise RuntimeError(f"outbox record {key} existed a moment ago and is gone") from None
            return recorded
        return PendingBatch(self, key, events, pending_key=False)

    async def recorded(self, key: str) -> PendingBatch | None:
        """The batch recorded under `key`, to publish again (the inbox read of a redelivery); None: none."""
        document = await self._records.find_one({"_id": key})
        if document is None:
            return None
        events = [OutgoingEvent.from_document(event) for event in document["events"]]
        return PendingBatch(self, key, events, pending_key=False, repeated=True)

    async def keep_pending(self, key: str) -> None:
        """Leave a recorded batch to the relay (its publishing failed)."""
        with contextlib.suppress(DuplicateKeyError):
            await self._pending_inserts.insert_one({"_id": key, "created_at": _now()})

    async def contains(self, key: str) -> bool:
        return await self._records.find_one({"_id": key}, {"_id": 1}) is not None

    async def is_published(self, key: str) -> bool:
        return await self.contains(key) and await self._pending.find_one({"_id": key}, {"_id": 1}) is None

    async def mark_published(self, key: str) -> None:
        await self._pending_deletes.delete_one(key)

    async def claim_stale(self, older_than: dt.timedelta, limit: int = 100) -> list[PendingBatch]:
        """Pending batches older than `older_than`, each leased to this caller for a while."""
        now = _now()
        claimed = []
        cursor = self._pending.find({"created_at": {"$lt": now - older_than}}).limit(limit)
        for candidate in await cursor.to_list(None):
            lease = candidate.get("lease_until")
            if lease is not None and lease > now:
                continue
            # Updates are not atomic (see inovda_shared.mongo): two relays may both take a lease and both publish.
            # That only duplicates a publication, which the stable message ids make harmless.
            record = await self._records.find_one({"_id": candidate["_id"]})
            if record is None:
                if candidate["created_at"] < now - ABANDONED:
                    await self._pending.delete_one({"_id": candidate["_id"]})
                continue
            await self._pending.update_one({"_id": candidate["_id"]}, {"$set": {"lease_until": now + LEASE}})
            events = [OutgoingEvent.from_document(event) for event in record["events"]]
            claimed.append(PendingBatch(self, record["_id"], events))
        return claimed


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
        if not pending.events:
            return
        if pending.pending_key:
            await publish_events(self._broker, pending.events)
            await pending.outbox.mark_published(pending.key)
            return
        try:
            await publish_events(self._broker, pending.events)
        except Exception:
            # Its message comes back and publishes it again, unless it is dead-lettered: the relay's then.
            with contextlib.suppress(Exception):
                await pending.outbox.keep_pending(pending.key)
            raise

    async def relay_stale_once(self) -> int:
        relayed = 0
        for outbox in self._outboxes:
            for pending in await outbox.claim_stale(older_than=self._grace):
                await self.publish(pending)
                relayed += 1
        return relayed

    async def relay_stale_and_log(self) -> None:
        if relayed := await self.relay_stale_once():
            log.info("outbox relay published %d batches of events left behind", relayed)

    async def run(self) -> None:
        await supervised("outbox relay", self.relay_stale_and_log, self._interval)
