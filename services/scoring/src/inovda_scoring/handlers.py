"""The thin subscriber: decode the event by its routing key, hand it to the use case, settle it."""

import hashlib

from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from inovda_shared.consumer import raw_body, settle, text_trace_headers
from inovda_shared.contracts.events import InnovationSubmitted, RegionProfileUpdated, UnitRegistered
from inovda_shared.messaging import correlation_id_of, routing_key_of
from inovda_shared.topology import EVENTS_EXCHANGE, SCORING_QUEUE

from .service import Incoming, ScoringService


def register_handlers(broker: RabbitBroker, service: ScoringService) -> None:
    # no_reply: a sender's reply_to must not make the service publish (FastStream answers it by default).
    @broker.subscriber(
        SCORING_QUEUE.queue(),
        EVENTS_EXCHANGE,
        ack_policy=AckPolicy.MANUAL,
        parser=text_trace_headers,
        decoder=raw_body,
        no_reply=True,
    )
    async def on_event(message: RabbitMessage) -> None:
        raw = message.raw_message
        routing_key = routing_key_of(message)
        incoming = Incoming(
            key=raw.message_id or hashlib.sha256(routing_key.encode() + b"\0" + raw.body).hexdigest(),
            correlation_id=correlation_id_of(message, fallback=message.message_id),
        )

        async def handle() -> None:
            if routing_key == InnovationSubmitted.routing_key:
                await service.on_innovation_submitted(InnovationSubmitted.model_validate_json(raw.body), incoming)
            elif routing_key == UnitRegistered.routing_key:
                await service.on_unit_registered(UnitRegistered.model_validate_json(raw.body), incoming)
            elif routing_key == RegionProfileUpdated.routing_key:
                await service.on_profile_updated(RegionProfileUpdated.model_validate_json(raw.body), incoming)

        await settle(broker, message, SCORING_QUEUE, handle)
