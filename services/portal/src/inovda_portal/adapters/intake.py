"""The portal as an outside system: it publishes what people report to `inovda.intake`, like any other, so
that validation, storage and answers are the intake's own."""

import json
from typing import Any
from urllib.parse import unquote, urlsplit

from faststream.rabbit import RabbitBroker, RabbitExchange

from inovda_shared.messaging import JSON
from inovda_shared.topology import INTAKE_EXCHANGE

# The intake exchange as a publisher sees it: there already (the submission service and the broker's
# definitions declare it), used without declaring it, which the portal's broker user may not do.
INTAKE = RabbitExchange(INTAKE_EXCHANGE.name, type=INTAKE_EXCHANGE.type, durable=True, declare=False)


def broker_user(amqp_url: str) -> str:
    """The broker user of the portal's connection: the `user_id` it publishes with (the broker refuses any
    other, and the intake maps it to the portal's source)."""
    return unquote(urlsplit(amqp_url).username or "guest")


class IntakePublisher:
    def __init__(self, broker: RabbitBroker, user_id: str) -> None:
        self._broker = broker
        self._user_id = user_id

    async def publish(self, routing_key: str, body: dict[str, Any], message_id: str, correlation_id: str) -> None:
        """Published persistent and confirmed: once this returns, the broker has the message."""
        await self._broker.publish(
            json.dumps(body, ensure_ascii=False).encode(),
            exchange=INTAKE,
            routing_key=routing_key,
            message_id=message_id,
            correlation_id=correlation_id,
            user_id=self._user_id,
            content_type=JSON,
            persist=True,
        )
