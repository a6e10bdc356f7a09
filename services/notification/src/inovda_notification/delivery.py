"""Sending recorded emails: once each, retried with backoff, dead-lettered after the limit, rate limited.

An email is recorded (under its dedupe key) before the event that caused it is acknowledged; sending
happens here, right after recording and from a loop that picks up anything due. Each attempt holds the
email's lock, so two replicas never send the same email at once, and an email marked sent is never sent
again. Just before the server is told to take the message (the final "." of DATA) the email is marked
committing; an attempt that dies after that mark leaves the email committing, and whoever finds it so
records it as sent without the server's confirmation instead of sending it again (see adapters.smtp).
"""

import asyncio
import datetime as dt
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from faststream.rabbit import RabbitBroker

from inovda_shared.consumer import publish_dead_letter
from inovda_shared.contracts.commands import EmailResend
from inovda_shared.contracts.events import NotificationFailed, NotificationSent
from inovda_shared.locks import LockTimeoutError
from inovda_shared.messaging import OutgoingEvent
from inovda_shared.outbox import OutboxRelay, PendingBatch
from inovda_shared.retry import retry_transient, supervised
from inovda_shared.topology import NOTIFICATION_QUEUE

from .adapters.metrics import EMAILS
from .adapters.smtp import SenderStoppedError, UncertainDeliveryError
from .adapters.store import COMMITTING, FAILED, PENDING, SENT, CommitMarks, NotificationStore, message_of
from .domain import EmailMessage

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
ORPHAN_DUE_AFTER = dt.timedelta(hours=1)
# An attempt tells the server to take the email only this soon after it took the email's lock, well inside the
# lock's 30 s: after that, another replica may have taken the lock over and be sending the same email.
COMMIT_WITHIN = dt.timedelta(seconds=24)


class Sender(Protocol):
    async def send(self, message: EmailMessage, committing: Callable[[], None]) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 5
    first_backoff: dt.timedelta = dt.timedelta(seconds=2)
    max_backoff: dt.timedelta = dt.timedelta(minutes=5)
    per_domain_per_minute: int = 60
    global_per_minute: int = 300

    def backoff(self, attempts: int) -> dt.timedelta:
        backoff: dt.timedelta = self.first_backoff * 2 ** (attempts - 1)
        return min(backoff, self.max_backoff)


