"""An estimate of the least CPU this stack spends on what one innovation and one intake message take, for
`make bench` (issue 15): the unit costs of a database command, a consumed delivery and a confirmed publish,
each timed alone on the same servers in the same run, times how many of each the services took (`bench_cost`).

- A database command: one single-document `find` (by `_id`), `insert`, `update` (`$set` by `_id`) or `delete`
  (by `_id`) of a 2 KB document from PyMongo's `AsyncMongoClient`, 8 in flight: the client's CPU and FerretDB's.
- A delivery: one 2 KB message consumed by a FastStream subscriber with the services' middlewares (tracing,
  Prometheus) and decoder, acknowledged by hand, prefetch 32, from a quorum queue: the client's CPU and
  RabbitMQ's (the connection is made before the timing starts).
- A publish: one 2 KB message published by FastStream with the same middlewares, with confirms, 8 in flight, to
  one quorum queue: the client's CPU and RabbitMQ's.

The floor leaves out everything else the services do (validating, scoring, composing and sending emails,
logging, the outbox relay's loop). It is an estimate, not a bound, and it errs both ways: a batched insert or a
publish routed to several queues is priced as the single one timed here, a command of another kind (`getMore`,
`createIndexes`, ...) as nothing; a lock or a pending key is smaller than the 2 KB timed, and the servers' own
background work falls into each timing.

    .venv/bin/python scripts/bench.py --cost-only   # the cost per innovation with its floor
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import aio_pika
import bench_cost
from faststream.middlewares import AckPolicy
from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage
from faststream.rabbit.schemas import Channel
from pymongo import AsyncMongoClient

from inovda_shared.consumer import raw_body
from inovda_shared.mongo import Document
from inovda_shared.observability import prometheus_middleware, telemetry_middlewares
from inovda_shared.settings import ServiceSettings

COMMANDS = ("find", "insert", "update", "delete")
IN_FLIGHT = 8
TARGET_INTAKE_PER_S = 150.0
BODY = b'{"pad": "' + b"x" * 2000 + b'"}'  # about an event's size


@dataclass(frozen=True)
class UnitCost:
    client_ms: float  # this process
    server_ms: float  # FerretDB or RabbitMQ

    @property
    def ms(self) -> float:
        return self.client_ms + self.server_ms


@dataclass(frozen=True)
class UnitCosts:
    commands: dict[str, UnitCost]  # by command name
    consume: UnitCost  # a delivery
    publish: UnitCost  # a confirmed publish

    def of_commands(self, counts: Mapping[str, float]) -> float:
        """Commands of a kind not timed here (`getMore`, `createIndexes`, ...) count as nothing."""
        return sum(count * self.commands[name].ms for name, count in counts.items() if name in self.commands)


class _Cpu:
    """The CPU this process and a server process spend from `start` on, in ms per operation."""

    def __init__(self, url: str, default_port: int) -> None:
        server_pid = bench_cost.listening_pid(url, default_port)
        if server_pid is None:
            raise RuntimeError(f"no process of this machine listens on {url}'s port: its CPU cannot be read")
        self._server_pid = server_pid
        self._client = self._server = 0.0

    def start(self) -> None:
        self._client = time.process_time()
        self._server = bench_cost.cpu_seconds(self._server_pid)

    def per_operation(self, operations: int) -> UnitCost:
        client = time.process_time() - self._client
        server = bench_cost.cpu_seconds(self._server_pid) - self._server
        return UnitCost(client * 1000 / operations, server * 1000 / operations)


async def _in_waves(operation: Callable[[int], Awaitable[object]], count: int) -> None:
    for start in range(0, count, IN_FLIGHT):
        await asyncio.gather(*(operation(n) for n in range(start, min(start + IN_FLIGHT, count))))


async def command_costs(mongodb_url: str, operations: int) -> dict[str, UnitCost]:
    cpu = _Cpu(mongodb_url, 27017)
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_url)
    name = f"bench_floor_{uuid.uuid4().hex[:8]}"
    try:
        collection = client[name]["documents"]
        await collection.insert_many([{"_id": f"stored-{n}", "body": BODY.decode()} for n in range(operations)])
        steps: dict[str, Callable[[int], Awaitable[object]]] = {
            "find": lambda n: collection.find_one({"_id": f"stored-{n}"}),
            "insert": lambda n: collection.insert_one({"_id": f"new-{n}", "body": BODY.decode()}),
            "update": lambda n: collection.update_one({"_id": f"stored-{n}"}, {"$set": {"seen": n}}),
            "delete": lambda n: collection.delete_one({"_id": f"new-{n}"}),
        }
        costs = {}
        for command in COMMANDS:
            cpu.start()
            await _in_waves(steps[command], operations)
            costs[command] = cpu.per_operation(operations)
        return costs
    finally:
        await client.drop_database(name)
        await client.close()


def _broker(amqp_url: str) -> RabbitBroker:
    middlewares = [*telemetry_middlewares("bench"), prometheus_middleware("bench-floor")]
    prefetch = ServiceSettings.model_fields["prefetch"].default  # the services' own
    return RabbitBroker(
        amqp_url, logger=None, middlewares=middlewares, default_channel=Channel(prefetch_count=prefetch)
    )


async def publish_cost(amqp_url: str, operations: int) -> UnitCost:
    cpu = _Cpu(amqp_url, 5672)
    name = f"bench.floor.{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        # Routed to a quorum queue and stored there, as a service's events are.
        channel = await connection.channel()
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC)
        try:
            queue = await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
            try:
                await queue.bind(exchange, "#")
                broker = _broker(amqp_url)
                await broker.connect()
                target = RabbitExchange(name, type=ExchangeType.TOPIC, declare=False)

                async def publish(n: int) -> None:
                    await broker.publish(BODY, exchange=target, routing_key="floor", message_id=f"m{n}", persist=True)

                try:
                    cpu.start()
                    await _in_waves(publish, operations)
                    return cpu.per_operation(operations)
                finally:
                    await broker.stop()
            finally:
                await queue.delete(if_unused=False, if_empty=False)
        finally:
            await exchange.delete()


async def consume_cost(amqp_url: str, operations: int) -> UnitCost:
    cpu = _Cpu(amqp_url, 5672)
    name = f"bench.floor.{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        try:
            for start in range(0, operations, 100):
                await asyncio.gather(
                    *(
                        channel.default_exchange.publish(aio_pika.Message(BODY, message_id=f"m{n}"), name)
                        for n in range(start, min(start + 100, operations))
                    )
                )
            broker = _broker(amqp_url)
            consumed = 0
            done = asyncio.Event()

            @broker.subscriber(
                RabbitQueue(name, queue_type=QueueType.QUORUM, durable=True, declare=False),
                ack_policy=AckPolicy.MANUAL,
                no_reply=True,
                decoder=raw_body,
            )
            async def on_message(body: bytes, message: RabbitMessage) -> None:
                nonlocal consumed
                await message.ack()
                consumed += 1
                if consumed == operations:
                    done.set()

            await broker.connect()  # connecting is not a delivery's cost
            try:
                cpu.start()
                await broker.start()
                await asyncio.wait_for(done.wait(), 120)
                return cpu.per_operation(operations)
            finally:
                await broker.stop()
        finally:
            await channel.queue_delete(name)


async def measure(amqp_url: str, mongodb_url: str, operations: int = 600) -> UnitCosts:
    return UnitCosts(
        commands=await command_costs(mongodb_url, operations),
        consume=await consume_cost(amqp_url, operations),
        publish=await publish_cost(amqp_url, operations),
    )


def floor_ms(counts: bench_cost.Counts, units: UnitCosts) -> float:
    """The estimated least CPU of that many commands (by name), deliveries and publishes."""
    return units.of_commands(counts.commands) + counts.consumed * units.consume.ms + counts.published * units.publish.ms


def unit_rows(units: UnitCosts) -> list[tuple[str, str, str, str]]:
    def row(what: str, cost: UnitCost, server: str) -> tuple[str, str, str, str]:
        split = f"{cost.ms:.2f} ({cost.client_ms:.2f} client + {cost.server_ms:.2f} {server})"
        return (f"unit cost: {what}, CPU ms", split, "", "")

    rows = [
        row(f"one {command} (PyMongo async, FerretDB)", cost, "FerretDB") for command, cost in units.commands.items()
    ]
    rows.append(row("one delivery consumed (FastStream, RabbitMQ)", units.consume, "RabbitMQ"))
    rows.append(row("one confirmed publish (FastStream, RabbitMQ)", units.publish, "RabbitMQ"))
    return rows


def _at_the_floor(reachable: bool) -> str:
    return "reachable at the floor" if reachable else "**beyond the floor**"


def _work(counts: bench_cost.Counts) -> str:
    return f"{counts.total_commands:.1f} commands, {counts.consumed:.1f} deliveries, {counts.published:.1f} publishes"


def innovation_rows(costs: Sequence[bench_cost.Cost], units: UnitCosts) -> list[tuple[str, str, str, str]]:
    """The floor of the median run's work (by its total CPU) per innovation, per service and in total."""
    if not costs:
        return []
    run = sorted(costs, key=lambda cost: cost.total_cpu_ms)[len(costs) // 2]
    rows = []
    for service, counts in sorted(run.counts.items()):
        rows.append(
            (f"CPU floor per innovation, {service} ({_work(counts)})", f"{floor_ms(counts, units):.1f}", "", "")
        )
    total = sum(floor_ms(counts, units) for counts in run.counts.values())
    target = bench_cost.TARGET_CPU_MS
    rows.append(
        (
            "CPU floor per innovation, total (no SMTP, no service logic; servers' share included)",
            f"{total:.1f}",
            f"<= {target:.0f}",
            _at_the_floor(total <= target),
        )
    )
    rows.append(
        (
            "CPU above the floor per innovation (the services' own work, the servers' beyond it)",
            f"{run.total_cpu_ms - total:.1f}",
            f"<= {max(target - total, 0.0):.1f} for the target",
            "",
        )
    )
    return rows


@dataclass(frozen=True)
class IntakeRun:
    cpu_ms: dict[str, float]  # per accepted answer, by process ("load generator": the bench itself)
    counts: bench_cost.Counts  # submission's work per accepted answer

    @property
    def total_cpu_ms(self) -> float:
        return sum(self.cpu_ms.values())


def intake_rows(
    runs: Sequence[IntakeRun], units: UnitCosts, cores: int, target: float = TARGET_INTAKE_PER_S
) -> list[tuple[str, str, str, str]]:
    """The median run (by its total CPU): what an accepted answer cost each process, the rate these cores allow
    at that cost, and at the floor of submission's work, with the load generator as measured and without it
    (a real sender runs elsewhere)."""
    if not runs:
        return []
    run = sorted(runs, key=lambda run: run.total_cpu_ms)[len(runs) // 2]
    rows = [
        (f"intake CPU ms per accepted answer, {name}", f"{ms:.2f}", "", "") for name, ms in sorted(run.cpu_ms.items())
    ]
    rows.append(("intake CPU ms per accepted answer, total", f"{run.total_cpu_ms:.2f}", "", ""))
    ceiling = cores * 1000 / run.total_cpu_ms
    rows.append(
        (
            f"intake ceiling on {cores} cores at that CPU, msg/s",
            f"{ceiling:.0f}",
            f">= {target:.0f}",
            bench_cost.verdict(ceiling >= target),
        )
    )
    floor = floor_ms(run.counts, units)
    generator = run.cpu_ms.get("load generator", 0.0)
    rows.append((f"intake floor per accepted answer ({_work(run.counts)}), CPU ms", f"{floor:.2f}", "", ""))
    rows.append(
        (
            "intake CPU above the floor per accepted answer (submission's own work, the servers' beyond it)",
            f"{run.total_cpu_ms - generator - floor:.2f}",
            "",
            "",
        )
    )
    for label, per_answer in (("with the load generator as measured", floor + generator), ("without it", floor)):
        at_floor = cores * 1000 / per_answer
        rows.append(
            (
                f"intake ceiling on {cores} cores at that floor, {label}, msg/s",
                f"{at_floor:.0f}",
                f">= {target:.0f}",
                _at_the_floor(at_floor >= target),
            )
        )
    return rows


def as_json(units: UnitCosts) -> Mapping[str, object]:
    def split(cost: UnitCost) -> dict[str, float]:
        return {"client_ms": cost.client_ms, "server_ms": cost.server_ms}

    return {
        "commands": {name: split(cost) for name, cost in units.commands.items()},
        "consume": split(units.consume),
        "publish": split(units.publish),
    }
