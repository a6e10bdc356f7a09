"""The thin subscriber: read the delivery, hand it to the intake use case, settle it."""

from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from inovda_shared.consumer import ORIGINAL_USER_ID, raw_body, settle, text_trace_headers
from inovda_shared.messaging import correlation_id_of, routing_key_of
from inovda_shared.topology import INTAKE_EXCHANGE, SUBMISSION_QUEUE

from .service import IntakeDelivery, IntakeService


def sender_of(message: RabbitMessage) -> str | None:
    """The broker user that published the message.

    Outside systems publish to `inovda.intake` with `user_id` (checked by the broker). A message that
    arrives through the default exchange was put back by an operator replaying a dead letter (outside
    systems may not write to the queue itself): its original sender is in the dead-letter header.
    """
    raw = message.raw_message
    if raw.user_id:
        return str(raw.user_id)
    if not raw.exchange:
        original = (raw.headers or {}).get(ORIGINAL_USER_ID)
        return str(original) if original else None
    return None


def register_handlers(broker: RabbitBroker, service: IntakeService) -> None:
    # no_reply: a sender's reply_to must not make the service publish (FastStream answers it by default).
    @broker.subscriber(
        SUBMISSION_QUEUE.queue(),
        INTAKE_EXCHANGE,
        ack_policy=AckPolicy.MANUAL,
        parser=text_trace_headers,
        decoder=raw_body,
        no_reply=True,
    )
    async def on_intake(message: RabbitMessage) -> None:
        raw = message.raw_message
        delivery = IntakeDelivery(
            routing_key=routing_key_of(message),
            body=raw.body,
            message_id=raw.message_id,
            correlation_id=correlation_id_of(message, fallback=message.message_id),
            sender=sender_of(message),
        )
        await settle(broker, message, SUBMISSION_QUEUE, lambda: service.handle(delivery))
