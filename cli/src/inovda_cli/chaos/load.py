"""The load generator: publishing as the outside systems do (each broker user its own, confirmed, through
broker restarts), in waves and bursts, and the redelivered copies of events already handled."""

import asyncio
import contextlib
import json
import sys
from collections.abc import Iterable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractExchange

from inovda_shared.topology import EVENTS_EXCHANGE, INTAKE_EXCHANGE

from .cluster import Cluster
from .dataset import Dataset, Intake
from .forms import YEAR, Form, now
from .watcher import INJECTED, Watcher


class Publisher:
    """One broker user's confirmed publishing, reconnecting (and publishing again) through broker restarts."""

    def __init__(self, url: str, exchange: str, user_id: str | None) -> None:
        self._url = url
        self._exchange_name = exchange
        self._user_id = user_id
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()
        self.retries = 0

    async def _ensure(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is None:
                self._connection = await aio_pika.connect(self._url, timeout=10)
                channel = await self._connection.channel(publisher_confirms=True)
                self._exchange = await channel.get_exchange(self._exchange_name, ensure=False)
            return self._exchange

    async def _drop(self) -> None:
        async with self._lock:
            connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)

    async def publish(
        self,
        body: bytes,
        routing_key: str,
        message_id: str,
        headers: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        within: float = 300,
    ) -> None:
        deadline = now() + within
        while True:
            try:
                exchange = await self._ensure()
                message = aio_pika.Message(
                    body,
                    content_type="application/json",
                    message_id=message_id,
                    correlation_id=correlation_id,
                    user_id=self._user_id,
                    headers=headers,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                )
                await exchange.publish(message, routing_key=routing_key, timeout=15)
                return
            except Exception:  # the broker is away or refused the confirm: publish again (same message id)
                if now() > deadline:
                    raise
                self.retries += 1
                await self._drop()
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        await self._drop()


class Load:
    def __init__(self, cluster: Cluster, watcher: Watcher, dataset: Dataset, form: Form) -> None:
        self.cluster = cluster
        self.watcher = watcher
        self.dataset = dataset
        self.form = form
        users = list(cluster.access["outside_systems"])
        self.publishers = {user: Publisher(cluster.user_url(user), INTAKE_EXCHANGE.name, user) for user in users}
        self.operator = Publisher(cluster.rabbit.url(), EVENTS_EXCHANGE.name, None)
        self.t0 = now()
        # (service, kind, when it began, when the process was gone): to tell what a doubled email followed
        self.replica_faults: list[tuple[str, str, float, float]] = []
        self.waves: dict[str, float] = {}
        self._bursts: list[asyncio.Task[None]] = []

    async def send(self, batch: Iterable[Intake], rate: float | None = None) -> None:
        interval = 1.0 / (rate or self.form.publish_rate)
        for intake in batch:
            started = now()
            await self.publishers[intake.user].publish(intake.body, intake.routing_key, intake.message_id)
            intake.published += 1
            await asyncio.sleep(max(0.0, interval - (now() - started)))

    async def wave(self, name: str, batch: list[Intake], within: float = 900) -> None:
        started = now()
        await self.send(batch)
        ids = {intake.message_id for intake in batch}
        answered = await self.watcher.until(lambda: ids <= self.watcher.answered, within)
        self.waves[name] = round(now() - started, 1)
        print(f"  wave {name}: {len(batch)} published, answered {'all' if answered else 'NOT all'}", file=sys.stderr)

    async def burst(self, count: int) -> None:
        """New innovations all at once: the work a kill or SIGTERM lands in."""
        task = asyncio.current_task()
        if task is not None:
            self._bursts.append(task)
        await self.send(self.dataset.new_innovations(count), rate=200)

    async def finish(self) -> None:
        current = asyncio.current_task()
        await asyncio.gather(*(task for task in self._bursts if task is not current), return_exceptions=True)

    async def redeliver(self) -> dict[str, Any]:
        """Exact copies of events already handled, and an older revision's event after a newer one."""
        copies = 0
        for prefix in ("intake.accepted.", "innovation.submitted", "innovation.scored", "region.index.updated"):
            events = self.watcher.of(prefix)
            for event in self.dataset.rng.sample(events, k=min(len(events), 12)):
                await self.operator.publish(
                    json.dumps(event.body).encode(),
                    event.routing_key,
                    event.message_id,
                    headers={INJECTED: 1},
                    correlation_id=event.correlation_id,
                )
                copies += 1
        # An older revision arriving late, under a message id nobody has seen (so only its revision tells).
        submitted = {
            (event.body["innovation"]["external_id"], event.body["revision"]): event
            for event in self.watcher.of("innovation.submitted")
        }
        late = []
        for innovation in self.dataset.innovations.values():
            older = submitted.get((innovation.external_id, 1))
            if len(innovation.revisions) >= 2 and innovation.year == YEAR and older is not None:
                late.append((innovation.external_id, older))
        late = self.dataset.rng.sample(late, k=min(len(late), 8))
        sent_at = now()
        for external_id, event in late:
            await self.operator.publish(
                json.dumps(event.body).encode(),
                event.routing_key,
                f"chaos-late-{external_id}-r1",
                headers={INJECTED: 1},
                correlation_id=event.correlation_id,
            )
        return {"copies": copies, "late_older_revisions": [external_id for external_id, _ in late], "at": sent_at}

    async def close(self) -> None:
        for publisher in [*self.publishers.values(), self.operator]:
            await publisher.close()
