"""The thin subscriber: read the delivery, hand it to the intake use case, settle it."""

from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from inovda_shared.consumer import raw_body, settle
from inovda_shared.messaging import correlation_id_of, routing_key_of
from inovda_shared.topology import INTAKE_EXCHANGE, SUBMISSION_QUEUE

from .service import IntakeDelivery, IntakeService


def register_handlers(broker: RabbitBroker, service: IntakeService) -> None:
    @broker.subscriber(SUBMISSION_QUEUE.queue(), INTAKE_EXCHANGE, ack_policy=AckPolicy.MANUAL, decoder=raw_body)
    async def on_intake(message: RabbitMessage) -> None:
        raw = message.raw_message
        delivery = IntakeDelivery(
            routing_key=routing_key_of(message),
            body=raw.body,
            message_id=raw.message_id,
            correlation_id=correlation_id_of(message, fallback=message.message_id),
        )
        await settle(broker, message, SUBMISSION_QUEUE, lambda: service.handle(delivery))
