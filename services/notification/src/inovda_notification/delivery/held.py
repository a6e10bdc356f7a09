"""What waits, held by the replica that took it in, and taken over by the others when that replica dies.

A held document (`held`, by `_id`) names its owner (this replica's token: its instance name and a random
part, new with every process) and when it falls due: a score email waiting out its window, an index version
waiting for the office's email. The owner keeps a timer for each one in memory, so nothing is scanned while
all is well. Every `heartbeat_interval` it writes its heartbeat: when it beat, and its *watermark*: every
document it holds that fell due before the watermark is settled.

A replica whose heartbeat is older than `dead_after`, or that said it was leaving (a graceful stop), is dead:
each other replica reads the documents it held that fell due from its watermark on (a scan of the held
documents, once per death), handles them as their owner would have, and deletes its heartbeat once they are
settled. Handling is safe twice (a first attempt sends an email once: see `first`; an index check compares
versions under the region-year's lock): two survivors, or a replica thought dead that was only slow, cost
only work.
"""

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from inovda_shared.mongo import Document
from inovda_shared.retry import Backoff, supervised

from ..adapters.store import NotificationStore

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
# A handler that failed (an outage) tries again after this, doubling.
RETRY = Backoff(first=1.0, cap=60.0)


@dataclass
class Held:
    id: str
    kind: str
    owner: str
    due_at: dt.datetime
    document: Document
    adopted: bool = False
    failures: int = field(default=0, compare=False)


Handler = Callable[[Held], Awaitable[None]]


def owner_token(instance: str) -> str:
    """This process's name as an owner of held documents: never the same as an earlier process's."""
    return f"{instance}:{uuid.uuid4().hex[:8]}"


