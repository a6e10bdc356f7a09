"""The innovation office's index emails (the rules: `domain.index_emails`).

Each `region.index.updated` is held (one insert: it is also the index history the weekly digest reads), and
this replica keeps, per region-year, the latest version it has seen and when it saw it. A *check* then asks,
under the region-year's lock, what the office was last emailed (`index_emails`, one document per
region-year, written only under that lock) and sends the latest version's email, waits for its time, or lets
it be. The check is timed in memory from what this replica last read of that document, and reads it again
before it acts: several replicas each check their own latest, and the lock and the version compare keep a
state older than one emailed from ever being emailed. What a check has covered is settled; a replica that
dies leaves its versions to the others (`delivery.held`), who check them in its stead.

The document says which version is being emailed (`sending`) before the email goes, so that a check after a
crash in between can tell from the sent log whether the office got it.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from inovda_shared.contracts.events import RegionIndexUpdated
from inovda_shared.mongo import Document, packed, unpacked
from inovda_shared.retry import Backoff

from .adapters.store import NotificationStore
from .delivery import Delivery, Held, Holding
from .domain import (
    Emailed,
    IndexEmailRules,
    IndexState,
    Renderer,
    diverges,
    index_email_due,
    index_email_key,
    index_emails,
)

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
HELD_INDEX = "index"
# A check that could not finish (an outage, the region's office not known yet) runs again after this, doubling.
RETRY = Backoff(first=2.0, cap=300.0)
# How often a check waiting for the office's last email to go out looks again.
LAST_STILL_GOING = dt.timedelta(seconds=5)


@dataclass
class Watch:
    """What this replica knows of one region-year's index: its latest version, and the versions it holds."""

    region_code: str
    year: int
    latest: RegionIndexUpdated
    changed_at: dt.datetime
    diverged_at: dt.datetime | None = None  # when a state the office must soon be told of was first seen
    held: dict[str, int] = field(default_factory=dict)  # held document -> its version
    timer: asyncio.TimerHandle | None = None
    checking: asyncio.Lock = field(default_factory=asyncio.Lock)
    failures: int = 0


