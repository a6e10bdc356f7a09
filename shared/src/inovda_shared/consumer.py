"""How every service settles a delivery: ack after the effect is stored, retry, or dead-letter with a reason.

- A transient infrastructure failure (MongoDB unreachable, broker publish failing) is retried in place
  with backoff, without counting against the message: the message is not at fault.
- Any other failure is a failed attempt: the message is requeued, and after MAX_DELIVERY_ATTEMPTS it is
  published to the dead-letter exchange with the error as its reason, then acknowledged.
- If the process dies on every attempt, the broker's own delivery limit dead-letters it (reason in x-death).
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aio_pika import IncomingMessage
from aio_pika.exceptions import AMQPError
from faststream.rabbit import RabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from .logs import correlation_id
from .messaging import ORIGINAL_ROUTING_KEY, correlation_id_of, routing_key_of
from .mongo import is_transient
from .observability import DEAD_LETTERS
from .topology import DEAD_LETTER_EXCHANGE, MAX_DELIVERY_ATTEMPTS, ServiceQueue

log = logging.getLogger(__name__)

DEATH_REASON = "x-inovda-death-reason"
DEATH_QUEUE = "x-inovda-death-queue"
DEATH_ATTEMPTS = "x-inovda-death-attempts"
DEATH_AT = "x-inovda-death-at"
ORIGINAL_USER_ID = "x-inovda-original-user-id"

TRANSIENT_RETRY_LIMIT = dt.timedelta(minutes=2)

T = TypeVar("T")


def delivery_count(message: RabbitMessage) -> int:
    """Earlier deliveries of this message (quorum queues count them in `x-delivery-count`)."""
    value = (message.headers or {}).get("x-delivery-count", 0)
    return int(value) if isinstance(value, int) else 0


def is_transient_failure(exc: BaseException) -> bool:
    return is_transient(exc) or isinstance(exc, AMQPError | ConnectionError | TimeoutError)


async def retry_transient(operation: Callable[[], Awaitable[T]], what: str) -> T:
    """Run `operation`, retrying transient infrastructure failures with capped exponential backoff."""
    deadline = dt.datetime.now(dt.UTC) + TRANSIENT_RETRY_LIMIT
    delay = 0.2
    while True:
        try:
            return await operation()
        except Exception as exc:
            if not is_transient_failure(exc) or dt.datetime.now(dt.UTC) > deadline:
                raise
            log.warning("%s failed transiently (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def dead_letter(broker: RabbitBroker, message: RabbitMessage, queue: ServiceQueue, reason: str) -> None:
    raw = message.raw_message
    headers: dict[str, Any] = dict(raw.headers or {})
    headers.pop("x-delivery-count", None)  # a replayed copy starts with a clean count
    headers.update(
        {
            DEATH_REASON: reason[:2000],
            DEATH_QUEUE: queue.name,
            DEATH_ATTEMPTS: delivery_count(message) + 1,
            DEATH_AT: dt.datetime.now(dt.UTC).isoformat(),
            ORIGINAL_ROUTING_KEY: routing_key_of(message),
        }
    )
    if raw.user_id:
        headers[ORIGINAL_USER_ID] = raw.user_id
    await broker.publish(
        raw.body,
        exchange=DEAD_LETTER_EXCHANGE,
        routing_key=queue.name,
        headers=headers,
        message_id=raw.message_id,
        correlation_id=raw.correlation_id,
        content_type=raw.content_type,
        persist=True,
    )


TRACE_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})


async def text_trace_headers(
    message: IncomingMessage, parse: Callable[[IncomingMessage], Awaitable[RabbitMessage]]
) -> RabbitMessage:
    """A parser that drops trace headers that are not text. The tracing middleware raises on those before
    the handler runs, and a delivery the handler never sees is never settled: a few such messages from a
    careless sender would take every prefetch slot and stall the queue."""
    parsed = await parse(message)
    parsed.headers = {
        name: value for name, value in parsed.headers.items() if name not in TRACE_HEADERS or isinstance(value, str)
    }
    return parsed


async def raw_body(message: RabbitMessage) -> bytes:
    """A decoder that leaves the body alone: handlers validate bytes themselves, so a body that is
    not JSON reaches them (and gets an answer) instead of failing inside the framework."""
    return message.body


async def settle(
    broker: RabbitBroker,
    message: RabbitMessage,
    queue: ServiceQueue,
    handle: Callable[[], Awaitable[None]],
) -> None:
    """Run the handler for one delivery and settle it: ack, requeue, or dead-letter with the reason."""
    correlation_id.set(correlation_id_of(message, fallback=str(message.message_id)))
    try:
        await retry_transient(handle, f"handling a message from {queue.name}")
    except Exception as exc:
        attempts = delivery_count(message) + 1
        reason = f"{type(exc).__name__}: {exc}"
        if attempts >= MAX_DELIVERY_ATTEMPTS:
            log.error("dead-lettering a message from %s after %d attempts: %s", queue.name, attempts, reason)
            await dead_letter(broker, message, queue, reason)
            DEAD_LETTERS.labels(queue=queue.name).inc()
            await message.ack()
        else:
            log.warning("attempt %d on %s failed: %s", attempts, queue.name, reason, exc_info=exc)
            await asyncio.sleep(min(0.2 * 2**attempts, 5.0))
            await message.nack(requeue=True)
        return
    await message.ack()
