"""Sending recorded emails: once each, retried with backoff, dead-lettered after the limit, rate limited.

An email is recorded (under its dedupe key) before the event that caused it is acknowledged; sending
happens here, right after recording and from a loop that picks up anything due. Each attempt holds the
email's lock, so two replicas never send the same email at once, and an email marked sent is never sent
again. The one gap no SMTP client can close: a process killed after the server accepted the message and
before it was marked sent will send it once more (its Message-ID and `X-Inovda-Dedupe-Key` repeat).
"""

import asyncio
import datetime as dt
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from faststream.rabbit import RabbitBroker

from inovda_shared.consumer import DEATH_AT, DEATH_ATTEMPTS, DEATH_QUEUE, DEATH_REASON, retry_transient
from inovda_shared.contracts.events import NotificationFailed, NotificationSent
from inovda_shared.locks import LockTimeoutError
from inovda_shared.messaging import JSON, ORIGINAL_ROUTING_KEY, OutgoingEvent
from inovda_shared.observability import EMAILS
from inovda_shared.outbox import OutboxRelay, PendingBatch
from inovda_shared.topology import DEAD_LETTER_EXCHANGE, NOTIFICATION_QUEUE

from .adapters.store import FAILED, PENDING, SENT, NotificationStore, message_of
from .domain import EmailMessage

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
# The routing key a dead-lettered email is replayed under: the handler puts it back in the queue to send.
RESEND_ROUTING_KEY = "notification.email.resend"


class Sender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


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
        sender: Sender,
        relay: OutboxRelay,
        broker: RabbitBroker,
        policy: DeliveryPolicy,
        clock: Clock,
    ) -> None:
        self._store = store
        self._sender = sender
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
        """One attempt at one email, if it is due and no other replica is at it."""
        try:
            async with self._store.locks.hold(f"email:{key}", wait=dt.timedelta(0)):
                batch = await self._attempt(key)
        except LockTimeoutError:
            return  # another replica is sending it right now
        if batch is not None:
            await self._relay.publish(batch)

    async def deliver_due(self) -> int:
        keys = await self._store.due_emails(self._clock())
        for key in keys:
            await self.deliver(key)
        return len(keys)

    async def resend(self, key: str) -> None:
        """A dead-lettered email replayed by an operator: try it again from the start."""
        async with self._store.locks.hold(f"email:{key}"):
            document = await self._store.email(key)
            if document is None or document["status"] == SENT:
                return
            await self._store.update_email(key, {"status": PENDING, "attempts": 0, "next_attempt_at": self._clock()})
        await self.deliver(key)

    async def run(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop must outlive database and SMTP outages
                log.warning("delivery pass failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(interval_seconds)

    async def _attempt(self, key: str) -> PendingBatch | None:
        document = await self._store.email(key)
        now = self._clock()
        if document is None:
            return None  # its recording is under way (or died half-way; its event's redelivery completes it)
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
        correlation_id = document.get("correlation_id") or key
        try:
            await self._sender.send(message)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if attempts < self._policy.max_attempts:
                EMAILS.labels(kind=message.kind, outcome="retried").inc()
                log.warning("email %s attempt %d failed: %s", message.kind, attempts, reason)
                retry_at = now + self._policy.backoff(attempts)
                await self._store.update_email(
                    key, {"attempts": attempts, "next_attempt_at": retry_at, "last_error": reason}
                )
                return None
            EMAILS.labels(kind=message.kind, outcome="failed").inc()
            log.error("email %s failed after %d attempts: %s", message.kind, attempts, reason)
            await self._store.update_email(key, {"status": FAILED, "attempts": attempts, "last_error": reason})
            await self._dead_letter(key, reason, attempts, correlation_id)
            failed = NotificationFailed(
                dedupe_key=key, kind=message.kind, reason=reason, attempts=attempts, failed_at=now
            )
            return await self._store.outbox.record(
                f"failed:{key}:{attempts}", [self._event(failed, key, correlation_id)]
            )
        # The server has the email now: recording that must not give up, or the email would go out again.
        await retry_transient(
            lambda: self._store.update_email(key, {"status": SENT, "attempts": attempts, "sent_at": now}),
            "recording a sent email",
        )
        EMAILS.labels(kind=message.kind, outcome="sent").inc()
        sent = NotificationSent(
            dedupe_key=key, kind=message.kind, recipients=len(message.to) + len(message.cc), sent_at=now
        )
        return await self._store.outbox.record(f"sent:{key}", [self._event(sent, key, correlation_id)])

    def _event(self, event: NotificationSent | NotificationFailed, key: str, correlation_id: str) -> OutgoingEvent:
        return OutgoingEvent.of(event, event.routing_key, f"{event.routing_key}:{key}", correlation_id)

    async def _dead_letter(self, key: str, reason: str, attempts: int, correlation_id: str) -> None:
        await self._broker.publish(
            json.dumps({"dedupe_key": key}).encode(),
            exchange=DEAD_LETTER_EXCHANGE,
            routing_key=NOTIFICATION_QUEUE.name,
            headers={
                DEATH_REASON: reason[:2000],
                DEATH_QUEUE: NOTIFICATION_QUEUE.name,
                DEATH_ATTEMPTS: attempts,
                DEATH_AT: self._clock().isoformat(),
                ORIGINAL_ROUTING_KEY: RESEND_ROUTING_KEY,
            },
            message_id=f"email:{key}",
            correlation_id=correlation_id,
            content_type=JSON,
            persist=True,
        )
