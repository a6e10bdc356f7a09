"""How every service consumes its queue: one subscriber per queue, one typed handler per routing key, and
each delivery settled the same way (`Settlement`).

- A delivery is acknowledged only after its handler returned: its effect is stored and its events published.
  A handler tells a delivery that may follow a handling cut short (`handled_before`) from a first delivery.
- A transient infrastructure failure (MongoDB unreachable, broker publish failing) is retried in place
  (`retry_transient`), without counting against the message: the message is not at fault.
- Any other failure (a body that does not decode into the handler's model, a rule that refuses it) is a
  failed attempt: the message is requeued, and after MAX_DELIVERY_ATTEMPTS it is published to the
  dead-letter exchange with the error as its reason, then acknowledged.
- If the process dies on every attempt, the broker's own delivery limit dead-letters it (reason in x-death).
- A dead letter keeps the routing key and broker-checked sender of its message, under the service's seal: a
  replay is taken as what it was, and nothing else written into the queue is (`inovda_shared.provenance`).
"""

import asyncio
import contextvars
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Annotated, Any

from faststream._internal.context import Context
from faststream._internal.middlewares import BaseMiddleware
from faststream.middlewares import AckPolicy
from faststream.rabbit import RabbitBroker, RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from faststream.rabbit.message import RabbitMessage as IncomingRabbitMessage
from faststream.rabbit.subscriber import RabbitSubscriber
from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from .logs import correlation_id
from .messaging import ORIGINAL_ROUTING_KEY, correlation_id_of, routing_key_of
from .observability import DEAD_LETTERS
from .provenance import ORIGINAL_USER_ID, SEAL, DeadLetterSeal, original_user_of, trusted_headers, unvouched
from .retry import Backoff, retry_transient
from .topology import DEAD_LETTER_EXCHANGE, MAX_DELIVERY_ATTEMPTS, ServiceQueue

log = logging.getLogger(__name__)

# What a dead letter says of its death; `inovda dlq` reads them.
DEATH_REASON = "x-inovda-death-reason"
DEATH_QUEUE = "x-inovda-death-queue"
DEATH_ATTEMPTS = "x-inovda-death-attempts"
DEATH_AT = "x-inovda-death-at"

# The pause before a failed delivery goes back to its queue: a failure that repeats does not spin.
REDELIVERY_BACKOFF = Backoff(first=0.4, cap=5.0)


# Set while Settlement runs a delivery's handler again in place, after a transient failure.
_RETRIED_IN_PLACE: contextvars.ContextVar[bool] = contextvars.ContextVar("retried_in_place", default=False)


def handled_before(message: RabbitMessage) -> bool:
    """Whether an earlier handling of this very delivery may have stopped short of publishing its events: the
    broker redelivers it, Settlement runs it again after a transient failure, or it comes through the default
    exchange (a dead letter's replay, an operator's command). A first delivery of a copy (a sender re-sending,
    a duplicate on another replica) is not: whoever handled the first copy publishes, or its message returns."""
    raw = message.raw_message
    return bool(raw.redelivered) or not raw.exchange or _RETRIED_IN_PLACE.get()


def delivery_count(message: RabbitMessage) -> int:
    """Earlier deliveries of this message (quorum queues count them in `x-delivery-count`)."""
    value = (message.headers or {}).get("x-delivery-count", 0)
    return int(value) if isinstance(value, int) else 0


async def publish_dead_letter(
    broker: RabbitBroker,
    queue: ServiceQueue,
    body: bytes,
    *,
    reason: str,
    attempts: int,
    routing_key: str,
    message_id: str | None,
    correlation_id: str | None,
    content_type: str | None = "application/json",
    headers: dict[str, Any] | None = None,
) -> None:
    """Put a message in `queue`'s dead-letter queue with why it died there and how to replay it."""
    death: dict[str, Any] = {
        DEATH_REASON: reason[:2000],
        DEATH_QUEUE: queue.name,
        DEATH_ATTEMPTS: attempts,
        DEATH_AT: dt.datetime.now(dt.UTC).isoformat(),
        ORIGINAL_ROUTING_KEY: routing_key,
    }
    await broker.publish(
        body,
        exchange=DEAD_LETTER_EXCHANGE,
        routing_key=queue.name,
        headers={**(headers or {}), **death},
        message_id=message_id,
        correlation_id=correlation_id,
        content_type=content_type,
        persist=True,
    )


async def dead_letter(
    broker: RabbitBroker, message: RabbitMessage, queue: ServiceQueue, reason: str, seal: DeadLetterSeal
) -> None:
    """Dead-letter a delivery with its provenance, sealed (`inovda_shared.provenance`): its routing key and its
    broker-checked sender, so that a replay is taken as what it was. Its other headers are what the parser
    left: none a sender set under `x-inovda-`."""
    raw = message.raw_message
    headers: dict[str, Any] = dict(message.headers)
    headers.pop("x-delivery-count", None)  # a replayed copy starts with a clean count
    for stamped in (SEAL, ORIGINAL_USER_ID):
        headers.pop(stamped, None)
    routing_key, user = routing_key_of(message), original_user_of(message)
    if user:
        headers[ORIGINAL_USER_ID] = user
    headers[SEAL] = seal.of(queue.name, routing_key, user, raw.body)
    await publish_dead_letter(
        broker,
        queue,
        raw.body,
        reason=reason,
        attempts=delivery_count(message) + 1,
        routing_key=routing_key,
        message_id=raw.message_id,
        correlation_id=raw.correlation_id,
        content_type=raw.content_type,
        headers=headers,
    )


