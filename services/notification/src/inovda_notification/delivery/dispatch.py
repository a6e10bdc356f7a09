"""When emails are attempted: the first time where their cause is handled (`send_now`), or when they fall due
after being held back (`hold`); again from a loop that picks up anything due, and on an operator's word. On
shutdown, no new attempt begins and the ones under way finish."""

import asyncio
import datetime as dt
from collections.abc import Callable

from inovda_shared.mongo import Document
from inovda_shared.retry import supervised

from ..adapters.store import NotificationStore, message_document, message_of
from ..domain import EmailMessage, EmailStatus
from ..domain.email_state import IN_FLIGHT, resent
from .attempts import EmailAttempts, email_lock
from .first import FirstAttempts
from .held import Held, Holding

Clock = Callable[[], dt.datetime]
HELD_EMAIL = "email"


class Delivery:
    def __init__(
        self,
        store: NotificationStore,
        attempts: EmailAttempts,
        clock: Clock,
        first: FirstAttempts,
        holding: Holding,
    ) -> None:
        self._store = store
        self._attempts = attempts
        self._clock = clock
        self._first = first
        self.holding = holding
        holding.on(HELD_EMAIL, self._fell_due)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def send_now(self, messages: list[EmailMessage], correlation_id: str) -> None:
        """Each email's first attempt, now (before the event that caused it is acknowledged)."""
        for message in messages:
            await self._first.attempt(message, correlation_id)

    async def hold(
        self,
        message: EmailMessage,
        correlation_id: str,
        until: dt.datetime,
        superseded_by: str | None = None,
        facts: Document | None = None,
    ) -> bool:
        """Send `message` at `until`, unless an email under `superseded_by` is held by then (it replaces this one).
        `facts`: fields kept with it for the schedule's passes. False: held already (a redelivered event)."""
        fields = {
            "email_kind": message.kind,
            "correlation_id": correlation_id,
            "message": message_document(message),
            "superseded_by": superseded_by,
            "created_at": self._clock(),
            **(facts or {}),
        }
        return await self.holding.hold(HELD_EMAIL, message.dedupe_key, until, fields) is not None

    async def _fell_due(self, held: Held) -> None:
        document = held.document
        superseded_by = document.get("superseded_by")
        if held.adopted or held.failures:  # an attempt may have been made: its holder died, or it failed half-way
            email = await self._store.email(held.id)
            if email is not None:
                if email.status is EmailStatus.COMMITTING:  # the delivery loop settles it once it is over
                    await self._store.look_again(held.id, self._clock() + IN_FLIGHT)
                self.holding.settle(held.id)
                return
        if superseded_by is None or not await self._store.is_held(superseded_by):
            await self._first.attempt(message_of(document["message"]), document["correlation_id"])
        self.holding.settle(held.id)

    async def record(self, messages: list[EmailMessage], correlation_id: str) -> list[str]:
        """Record emails to send; returns the keys recorded now (a key seen before is not recorded again)."""
        recorded = []
        for message in messages:
            if await self._store.record_email(message, correlation_id, self._clock()):
                recorded.append(message.dedupe_key)
        return recorded

    async def deliver(self, key: str) -> None:
        """One attempt at one email, if it is due and no other replica is at it. The attempt runs to its end
        even when the caller is cancelled (a shutdown): cut off, it would leave its lock while its SMTP
        conversation goes on, and another replica could send the same email."""
        if self._stopping:
            return  # shutting down: the email stays due, for another replica or this one restarted
        attempt = asyncio.ensure_future(self._attempts.attempt(key, self._clock()))
        self._in_flight.add(attempt)
        attempt.add_done_callback(self._in_flight.discard)
        await asyncio.shield(attempt)

    async def deliver_due(self) -> int:
        keys = await self._store.due_emails(self._clock())
        for key in keys:
            await self.deliver(key)
        return len(keys)

    async def resend(self, key: str) -> None:
        """Try an email again from the start, on an operator's word: a failed one (its dead letter replayed),
        or one in doubt (recorded as sent without the server's confirmation) that the mail server does not
        have. A confirmed one is never sent again."""
        async with self._store.locks.hold(email_lock(key)):
            email = await self._store.email(key)
            change = resent(email, self._clock()) if email is not None else None
            if change is None:
                return
            await self._store.update_email(key, change)
        await self.deliver(key)

    async def drain(self, timeout_seconds: float = 30.0) -> None:
        """On shutdown: start no new conversation, and wait for the attempts under way."""
        self._stopping = True
        await self.holding.drain(timeout_seconds)
        self._attempts.stop()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout_seconds)

    async def run(self, interval_seconds: float) -> None:
        async def drain_what_is_left() -> None:  # the shutdown drained already; this is what was left
            await self.drain(timeout_seconds=5.0)

        await supervised("delivery", self.deliver_due, interval_seconds, on_cancel=drain_what_is_left)
