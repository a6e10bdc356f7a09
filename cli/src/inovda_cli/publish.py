"""Publishing intake messages the way an outside system does: persistent, JSON, with confirms."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika

from inovda_shared.topology import INTAKE_EXCHANGE


@dataclass(frozen=True)
class IntakeMessage:
    routing_key: str
    body: bytes
    message_id: str | None = None

    @classmethod
    def of(cls, routing_key: str, body: dict[str, Any], message_id: str | None = None) -> "IntakeMessage":
        return cls(routing_key, json.dumps(body).encode(), message_id)


def read_messages(path: Path) -> Iterator[IntakeMessage]:
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                body = entry["body"]
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                yield IntakeMessage(entry["routing_key"], raw, entry.get("message_id"))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{file}:{number}: expected {{routing_key, body[, message_id]}}: {exc}") from exc


async def publish_messages(amqp_url: str, messages: list[IntakeMessage]) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(INTAKE_EXCHANGE.name)
        for message in messages:
            await exchange.publish(
                aio_pika.Message(
                    message.body,
                    content_type="application/json",
                    message_id=message.message_id,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=message.routing_key,
            )
    return len(messages)


async def publish_path(amqp_url: str, path: str) -> int:
    return await publish_messages(amqp_url, list(read_messages(Path(path))))
