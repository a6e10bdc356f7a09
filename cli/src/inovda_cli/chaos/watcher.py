"""What comes out: every event on `inovda.events`, watched through broker restarts."""

import asyncio
import contextlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection

from inovda_shared.topology import EVENTS_EXCHANGE

from .forms import now

WATCH_QUEUE = "chaos.watch"
CONSUMER_CHECK_SECONDS = 2.0
INJECTED = "x-chaos-injected"  # the header on the copies the run injects


@dataclass(frozen=True)
class Seen:
    routing_key: str
    message_id: str
    correlation_id: str | None
    body: dict[str, Any]
    at: float
    injected: bool


class Watcher:
    """A durable quorum queue bound to `inovda.events` with `#`, consumed through broker restarts."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.events: list[Seen] = []  # first copy of each event message id, in arrival order
        self.copies: Counter[str] = Counter()  # deliveries per message id (at-least-once: repeats happen)
        # Copies published per message id (an outbox relay's repeat, this harness's injected copies), not
        # counting the watch queue's own redeliveries after a broker restart.
        self.publications: Counter[str] = Counter()
        self.answered: set[str] = set()  # intake message ids with an answer
        self.changed = asyncio.Event()
        self.last_at = now()
        self.consumers_restored = 0  # times the watcher found its queue without a consumer and consumed again
        self._connection: AbstractRobustConnection | None = None
        self._keeping: asyncio.Task[None] | None = None
        self.queue: AbstractQueue | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=200)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE.name)
        queue = await channel.declare_queue(WATCH_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        await queue.bind(exchange, routing_key="#")
        await queue.consume(self._on_message)
        self.queue = queue
        self._keeping = asyncio.create_task(self._keep_consuming(queue))

    async def stop(self) -> None:
        if self._keeping is not None:
            self._keeping.cancel()
            await asyncio.gather(self._keeping, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()

    async def _keep_consuming(self, queue: AbstractQueue) -> None:
        """aio-pika's robust connection consumes again after a broker restart, but once it did not (CI,
        2026-12-01: the watcher reconnected without a consumer and saw nothing more, so every fault after the
        first broker restart waited out its timeout): the watcher looks at its queue and consumes again."""
        while True:
            await asyncio.sleep(CONSUMER_CHECK_SECONDS)
            try:
                declared = await queue.declare(timeout=5)
                if declared.consumer_count == 0:
                    await queue.consume(self._on_message)
                    self.consumers_restored += 1
            except Exception:  # the broker away: the robust connection reconnects, and the next look decides
                continue

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        key = message.message_id or f"no-id:{hash(message.body)}"
        injected = bool((message.headers or {}).get(INJECTED))
        self.copies[key if not injected else f"injected:{key}"] += 1
        if not message.redelivered:
            self.publications[key] += 1
        if not injected and self.copies[key] == 1:
            try:
                body = json.loads(message.body)
            except ValueError:
                body = {"unreadable": message.body[:200].decode(errors="replace")}
            self.events.append(Seen(message.routing_key or "", key, message.correlation_id, body, now(), False))
            if (message.routing_key or "").startswith("intake."):
                self.answered.add(str(body.get("message_id")))
        self.last_at = now()
        self.changed.set()
        await message.ack()

    def of(self, routing_key_prefix: str) -> list[Seen]:
        return [event for event in self.events if event.routing_key.startswith(routing_key_prefix)]

    def answers(self) -> dict[str, list[Seen]]:
        by_intake: dict[str, list[Seen]] = defaultdict(list)
        for event in self.of("intake."):
            by_intake[str(event.body.get("message_id"))].append(event)
        return by_intake

    async def until(self, condition: Callable[[], bool], within: float) -> bool:
        deadline = now() + within
        while not condition():
            self.changed.clear()
            remaining = deadline - now()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 1.0))
        return True