class Holding:
    def __init__(
        self,
        store: NotificationStore,
        clock: Clock,
        owner: str,
        heartbeat_interval_seconds: float,
        dead_after_seconds: float,
    ) -> None:
        self._store = store
        self._clock = clock
        self.owner = owner
        self._interval = heartbeat_interval_seconds
        self._dead_after = dt.timedelta(seconds=dead_after_seconds)
        self._handlers: dict[str, Handler] = {}
        self._pending: dict[str, Held] = {}  # held here and not settled: this replica's and those taken over
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._taken_over: dict[str, set[str]] = {}  # a dead replica -> its documents not settled yet
        self._stopping = False

    def on(self, kind: str, handler: Handler) -> None:
        """`handler` handles each document of `kind` when it falls due, and settles it (`settle`) when done."""
        self._handlers[kind] = handler

    async def hold(
        self, kind: str, key: str, due_at: dt.datetime, fields: Document, schedule: bool = True
    ) -> Held | None:
        """Hold a document until `due_at` (its handler is called then, unless `schedule` is False: its caller
        settles it); None when it is held already (a redelivered event: the first copy's holder has it; see
        `_held_already`)."""
        document = {"_id": key, "kind": kind, "owner": self.owner, "due_at": due_at, **fields}
        # Shielded: a handler cancelled between the insert and what follows (its broker channel lost) would
        # leave the document stored under this live replica's name, held by nobody here, and a redelivery to
        # another replica leaves it to this one: never handled.
        stored = await asyncio.shield(self._store_and_keep(document, schedule))
        return stored if stored is not None else await self._held_already(key, schedule)

    async def _store_and_keep(self, document: Document, schedule: bool) -> Held | None:
        if not await self._store.hold(document):
            return None
        held = Held(document["_id"], document["kind"], self.owner, document["due_at"], document)
        self._pending[held.id] = held
        if schedule:
            self._schedule(held, held.due_at)
        return held

    async def _held_already(self, key: str, schedule: bool) -> Held | None:
        """Another replica holds it: None. This one does still: None when its timer handles it; itself when its
        caller settles it (`schedule` False), since the caller may be running again after failing past the hold
        and would otherwise never see it (seeing it twice is safe for the caller). Held by this very process but
        not here: its insert was stored and its answer lost (an outage; the handler then tried again), or it
        was settled before a copy of its event came: held again as a survivor would after a crash (handling
        twice is safe), since left alone nobody would ever handle it."""
        if key in self._pending:
            return None if schedule else self._pending[key]
        stored = await self._store.held_document(key)
        if stored is None or stored["owner"] != self.owner:
            return None
        held = Held(key, stored["kind"], self.owner, stored["due_at"], stored, adopted=True)
        self._pending[key] = held
        if schedule:
            self._schedule(held, held.due_at)
        return held

    def settle(self, key: str) -> None:
        """Nothing more to do for `key`: it no longer holds the watermark back."""
        held = self._pending.pop(key, None)
        if (timer := self._timers.pop(key, None)) is not None:
            timer.cancel()
        if held is None or held.owner == self.owner:
            return
        left = self._taken_over.get(held.owner)
        if left is not None:
            left.discard(key)
            if not left:
                self._spawn(self._forget(held.owner))

    def watermark(self, now: dt.datetime) -> dt.datetime:
        """Every document this replica holds that fell due before this is settled."""
        own = [held.due_at for held in self._pending.values() if held.owner == self.owner]
        return min([now, *own])

    async def beat(self) -> None:
        """Say this replica is alive; take over what the dead ones held."""
        now = self._clock()
        await self._store.beat(self.owner, {"beat_at": now, "watermark": self.watermark(now)})
        for heartbeat in await self._store.heartbeats():
            other = heartbeat["_id"]
            if other == self.owner or other in self._taken_over:
                continue
            if heartbeat.get("leaving") or heartbeat["beat_at"] < now - self._dead_after:
                await self._take_over(other, heartbeat["watermark"])

    async def run(self) -> None:
        await supervised("heartbeat", self.beat, self._interval)

    async def drain(self, timeout_seconds: float = 20.0) -> None:
        """On shutdown: start nothing more, let the handlers under way finish, and say this replica is leaving,
        so that the others take over what it still holds at once."""
        self._stopping = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout_seconds)
        with contextlib.suppress(Exception):  # the others then take it over once its heartbeat is old
            await self._store.beat(
                self.owner, {"beat_at": self._clock(), "watermark": self.watermark(self._clock()), "leaving": True}
            )

    def retry_later(self, held: Held) -> None:
        """A handler that could not finish (an outage): called again after a backoff."""
        held.failures += 1
        self._schedule(held, self._clock() + dt.timedelta(seconds=RETRY.seconds(held.failures)))

    async def _take_over(self, other: str, watermark: dt.datetime) -> None:
        documents = await self._store.held_by(other, watermark)
        log.warning("replica %s is gone: taking over %d held documents", other, len(documents))
        self._taken_over[other] = {document["_id"] for document in documents}
        if not documents:
            await self._forget(other)
            return
        for document in documents:
            held = Held(document["_id"], document["kind"], other, document["due_at"], document, adopted=True)
            self._pending[held.id] = held
            self._schedule(held, held.due_at)

    async def _forget(self, other: str) -> None:
        await self._store.forget_replica(other)
        self._taken_over.pop(other, None)

    def _schedule(self, held: Held, at: dt.datetime) -> None:
        if self._stopping:
            return
        if (timer := self._timers.pop(held.id, None)) is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        delay = max((at - self._clock()).total_seconds(), 0.0)
        self._timers[held.id] = loop.call_later(delay, lambda: self._spawn(self._handle(held)))

    async def _handle(self, held: Held) -> None:
        self._timers.pop(held.id, None)
        if self._stopping or held.id not in self._pending:
            return
        handler = self._handlers.get(held.kind)
        if handler is None:
            log.error("no handler for held %s documents (%s): left as it is", held.kind, held.id)
            return
        try:
            await handler(held)
        except Exception as exc:
            log.warning("held %s %s not handled yet: %s: %s", held.kind, held.id, type(exc).__name__, exc)
            self.retry_later(held)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
