"""The thin subscriber: decode the event by its routing key, hand it to the use case, settle it."""

import json

from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from inovda_shared.consumer import raw_body, settle, text_trace_headers
from inovda_shared.contracts.events import (
    InnovationScored,
    IntakeAnswer,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.messaging import correlation_id_of, routing_key_of
from inovda_shared.topology import EMAIL_RESEND_ROUTING_KEY, EVENTS_EXCHANGE, NOTIFICATION_QUEUE

from .service import NotificationService


def register_handlers(broker: RabbitBroker, service: NotificationService) -> None:
    # no_reply: a sender's reply_to must not make the service publish (FastStream answers it by default).
    @broker.subscriber(
        NOTIFICATION_QUEUE.queue(),
        EVENTS_EXCHANGE,
        ack_policy=AckPolicy.MANUAL,
        parser=text_trace_headers,
        decoder=raw_body,
        no_reply=True,
    )
    async def on_event(message: RabbitMessage) -> None:
        body = message.raw_message.body
        routing_key = routing_key_of(message)
        correlation_id = correlation_id_of(message, fallback=message.message_id)

        async def handle() -> None:
            if routing_key.startswith(("intake.accepted.", "intake.rejected.")):
                await service.on_answer(IntakeAnswer.model_validate_json(body), correlation_id)
            elif routing_key == UnitRegistered.routing_key:
                await service.on_unit_registered(UnitRegistered.model_validate_json(body))
            elif routing_key == RegionProfileUpdated.routing_key:
                await service.on_profile_updated(RegionProfileUpdated.model_validate_json(body))
            elif routing_key == InnovationScored.routing_key:
                await service.on_scored(InnovationScored.model_validate_json(body), correlation_id)
            elif routing_key == UnitComplianceUpdated.routing_key:
                await service.on_compliance(UnitComplianceUpdated.model_validate_json(body))
            elif routing_key == RegionIndexUpdated.routing_key:
                await service.on_index(RegionIndexUpdated.model_validate_json(body), correlation_id)
            elif routing_key == EMAIL_RESEND_ROUTING_KEY:
                await service.resend(json.loads(body)["dedupe_key"])

        await settle(broker, message, NOTIFICATION_QUEUE, handle)
