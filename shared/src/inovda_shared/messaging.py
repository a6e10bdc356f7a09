"""Publishing Inovda's events: confirmed, persistent, with stable message ids and the correlation id."""

import asyncio
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage
from pydantic import BaseModel

from .topology import EVENTS_EXCHANGE

JSON = "application/json"
ORIGINAL_ROUTING_KEY = "x-inovda-original-routing-key"


@dataclass(frozen=True)
class OutgoingEvent:
    """An event ready to publish, in a form that can be stored in an outbox document."""

    routing_key: str
    message_id: str
    body: str
    correlation_id: str

    @classmethod
    def of(cls, event: BaseModel, routing_key: str, message_id: str, correlation_id: str) -> "OutgoingEvent":
        return cls(routing_key, message_id, event.model_dump_json(), correlation_id)

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "OutgoingEvent":
        return cls(document["routing_key"], document["message_id"], document["body"], document["correlation_id"])


async def publish_events(broker: RabbitBroker, events: Iterable[OutgoingEvent]) -> None:
    """Publish on `inovda.events` and wait for every broker confirm (they are awaited concurrently)."""
    await asyncio.gather(
        *(
            broker.publish(
                event.body.encode(),
                exchange=EVENTS_EXCHANGE,
                routing_key=event.routing_key,
                message_id=event.message_id,
                correlation_id=event.correlation_id,
                content_type=JSON,
                message_type=event.routing_key,
                persist=True,
            )
            for event in events
        )
    )


def routing_key_of(message: RabbitMessage) -> str:
    """The routing key the message was first published with, also after a dead-letter replay.

    Only the operator writes through the default exchange (a replay, a command); the service's parser keeps the
    header only where it may be believed (`inovda_shared.provenance`), and on any other delivery it is ignored.
    """
    raw = message.raw_message
    original = message.headers.get(ORIGINAL_ROUTING_KEY)
    if not raw.exchange and isinstance(original, str) and original:
        return original
    return str(raw.routing_key or "")


def correlation_id_of(message: RabbitMessage, fallback: str) -> str:
    raw = message.raw_message
    return str(raw.correlation_id or raw.message_id or fallback)
