"""The least CPU this stack can spend on what one innovation and one intake message take, for `make bench`
(issue 15): the unit costs of a database command, a consumed delivery and a confirmed publish, each timed alone
on the same servers in the same run, times how many of each the services took (`bench_cost`).

- A database command: one single-document `find` (by `_id`), `insert`, `update` (`$set` by `_id`) or `delete`
  (by `_id`) from PyMongo's `AsyncMongoClient`, 8 in flight: the client's CPU plus FerretDB's.
- A delivery: one message consumed by a FastStream subscriber with the services' middlewares (tracing,
  Prometheus) and decoder, acknowledged by hand, prefetch 32, from a quorum queue: the client's CPU plus RabbitMQ's.
- A publish: one message published by FastStream with the same middlewares, with confirms, 8 in flight.

The floor leaves out everything else the services do (validating, scoring, composing and sending emails,
logging, the outbox relay's loop): the services cannot cost less than it without fewer commands, deliveries
or publishes, or cheaper ones (another driver, broker client or database). A batched insert counts as one
command here, at a single insert's cost: that makes the floor lower, never higher, than the true least.

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

COMMANDS = ("find", "insert", "update", "delete")
IN_FLIGHT = 8
TARGET_INTAKE_PER_S = 150.0
BODY = b'{"pad": "' + b"x" * 2000 + b'"}'  # about an event's size


@dataclass(frozen=True)
class UnitCosts:
    command_ms: dict[str, float]  # client + FerretDB, per command name
    consume_ms: float  # client + RabbitMQ, per delivery
    publish_ms: float  # client + RabbitMQ, per confirmed publish

    def of_commands(self, counts: Mapping[str, float]) -> float:
        """Commands with no unit cost of their own (`findAndModify`, ...) count as the dearest measured one."""
        dearest = max(self.command_ms.values())
        return sum(count * self.command_ms.get(name, dearest) for name, count in counts.items())


class _Cpu:
    """The CPU this process and a server process spend between `start` and `stop`, in ms per operation."""

    def __init__(self, server_pid: int | None) -> None:
        self._server_pid = server_pid

    def start(self) -> None:
        self._client = time.process_time()
        self._server = bench_cost.cpu_seconds(self._server_pid) if self._server_pid else 0.0

    def per_operation(self, operations: int) -> float:
        server = bench_cost.cpu_seconds(self._server_pid) - self._server if self._server_pid else 0.0
        return (time.process_time() - self._client + server) * 1000 / operations


async def _in_waves(operation: Callable[[int], Awaitable[object]], count: int) -> None:
    for start in range(0, count, IN_FLIGHT):
        await asyncio.gather(*(operation(n) for n in range(start, min(start + IN_FLIGHT, count))))


async def command_costs(mongodb_url: str, operations: int) -> dict[str, float]:
    cpu = _Cpu(bench_cost.listening_pid(mongodb_url, 27017))
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
    return RabbitBroker(amqp_url, logger=None, middlewares=middlewares, default_channel=Channel(prefetch_count=32))


async def publish_cost(amqp_url: str, operations: int) -> float:
    cpu = _Cpu(bench_cost.listening_pid(amqp_url, 5672))
    name = f"bench.floor.{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        # Routed to a quorum queue and stored there, as a service's events are.
        channel = await connection.channel()
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC)
        queue = await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
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
            await queue.delete(if_unused=False, if_empty=False)
            await exchange.delete()


async def consume_cost(amqp_url: str, operations: int) -> float:
    cpu = _Cpu(bench_cost.listening_pid(amqp_url, 5672))
    name = f"bench.floor.{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
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

        cpu.start()
        await broker.start()
        try:
            await asyncio.wait_for(done.wait(), 120)
            return cpu.per_operation(operations)
        finally:
            await broker.stop()
            await channel.queue_delete(name)


async def measure(amqp_url: str, mongodb_url: str, operations: int = 600) -> UnitCosts:
    return UnitCosts(
        command_ms=await command_costs(mongodb_url, operations),
        consume_ms=await consume_cost(amqp_url, operations),
        publish_ms=await publish_cost(amqp_url, operations),
    )


def floor_ms(counts: bench_cost.Counts, units: UnitCosts) -> float:
    """The least CPU of that many commands (by name), deliveries and publishes."""
    return units.of_commands(counts.commands) + counts.consumed * units.consume_ms + counts.published * units.publish_ms


def unit_rows(units: UnitCosts) -> list[tuple[str, str, str, str]]:
    rows = [
        (f"unit cost: one {command} (PyMongo async + FerretDB), CPU ms", f"{ms:.2f}", "", "")
        for command, ms in units.command_ms.items()
    ]
    rows.append(("unit cost: one delivery consumed (FastStream + RabbitMQ), CPU ms", f"{units.consume_ms:.2f}", "", ""))
    rows.append(("unit cost: one confirmed publish (FastStream + RabbitMQ), CPU ms", f"{units.publish_ms:.2f}", "", ""))
    return rows


def _verdict(reachable: bool) -> str:
    return "target above the floor" if reachable else "**target beyond the floor**"


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
            _verdict(total < target),
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


def intake_rows(
    cpu_runs: Sequence[Mapping[str, float]],
    count_runs: Sequence[bench_cost.Counts],
    units: UnitCosts,
    cores: int,
    target: float = TARGET_INTAKE_PER_S,
) -> list[tuple[str, str, str, str]]:
    """What an accepted answer cost each process during the intake, the rate these cores allow at that cost,
    and at the floor of submission's work (plus the load generator, as measured)."""
    if not cpu_runs or not count_runs:
        return []

    rows = []
    for name in sorted({name for run in cpu_runs for name in run}):
        figure = bench_cost.median([run.get(name, 0.0) for run in cpu_runs])
        rows.append((f"intake CPU ms per accepted answer, {name}", f"{figure:.2f}", "", ""))
    total = bench_cost.median([sum(run.values()) for run in cpu_runs])
    rows.append(("intake CPU ms per accepted answer, total", f"{total:.2f}", "", ""))
    ceiling = cores * 1000 / total
    rows.append(
        (
            f"intake ceiling on {cores} cores at that CPU, msg/s",
            f"{ceiling:.0f}",
            f">= {target:.0f}",
            _met(ceiling >= target),
        )
    )
    counts = count_runs[len(count_runs) // 2]
    generator = bench_cost.median([run.get("load generator", 0.0) for run in cpu_runs])
    floor = floor_ms(counts, units) + generator
    rows.append(
        (
            f"intake floor per accepted answer ({_work(counts)}; load generator as measured), CPU ms",
            f"{floor:.2f}",
            "",
            "",
        )
    )
    rows.append(
        (
            "intake CPU above the floor per accepted answer (submission's own work, the servers' beyond it)",
            f"{total - floor:.2f}",
            "",
            "",
        )
    )
    at_floor = cores * 1000 / floor
    rows.append(
        (
            f"intake ceiling on {cores} cores at that floor, msg/s",
            f"{at_floor:.0f}",
            f">= {target:.0f}",
            _verdict(at_floor >= target),
        )
    )
    return rows


def _met(met: bool) -> str:
    return "met" if met else "**missed**"


def as_json(units: UnitCosts) -> Mapping[str, object]:
    return {"command_ms": units.command_ms, "consume_ms": units.consume_ms, "publish_ms": units.publish_ms}