class IndexEmails:
    def __init__(
        self,
        store: NotificationStore,
        delivery: Delivery,
        renderer: Renderer,
        rules: IndexEmailRules,
        timezone: ZoneInfo,
        clock: Clock,
    ) -> None:
        self._store = store
        self._delivery = delivery
        self._holding: Holding = delivery.holding
        self._renderer = renderer
        self._rules = rules
        self._timezone = timezone
        self._clock = clock
        self._watches: dict[tuple[str, int], Watch] = {}
        self._emailed: dict[tuple[str, int], Emailed | None] = {}  # as this replica last read it
        self._running: set[asyncio.Task[None]] = set()
        self._holding.on(HELD_INDEX, self._taken_over)

    async def on_index(self, event: RegionIndexUpdated, correlation_id: str) -> None:
        now = self._clock()
        fields = {
            "region_code": event.region_code,
            "year": event.year,
            "version": event.version,
            "iid": event.iid,
            "created_at": now,
            "correlation_id": correlation_id,
            "event": packed(event.model_dump(mode="json")),
        }
        key = f"index:{event.region_code}/{event.year}:v{event.version}"
        # Shielded as one: a handler cancelled between the hold and the watch (its broker channel lost) would
        # leave the version held by this live replica and watched by nobody (a redelivery elsewhere leaves it here).
        await asyncio.shield(self._hold_and_see(key, event, now, fields))

    async def _hold_and_see(self, key: str, event: RegionIndexUpdated, now: dt.datetime, fields: Document) -> None:
        held = await self._holding.hold(HELD_INDEX, key, now, fields, schedule=False)
        if held is not None:  # else held by another replica, which checks it; seeing a version twice is safe
            await self._saw(held.id, event, now)

    async def _taken_over(self, held: Held) -> None:
        """A version a dead replica held: checked here instead."""
        event = RegionIndexUpdated.model_validate(unpacked(held.document["event"]))
        await self._saw(held.id, event, held.document["created_at"])

    async def _saw(self, key: str, event: RegionIndexUpdated, at: dt.datetime) -> None:
        where = (event.region_code, event.year)
        watch = self._watches.get(where)
        if watch is None:
            watch = self._watches[where] = Watch(event.region_code, event.year, event, at)
        elif event.version > watch.latest.version:
            watch.latest, watch.changed_at = event, at
        watch.held[key] = event.version
        try:
            await self._plan(watch)
        except Exception:
            # Looked at again here even if the event's retry goes to another replica (which leaves it to this one).
            watch.failures += 1
            self._check_at(watch, self._clock() + dt.timedelta(seconds=RETRY.seconds(watch.failures)))
            raise

    async def _plan(self, watch: Watch) -> None:
        """When to check, from what this replica last read of the region-year's emails (read once if never)."""
        where = (watch.region_code, watch.year)
        if where not in self._emailed:
            self._emailed[where] = _emailed(await self._store.index_email_state(*where))
        last = self._emailed[where]
        latest, changed_at = watch.latest, watch.changed_at
        if last is not None and latest.version <= last.state.version:
            self._settle(watch, latest.version)  # older than what the office has: never emailed
            return
        self._diverged(watch, last)
        rule = self._rules.of(*where)
        due = index_email_due(last, IndexState.of(latest), changed_at, rule, watch.diverged_at)
        # Nothing to tell as far as this replica knows; another may have emailed since: it looks once more later.
        self._check_at(watch, due if due is not None else changed_at + rule.quiet)

    def _check_at(self, watch: Watch, at: dt.datetime) -> None:
        if watch.timer is not None:
            watch.timer.cancel()
        delay = max((at - self._clock()).total_seconds(), 0.0)
        watch.timer = asyncio.get_running_loop().call_later(delay, lambda: self._spawn(self._check(watch)))

    async def _check(self, watch: Watch) -> None:
        watch.timer = None
        async with watch.checking:
            try:
                again = await self._check_under_lock(watch)
            except Exception as exc:
                log.warning("index email check of %s/%s failed: %s: %s", watch.region_code, watch.year,
                            type(exc).__name__, exc)  # fmt: skip
                watch.failures += 1
                again = self._clock() + dt.timedelta(seconds=RETRY.seconds(watch.failures))
            else:
                watch.failures = 0
        if again is not None:
            self._check_at(watch, again)

    async def _check_under_lock(self, watch: Watch) -> dt.datetime | None:
        """Send, or say when to look again (None: nothing more to do for what this replica holds)."""
        where = (watch.region_code, watch.year)
        latest, changed_at = watch.latest, watch.changed_at
        async with self._store.locks.hold(f"index:{watch.region_code}/{watch.year}"):
            last = await self._emailed_now(*where)
            self._emailed[where] = last
            self._diverged(watch, last)
            due = index_email_due(last, IndexState.of(latest), changed_at, self._rules.of(*where), watch.diverged_at)
            now = self._clock()
            if due is None:
                self._settle(watch, latest.version)
                return None
            if due > now:
                return due
            if await self._still_going(where, last):
                return now + LAST_STILL_GOING
            region = await self._store.region(*where)
            if region is None:  # its profile is on its way: the office's address comes with it
                watch.failures += 1
                return now + dt.timedelta(seconds=RETRY.seconds(watch.failures))
            compliant = await self._store.compliant_units(*where)
            units = await self._store.units_of(watch.region_code)
            missing = [unit for unit in units if unit.active and unit.unit_code not in compliant]
            moves = await self._store.index_moves(*where, last.at if last is not None else None)
            messages = index_emails(latest, last, moves, region, missing, self._renderer, self._timezone)
            state = IndexState.of(latest)
            await self._store.save_index_email_state(*where, _document(last, sending=(state, now)))
            await self._delivery.send_now(messages, f"index:{watch.region_code}/{watch.year}")
            emailed = Emailed(state, now)
            await self._store.save_index_email_state(*where, _document(emailed))
            self._emailed[where] = emailed
            watch.diverged_at = None
        self._settle(watch, latest.version)
        return None

    @staticmethod
    def _diverged(watch: Watch, last: Emailed | None) -> None:
        """Keep when the state the office must soon be told of was first seen; forget it once it is not."""
        if diverges(last, IndexState.of(watch.latest)):
            watch.diverged_at = watch.diverged_at or watch.changed_at
        else:
            watch.diverged_at = None

    async def _still_going(self, where: tuple[str, int], last: Emailed | None) -> bool:
        """The last email is not out yet (over a rate limit, the server refusing): the next one waits for it, so
        that the office reads them in order."""
        if last is None:
            return False
        email = await self._store.email(index_email_key(*where, last.state.version))
        return email is not None and not email.status.settled

    async def _emailed_now(self, region_code: str, year: int) -> Emailed | None:
        """What the office was last emailed, the version being emailed at a crash included if it went out."""
        document = await self._store.index_email_state(region_code, year)
        last = _emailed(document)
        sending = (document or {}).get("sending")
        if sending is not None and await self._store.email(index_email_key(region_code, year, sending["version"])):
            return Emailed(IndexState.from_document(sending), sending["at"])
        return last

    def _settle(self, watch: Watch, up_to: int) -> None:
        for key, version in list(watch.held.items()):
            if version <= up_to:
                del watch.held[key]
                self._holding.settle(key)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self, timeout_seconds: float = 20.0) -> None:
        """On shutdown: no new check; the ones under way finish (what is left, the others take over)."""
        for watch in self._watches.values():
            if watch.timer is not None:
                watch.timer.cancel()
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout_seconds)


def _emailed(document: Document | None) -> Emailed | None:
    if document is None or document.get("last") is None:
        return None
    return Emailed(IndexState.from_document(document["last"]), document["emailed_at"])


def _document(last: Emailed | None, sending: tuple[IndexState, dt.datetime] | None = None) -> Document:
    document: Document = {
        "last": last.state.to_document() if last is not None else None,
        "emailed_at": last.at if last is not None else None,
        "sending": None,
    }
    if sending is not None:
        state, at = sending
        document["sending"] = {**state.to_document(), "at": at}
    return document
