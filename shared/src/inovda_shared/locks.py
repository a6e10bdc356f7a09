"""Mutual exclusion between replicas, built on the one write FerretDB makes atomic: an insert under a
unique index (FerretDB: see inovda_shared.mongo).

A document that several handlers may change is changed only while holding its lock: a document inserted
under the lock's name, deleted when done, and taken over when its holder died (after `ttl`). Within one
process an asyncio lock queues the contenders first, so the database sees one at a time. The inserts and
deletes of concurrent holders (of different keys) go out together (`inovda_shared.batching`).

The lock collection holds only the locks themselves, a few documents: its delete names the holder's token
as well as the `_id`, which FerretDB answers by reading the whole collection (see inovda_shared.mongo). The
takeover claims, which stay, are kept in `<collection>_claims`.
"""

import asyncio
import contextlib
import datetime as dt
import uuid
import weakref
from collections.abc import AsyncIterator

from pymongo.asynchronous.collection import AsyncCollection
from tenacity import AsyncRetrying, retry_if_result, stop_after_delay

from .batching import BatchedFilteredDeletes, BatchedInserts
from .mongo import Document, DuplicateKeyError
from .retry import Backoff

DEFAULT_TTL = dt.timedelta(seconds=30)
# How often a contender looks again: soon at first (most holders are done in milliseconds), jittered.
CONTENDED_BACKOFF = Backoff(first=0.002, cap=0.1, jitter=True)


class LockTimeoutError(TimeoutError):
    pass


class DocumentLocks:
    def __init__(self, collection: AsyncCollection[Document], ttl: dt.timedelta = DEFAULT_TTL) -> None:
        self._collection = collection
        self._claims = collection.database[f"{collection.name}_claims"]
        self._inserts = BatchedInserts(collection)
        self._releases = BatchedFilteredDeletes(collection)
        self._ttl = ttl
        self._owner = uuid.uuid4().hex
        self._local: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def forget_old_claims(self) -> None:
        """At startup: remove the takeover claims an earlier version left among the locks, once they are `ttl`
        old (no claimant still counts on one then). One read of the lock collection, once."""
        expired = dt.datetime.now(dt.UTC) - self._ttl
        await self._collection.delete_many({"_id": {"$regex": "^takeover:"}, "at": {"$lt": expired}})

    @contextlib.asynccontextmanager
    async def hold(self, key: str, wait: dt.timedelta = dt.timedelta(seconds=60)) -> AsyncIterator[None]:
        local = self._local.get(key)
        if local is None:
            local = self._local[key] = asyncio.Lock()
        async with local:
            token = await self._acquire(key, wait)
            try:
                yield
            finally:
                await self._releases.delete_one({"_id": key, "token": token})

    async def _claim_takeover(self, key: str, dead_token: str) -> bool:
        """Remove a dead holder's lock, if this contender is the one to do it.

        A conditional delete is not atomic on FerretDB (see inovda_shared.mongo): a contender that found the dead
        lock just before another replaced it would delete the live one, and two would hold the lock (two
        replicas sent one email 20 ms apart that way). So the one
        contender that may delete a given dead lock is the one whose insert of a claim on it succeeds; the
        others wait for the new holder like anyone else. A claimant that dies (or fails) before deleting
        leaves its claim: once that is `ttl` old, the next generation of claim is free to take. Claims stay
        (a few small documents per dead holder), apart from the locks (see the module's text)."""
        generation = 1
        while True:
            claim = f"takeover:{key}:{dead_token}:{generation}"
            now = dt.datetime.now(dt.UTC)
            try:
                await self._claims.insert_one({"_id": claim, "at": now})
            except DuplicateKeyError:
                earlier = await self._claims.find_one({"_id": claim})
                if earlier is not None and earlier["at"] < now - self._ttl:
                    generation += 1
                    continue
                return False
            await self._collection.delete_one({"_id": key, "token": dead_token})
            return True

    async def _acquire(self, key: str, wait: dt.timedelta) -> str:
        token = f"{self._owner}:{uuid.uuid4().hex[:8]}"
        if await self._take(key, token):  # most locks are free: no retrying loop to build for them
            return token
        await asyncio.sleep(CONTENDED_BACKOFF.seconds(1))
        retrying = AsyncRetrying(
            retry=retry_if_result(lambda taken: not taken),
            stop=stop_after_delay(wait.total_seconds()),
            wait=CONTENDED_BACKOFF.after(1),
            retry_error_callback=lambda _: False,
        )
        if not await retrying(self._take, key, token):
            raise LockTimeoutError(f"lock {key!r} still held after {wait.total_seconds():.0f}s")
        return token

    async def _take(self, key: str, token: str) -> bool:
        """One try: the lock is free (or its holder died, or left it here, and this contender removed it) and
        now ours."""
        while True:
            now = dt.datetime.now(dt.UTC)
            try:
                await self._inserts.insert_one({"_id": key, "token": token, "expires_at": now + self._ttl})
                return True
            except DuplicateKeyError:
                pass
            held = await self._collection.find_one({"_id": key})
            if held is None:
                return False
            if held["token"] == token:
                return True
            alive = held["expires_at"] >= now and not self._left_here(held["token"])
            if alive or not await self._claim_takeover(key, held["token"]):
                return False

    def _left_here(self, token: str) -> bool:
        """A lock taken by this process earlier: it holds the key's local lock while it takes the lock, so nobody
        here holds that one any more. An outage left it, the answer to its insert or its final delete lost;
        it is taken over at once, not after `ttl` like another replica's."""
        return token.startswith(f"{self._owner}:")