class _ContextOnTheLoop(Context):
    """FastStream's context field, read on the event loop: fast_depends runs a synchronous `use` in a worker
    thread, a thread hop per message for a dictionary lookup."""

    async def use(self, /, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return super().use(**kwargs)


# A handler's or dependency's `message: CurrentMessage`: FastStream's `RabbitMessage`, without the thread hop.
CurrentMessage = Annotated[IncomingRabbitMessage, _ContextOnTheLoop("message")]


async def raw_body(message: RabbitMessage) -> bytes:
    """The decoder of every service queue: it leaves the body alone. The intake validates the bytes itself (a
    body that is not JSON must still get an answer with its reasons); the other handlers' models read it with
    `FROM_JSON`."""
    return message.body


class _FromJson:
    """Reads a handler's model from the raw body in JSON mode. FastStream's own decoding validates a parsed
    dict in Python mode, where the strict contract models refuse a date written as JSON writes it."""

    def __get_pydantic_core_schema__(self, source: type[BaseModel], handler: GetCoreSchemaHandler) -> CoreSchema:
        def from_json(body: Any) -> Any:
            return source.model_validate_json(body) if isinstance(body, bytes | str) else body

        return core_schema.no_info_before_validator_function(from_json, handler(source))


# `event: Annotated[InnovationSubmitted, FROM_JSON]`
FROM_JSON = _FromJson()


def routed(*bindings: str) -> Callable[[RabbitMessage], Awaitable[bool]]:
    """A handler filter: the message was published with a routing key matching one of these topic bindings
    (`*` one word, `#` any number), or, replayed from a dead letter, first was."""

    async def published_with(message: RabbitMessage) -> bool:
        key = routing_key_of(message).split(".")
        return not message.processed and any(_topic_matches(binding.split("."), key) for binding in bindings)

    published_with.__name__ = f"routed({', '.join(bindings)})"
    return published_with


def _topic_matches(binding: list[str], key: list[str]) -> bool:
    if not binding:
        return not key
    if binding[0] == "#":
        return any(_topic_matches(binding[1:], key[start:]) for start in range(len(key) + 1))
    return bool(key) and binding[0] in ("*", key[0]) and _topic_matches(binding[1:], key[1:])


class Settlement:
    """The subscriber middleware that settles every delivery of a service's queue (see the module's text)."""

    def __init__(self, queue: ServiceQueue, seal: DeadLetterSeal) -> None:
        self.queue = queue
        self.seal = seal

    def __call__(self, msg: Any, /, *, context: Any) -> "_Settling":
        return _Settling(msg, context=context, queue=self.queue, seal=self.seal)


class _Settling(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, queue: ServiceQueue, seal: DeadLetterSeal) -> None:
        super().__init__(msg, context=context)
        self._queue = queue
        self._seal = seal

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        message: RabbitMessage = msg
        correlation_id.set(correlation_id_of(message, fallback=str(message.message_id)))
        if unvouched(message):
            log.warning(
                "a message written straight into %s without this service's seal (message id %s): taken without "
                "the routing key and sender it names",
                self._queue.name,
                message.message_id,
            )
        tries = 0

        async def handle() -> Any:
            nonlocal tries
            _RETRIED_IN_PLACE.set(tries > 0)
            tries += 1
            return await call_next(message)

        try:
            result = await retry_transient(handle, f"handling a message from {self._queue.name}")
        except Exception as exc:
            await self._failed(message, exc)
            return None
        await message.ack()
        return result

    async def _failed(self, message: RabbitMessage, exc: Exception) -> None:
        attempts = delivery_count(message) + 1
        reason = f"{type(exc).__name__}: {exc}"
        if attempts >= MAX_DELIVERY_ATTEMPTS:
            log.error("dead-lettering a message from %s after %d attempts: %s", self._queue.name, attempts, reason)
            await dead_letter(self.context.get("broker"), message, self._queue, reason, self._seal)
            DEAD_LETTERS.labels(queue=self._queue.name).inc()
            await message.ack()
        else:
            log.warning("attempt %d on %s failed: %s", attempts, self._queue.name, reason, exc_info=exc)
            await asyncio.sleep(REDELIVERY_BACKOFF.seconds(attempts))
            await message.nack(requeue=True)


def service_subscriber(
    queue: ServiceQueue, seal: DeadLetterSeal, operator_commands: Collection[str] = ()
) -> tuple[RabbitRouter, RabbitSubscriber]:
    """The router of a service and the one subscriber of its queue, on which its handlers register one per
    routing key (`@subscriber(filter=routed(key))`). Acknowledged by `Settlement` only, never on a sender's
    `reply_to` (FastStream answers it by default: a sender could make the service publish). Dead letters are
    sealed with `seal`, and only a sealed replay or one of `operator_commands` arrives through the default
    exchange as what it names (`inovda_shared.provenance`)."""
    router = RabbitRouter(middlewares=[Settlement(queue, seal)])
    subscriber = router.subscriber(
        queue.queue(),
        queue.exchange,
        ack_policy=AckPolicy.MANUAL,
        parser=trusted_headers(queue.name, seal, operator_commands),
        decoder=raw_body,
        no_reply=True,
        title=queue.name,
    )
    return router, subscriber
