"""Inspecting and replaying dead-lettered messages (`inovda dlq`), and asking for emails again (`inovda emails`).

A dead letter comes either from a service (its reason in `x-inovda-death-reason`) or from the broker
itself when the delivery limit was hit (its reason in `x-death`). Replaying publishes the message back
to the queue it died in, which is the dead-letter queue's name less `.dead` (never what a header says),
through the default exchange, keeping its original routing key and the service's seal in its headers: the
service believes them only under its own seal (`inovda_shared.provenance`).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from aiormq.exceptions import ChannelNotFoundEntity

from inovda_shared.consumer import DEATH_AT, DEATH_ATTEMPTS, DEATH_REASON
from inovda_shared.contracts.commands import EmailResend
from inovda_shared.messaging import ORIGINAL_ROUTING_KEY
from inovda_shared.topology import NOTIFICATION_QUEUE, SERVICE_QUEUES

REPLAYED = "x-inovda-replayed"


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str | None
    routing_key: str
    reason: str
    attempts: int | None
    died_at: str | None
    body: bytes

    def preview(self, limit: int = 200) -> str:
        text = self.body[:limit].decode("utf-8", errors="replace")
        return text + ("..." if len(self.body) > limit else "")


def describe(message: AbstractIncomingMessage, dead_letter_queue: str) -> DeadLetter:
    headers: dict[str, Any] = dict(message.headers or {})
    deaths = headers.get("x-death") or []
    first_death: dict[str, Any] = deaths[0] if deaths and isinstance(deaths[0], dict) else {}
    routing_keys = first_death.get("routing-keys") or [message.routing_key or ""]
    death_time = first_death.get("time")
    return DeadLetter(
        queue=dead_letter_queue.removesuffix(".dead"),
        message_id=message.message_id,
        routing_key=str(headers.get(ORIGINAL_ROUTING_KEY) or routing_keys[0]),
        reason=str(headers.get(DEATH_REASON) or f"broker: {first_death.get('reason', 'unknown')}"),
        attempts=_int(headers.get(DEATH_ATTEMPTS) or first_death.get("count")),
        died_at=str(headers.get(DEATH_AT) or (death_time.isoformat() if isinstance(death_time, dt.datetime) else ""))
        or None,
        body=message.body,
    )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) else None


def dead_letter_queues(queue: str | None) -> list[str]:
    names = [spec.name for spec in SERVICE_QUEUES if queue in (None, spec.name, spec.dead_letter_name)]
    if not names:
        raise ValueError(f"unknown queue '{queue}'; known: {', '.join(spec.name for spec in SERVICE_QUEUES)}")
    return [f"{name}.dead" for name in names]


async def _existing_queue(channel: AbstractChannel, name: str) -> AbstractQueue | None:
    """The queue, or None where it was never declared (its service has not run against this broker)."""
    try:
        return await channel.get_queue(name, ensure=True)
    except ChannelNotFoundEntity:
        return None


async def list_dead_letters(amqp_url: str, queue: str | None = None, limit: int = 100) -> list[DeadLetter]:
    """Read dead letters without removing them: they return to their queue when the channel closes."""
    found: list[DeadLetter] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for name in dead_letter_queues(queue):
            channel = await connection.channel()
            dead_queue = await _existing_queue(channel, name)
            while dead_queue is not None and len(found) < limit:
                message = await dead_queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                found.append(describe(message, name))
            if not channel.is_closed:
                await channel.close()
    return found


async def replay_dead_letters(
    amqp_url: str, queue: str | None = None, message_id: str | None = None, limit: int = 1000
) -> list[DeadLetter]:
    """Send dead letters back to the queue they died in; with `message_id`, only that one."""
    replayed: list[DeadLetter] = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for name in dead_letter_queues(queue):
            channel = await connection.channel(publisher_confirms=True)
            dead_queue = await _existing_queue(channel, name)
            skipped: list[AbstractIncomingMessage] = []
            while dead_queue is not None and len(replayed) < limit:
                message = await dead_queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                if message_id is not None and message.message_id != message_id:
                    skipped.append(message)
                    continue
                letter = describe(message, name)
                await channel.default_exchange.publish(_revived(message, letter), routing_key=letter.queue)
                await message.ack()
                replayed.append(letter)
            for message in skipped:
                await message.nack(requeue=True)
            if not channel.is_closed:
                await channel.close()
    return replayed


def _revived(message: AbstractIncomingMessage, letter: DeadLetter) -> aio_pika.Message:
    headers = {
        key: value
        for key, value in (message.headers or {}).items()
        if key
        not in ("x-death", "x-delivery-count", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason")
        and not key.startswith("x-inovda-death")
    }
    headers[ORIGINAL_ROUTING_KEY] = letter.routing_key
    headers[REPLAYED] = (_int(headers.get(REPLAYED)) or 0) + 1
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


async def request_email_resends(amqp_url: str, dedupe_keys: list[str]) -> None:
    """Ask the notification service to send these emails again: one that failed, or one recorded as sent
    without the mail server's confirmation (in doubt after a crash) that the mail server's log does not
    have. An email the server confirmed is never sent again."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for key in dedupe_keys:
            message = aio_pika.Message(
                EmailResend(dedupe_key=key).model_dump_json().encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=f"resend:{key}:{dt.datetime.now(dt.UTC).isoformat()}",
                headers={ORIGINAL_ROUTING_KEY: EmailResend.routing_key},
            )
            await channel.default_exchange.publish(message, routing_key=NOTIFICATION_QUEUE.name)
