"""What an attempt announces: `notification.sent` or `notification.failed`, and a failed email's dead letter.

An attempt under the email's lock keeps its event in the outbox (under the lock) and publishes it after. A
first attempt holds no lock and publishes at once, before it records what came of it, so that an email
recorded as settled has had its event published; only when the broker does not take it does the event go
to the outbox, for the relay.
"""

import logging

from faststream.rabbit import RabbitBroker

from inovda_shared.consumer import publish_dead_letter
from inovda_shared.contracts.commands import EmailResend
from inovda_shared.contracts.events import NotificationFailed, NotificationSent
from inovda_shared.messaging import OutgoingEvent, publish_events
from inovda_shared.outbox import Outbox, OutboxRelay, PendingBatch
from inovda_shared.retry import retry_transient
from inovda_shared.topology import NOTIFICATION_QUEUE

from ..domain import StoredEmail
from ..domain.email_state import Settlement

log = logging.getLogger(__name__)


class OutcomePublisher:
    def __init__(self, outbox: Outbox, relay: OutboxRelay, broker: RabbitBroker) -> None:
        self._outbox = outbox
        self._relay = relay
        self._broker = broker

    async def record(self, email: StoredEmail, settlement: Settlement) -> PendingBatch | None:
        """Dead-letter a failed email and keep the settlement's event in the outbox (under the email's lock)."""
        if (failed := settlement.failed_for_good) is not None:
            await self._dead_letter(email, failed)
        if settlement.event is None:
            return None
        event = settlement.event
        return await self._outbox.record(_outbox_key(event), [_outgoing(event, email.correlation_id)])

    async def publish(self, batch: PendingBatch | None, key: str) -> None:
        """Publish what `record` kept (after the email's lock is let go)."""
        if batch is None:
            return
        try:
            await self._relay.publish(batch)
        except Exception as exc:  # the broker is away: the outbox relay publishes it once it is back
            log.warning("publishing the outcome of email %s left to the relay: %s", key, type(exc).__name__)

    async def announce(self, email: StoredEmail, settlement: Settlement) -> None:
        """A first attempt's settlement: its dead letter, and its event published now (or left to the relay)."""
        if (failed := settlement.failed_for_good) is not None:
            await retry_transient(lambda: self._dead_letter(email, failed), "dead-lettering a failed email")
        if settlement.event is None:
            return
        outgoing = _outgoing(settlement.event, email.correlation_id)
        try:
            await publish_events(self._broker, [outgoing])
        except Exception as exc:  # the broker is away: kept for the outbox relay
            log.warning("publishing the outcome of email %s left to the relay: %s", email.key, type(exc).__name__)
            await self._outbox.record(_outbox_key(settlement.event), [outgoing])

    async def _dead_letter(self, email: StoredEmail, failed: NotificationFailed) -> None:
        """A failed email's dead letter is a request to send it again: `inovda dlq replay` does just that."""
        await publish_dead_letter(
            self._broker,
            NOTIFICATION_QUEUE,
            EmailResend(dedupe_key=email.key).model_dump_json().encode(),
            reason=failed.reason,
            attempts=failed.attempts,
            routing_key=EmailResend.routing_key,
            message_id=f"email:{email.key}",
            correlation_id=email.correlation_id,
        )


def _outbox_key(event: NotificationSent | NotificationFailed) -> str:
    if isinstance(event, NotificationFailed):
        return f"failed:{event.dedupe_key}:{event.attempts}"
    return f"sent:{event.dedupe_key}"


def _outgoing(event: NotificationSent | NotificationFailed, correlation_id: str) -> OutgoingEvent:
    return OutgoingEvent.of(event, event.routing_key, f"{event.routing_key}:{event.dedupe_key}", correlation_id)
