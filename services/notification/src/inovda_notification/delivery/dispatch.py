"""When recorded emails are attempted: right after recording, from a loop that picks up anything due, and on an
operator's word; on shutdown, no new attempt begins and the ones under way finish."""

import asyncio
import datetime as dt
from collections.abc import Callable

from inovda_shared.retry import supervised

from ..adapters.store import NotificationStore
from ..domain import EmailMessage
from ..domain.email_state import resent
from .attempts import EmailAttempts, email_lock

Clock = Callable[[], dt.datetime]


class Delivery:
    def __init__(self, store: NotificationStore, attempts: EmailAttempts, clock: Clock) -> None:
        self._store = store
        self._attempts = attempts
        self._clock = clock
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False

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
        self._attempts.stop()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout_seconds)

    async def run(self, interval_seconds: float) -> None:
        async def drain_what_is_left() -> None:  # the shutdown drained already; this is what was left
            await self.drain(timeout_seconds=5.0)

        await supervised("delivery", self.deliver_due, interval_seconds, on_cancel=drain_what_is_left)
