"""Watching what Inovda publishes: a private queue bound to `inovda.events`."""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from inovda_shared.topology import EVENTS_EXCHANGE


@dataclass(frozen=True)
class SeenEvent:
    routing_key: str
    message_id: str | None
    correlation_id: str | None
    body: dict[str, Any]


class EventProbe:
    def __init__(self, amqp_url: str, binding: str = "#") -> None:
        self._url = amqp_url
        self._binding = binding
        self.events: list[SeenEvent] = []
        self._arrived = asyncio.Condition()

    async def __aenter__(self) -> "EventProbe":
        self._connection = await aio_pika.connect(self._url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE.name, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=self._binding)
        await queue.consume(self._on_message, no_ack=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with self._arrived:
            self.events.append(
                SeenEvent(
                    message.routing_key or "", message.message_id, message.correlation_id, json.loads(message.body)
                )
            )
            self._arrived.notify_all()

    def matching(self, routing_key: str, where: Callable[[dict[str, Any]], bool] = lambda _: True) -> list[SeenEvent]:
        return [e for e in self.events if _matches(routing_key, e.routing_key) and where(e.body)]

    async def wait_for(
        self,
        routing_key: str,
        where: Callable[[dict[str, Any]], bool] = lambda _: True,
        count: int = 1,
        timeout: float = 15.0,
    ) -> list[SeenEvent]:
        async def enough() -> list[SeenEvent]:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.matching(routing_key, where)) >= count)
                return self.matching(routing_key, where)

        try:
            return await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            seen = [f"{e.routing_key} {e.message_id}" for e in self.events]
            raise AssertionError(f"no {count} x {routing_key} within {timeout}s; seen: {seen}") from None


def _matches(pattern: str, routing_key: str) -> bool:
    """Topic-exchange matching for one-word wildcards (`*`) and a trailing `#`."""
    if pattern.endswith("#"):
        return routing_key.startswith(pattern[:-1])
    words, keys = pattern.split("."), routing_key.split(".")
    return len(words) == len(keys) and all(w in ("*", k) for w, k in zip(words, keys, strict=True))