class RateLimiter:
    """Sliding one-minute windows per recipient domain and overall (per replica)."""

    def __init__(self, per_domain: int, overall: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._per_domain = per_domain
        self._overall = overall
        self._monotonic = monotonic
        self._sent: dict[str, deque[float]] = defaultdict(deque)

    def wait_for(self, message: EmailMessage) -> float:
        """Seconds until `message` may go; 0 means now (and the send is counted)."""
        now = self._monotonic()
        domains = {address.rsplit("@", 1)[-1] for address in [*message.to, *message.cc]}
        windows = [(self._sent["*"], self._overall)] + [(self._sent[domain], self._per_domain) for domain in domains]
        for window, _ in windows:
            while window and window[0] <= now - 60:
                window.popleft()
        waits = [window[0] + 60 - now for window, limit in windows if len(window) >= limit]
        if waits:
            return max(waits)
        for window, _ in windows:
            window.append(now)
        return 0.0


class Delivery:
    def __init__(
        self,
        store: NotificationStore,
        marks: CommitMarks,
        sender: Sender,
        relay: OutboxRelay,
        broker: RabbitBroker,
        policy: DeliveryPolicy,
        clock: Clock,
    ) -> None:
        self._store = store
        self._marks = marks
        self._sender = sender
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._relay = relay
        self._broker = broker
        self._policy = policy
        self._clock = clock
        self._limiter = RateLimiter(policy.per_domain_per_minute, policy.global_per_minute)

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
        attempt = asyncio.ensure_future(self._deliver(key))
        self._in_flight.add(attempt)
        attempt.add_done_callback(self._in_flight.discard)
        await asyncio.shield(attempt)

    async def drain(self, timeout_seconds: float = 30.0) -> None:
        """On shutdown: start no new conversation, and wait for the attempts under way."""
        self._stopping = True
        self._sender.stop()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout_seconds)

    async def _deliver(self, key: str) -> None:
        try:
            async with self._store.locks.hold(f"email:{key}", wait=dt.timedelta(0)):
                batch = await self._attempt(key)
        except LockTimeoutError:
            return  # another replica is sending it right now
        if batch is not None:
            try:
                await self._relay.publish(batch)
            except Exception as exc:  # the broker is away: the outbox relay publishes it once it is back
                log.warning("publishing the outcome of email %s left to the relay: %s", key, type(exc).__name__)

    async def deliver_due(self) -> int:
        keys = await self._store.due_emails(self._clock())
        for key in keys:
            await self.deliver(key)
        return len(keys)

    async def resend(self, key: str) -> None:
        """Try an email again from the start, on an operator's word: a failed one (its dead letter replayed),
        or one in doubt (recorded as sent without the server's confirmation) that the mail server does not
        have. A confirmed one is never sent again."""
        async with self._store.locks.hold(f"email:{key}"):
            document = await self._store.email(key)
            if document is None or (document["status"] == SENT and document.get("confirmed", True)):
                return
            await self._store.update_email(key, {"status": PENDING, "attempts": 0, "next_attempt_at": self._clock()})
        await self.deliver(key)

    async def run(self, interval_seconds: float) -> None:
        async def drain_what_is_left() -> None:  # the shutdown drained already; this is what was left
            await self.drain(timeout_seconds=5.0)

        await supervised("delivery", self.deliver_due, interval_seconds, on_cancel=drain_what_is_left)

    async def _attempt(self, key: str) -> PendingBatch | None:
        document = await self._store.email(key)
        now = self._clock()
        if document is None:
            # Its recording is under way, or died half-way and its event's redelivery completes it. A due key
            # that stays alone that long belongs to no email: left, it would hold a place in every pass.
            if await self._store.due_since(key) < now - ORPHAN_DUE_AFTER:
                await self._store.forget_due(key)
            return None
        correlation_id = document.get("correlation_id") or key
        if document["status"] == COMMITTING:
            # An attempt died after its commit mark and before the server's answer was recorded.
            log.warning("email %s found committing: recorded as sent, unconfirmed (in doubt)", key)
            return await self._sent(key, message_of(document), document["attempts"], now, correlation_id, False)
        if document["status"] != PENDING:
            await self._store.forget_due(key)  # sent or failed just before a crash
            return None
        if document["next_attempt_at"] > now:
            return None
        message = message_of(document)
        wait = self._limiter.wait_for(message)
        if wait > 0:  # over a rate limit: later, without counting an attempt
            await self._store.update_email(key, {"next_attempt_at": now + dt.timedelta(seconds=wait)})
            return None
        attempts = document["attempts"] + 1
        marking_failed: BaseException | None = None
        commit_by = time.monotonic() + COMMIT_WITHIN.total_seconds()

        def committing() -> None:  # in the sender's thread, right before the server takes the message
            nonlocal marking_failed
            try:
                self._marks.mark(key, attempts, now)
                if time.monotonic() > commit_by:
                    raise TimeoutError("the mark came too late: the email's lock may be another replica's now")
            except BaseException as exc:
                marking_failed = exc
                raise

        try:
            await self._sender.send(message, committing)
        except UncertainDeliveryError as exc:
            log.warning("email %s: %s; recorded as sent, unconfirmed (in doubt)", key, exc)
            return await self._sent(key, message, attempts, now, correlation_id, confirmed=False)
        except Exception as exc:
            if exc is marking_failed:
                # Nothing was sent, but the mark may have been stored before the error reached us.
                await retry_transient(lambda: self._store.update_email(key, {"status": PENDING}), "undoing a mark")
                raise  # the attempt does not count: the next pass tries again
            if isinstance(exc, SenderStoppedError):
                raise  # nothing was sent: another replica, or this one restarted, sends it
            reason = f"{type(exc).__name__}: {exc}"
            return await self._failed(key, message, attempts, now, reason, correlation_id)
        return await self._sent(key, message, attempts, now, correlation_id, confirmed=True)

    async def _failed(
        self, key: str, message: EmailMessage, attempts: int, now: dt.datetime, reason: str, correlation_id: str
    ) -> PendingBatch | None:
        if attempts < self._policy.max_attempts:
            EMAILS.labels(kind=message.kind, outcome="retried").inc()
            log.warning("email %s attempt %d failed: %s", message.kind, attempts, reason)
            retry_at = now + self._policy.backoff(attempts)
            changes = {"status": PENDING, "attempts": attempts, "next_attempt_at": retry_at, "last_error": reason}
            # Refused after the mark: it must go back to pending, or it would count as sent.
            await retry_transient(lambda: self._store.update_email(key, changes), "recording a failed attempt")
            return None
        EMAILS.labels(kind=message.kind, outcome="failed").inc()
        log.error("email %s failed after %d attempts: %s", message.kind, attempts, reason)
        await retry_transient(
            lambda: self._store.update_email(key, {"status": FAILED, "attempts": attempts, "last_error": reason}),
            "recording a failed email",
        )
        await self._dead_letter(key, reason, attempts, correlation_id)
        failed = NotificationFailed(dedupe_key=key, kind=message.kind, reason=reason, attempts=attempts, failed_at=now)
        return await self._store.outbox.record(f"failed:{key}:{attempts}", [self._event(failed, key, correlation_id)])

    async def _sent(
        self, key: str, message: EmailMessage, attempts: int, now: dt.datetime, correlation_id: str, confirmed: bool
    ) -> PendingBatch | None:
        changes = {"status": SENT, "attempts": attempts, "sent_at": now, "confirmed": confirmed}
        # The server has the email now: recording that must not give up.
        await retry_transient(lambda: self._store.update_email(key, changes), "recording a sent email")
        EMAILS.labels(kind=message.kind, outcome="sent" if confirmed else "sent_unconfirmed").inc()
        sent = NotificationSent(
            dedupe_key=key,
            kind=message.kind,
            recipients=len(message.to) + len(message.cc),
            sent_at=now,
            confirmed=confirmed,
        )
        return await self._store.outbox.record(f"sent:{key}", [self._event(sent, key, correlation_id)])

    def _event(self, event: NotificationSent | NotificationFailed, key: str, correlation_id: str) -> OutgoingEvent:
        return OutgoingEvent.of(event, event.routing_key, f"{event.routing_key}:{key}", correlation_id)

    async def _dead_letter(self, key: str, reason: str, attempts: int, correlation_id: str) -> None:
        """A failed email's dead letter is a request to send it again: `inovda dlq replay` does just that."""
        await publish_dead_letter(
            self._broker,
            NOTIFICATION_QUEUE,
            EmailResend(dedupe_key=key).model_dump_json().encode(),
            reason=reason,
            attempts=attempts,
            routing_key=EmailResend.routing_key,
            message_id=f"email:{key}",
            correlation_id=correlation_id,
        )
