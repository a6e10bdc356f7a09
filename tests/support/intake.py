"""Publishing to the intake as an outside system does, with `user_id` (or, to test that, without)."""

import json
import uuid
from typing import Any

import aio_pika
from yarl import URL

from inovda_shared.topology import INTAKE_EXCHANGE

CONNECTION_USER = ""  # `user_id`: the connection's own user, the only one the broker lets it name


def broker_user(amqp_url: str) -> str:
    return str(URL(amqp_url).user)


async def publish_as_user(
    amqp_url: str,
    routing_key: str,
    body: dict[str, Any],
    message_id: str | None = None,
    user_id: str | None = CONNECTION_USER,
    headers: dict[str, Any] | None = None,
) -> str:
    """Published with confirms, with `user_id` (None: none); returns the message id."""
    message_id = message_id or uuid.uuid4().hex
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(INTAKE_EXCHANGE.name, ensure=False)
        message = aio_pika.Message(
            json.dumps(body).encode(),
            message_id=message_id,
            user_id=broker_user(amqp_url) if user_id == CONNECTION_USER else user_id,
            headers=headers,
            content_type="application/json",
        )
        await exchange.publish(message, routing_key=routing_key)
    return message_id
