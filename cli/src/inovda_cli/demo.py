"""The main job, end to end on this machine: Kukar's systems publish a year of data, Inovda answers,
scores and reports.

Starts the services as separate processes (on demo databases, emptied first), publishes the data set
the way an outside system would (registrations first, then reports), waits with a progress bar until
everything is answered and scored, prints the region's report, and stops what it started.
"""

import asyncio
import sys
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from inovda_shared.mongo import connect
from inovda_shared.topology import EVENTS_EXCHANGE

from .demo_data import KUKAR, YEAR, demo_data
from .processes import ServiceProcess
from .publish import publish_messages
from .scoring import render_compliance, render_index, render_path, scoring_library

DATABASES = {"submission": "inovda_demo_submission", "scoring": "inovda_demo_scoring"}


@dataclass
class Tally:
    answered: int = 0
    accepted: int = 0
    rejected: int = 0
    to_score: int = 0
    scored: int = 0


class Watcher:
    """Counts what Inovda publishes while the demo runs, on a private queue bound to `inovda.events`."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.changed = asyncio.Event()

    async def on_event(self, message: AbstractIncomingMessage) -> None:
        key = message.routing_key or ""
        if key.startswith("intake."):
            self.tally.answered += 1
            if key.startswith("intake.accepted."):
                self.tally.accepted += 1
            else:
                self.tally.rejected += 1
        elif key == "innovation.submitted":
            self.tally.to_score += 1
        elif key == "innovation.scored":
            self.tally.scored += 1
        self.changed.set()

    async def until(self, answered: int, within_seconds: float = 600) -> None:
        """Wait until `answered` intake answers arrived and every submitted innovation is scored."""

        async def wait() -> None:
            while True:
                progress(self.tally, answered)
                if self.tally.answered >= answered and self.tally.scored >= self.tally.to_score:
                    return
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), within_seconds)


def progress(tally: Tally, expected: int) -> None:
    total = expected + tally.to_score
    done = tally.answered + tally.scored
    width = 40
    filled = int(width * done / total) if total else width
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] dijawab {tally.answered}/{expected} "
        f"(diterima {tally.accepted}, ditolak {tally.rejected}), dinilai {tally.scored}/{tally.to_score}"
    )
    sys.stderr.flush()


async def run_demo(amqp_url: str, mongodb_url: str, keep_running: bool = False) -> None:
    data = demo_data()
    client = connect(mongodb_url)
    for database in DATABASES.values():
        await client.drop_database(database)
    await client.close()

    common = {"AMQP_URL": amqp_url, "MONGODB_URL": mongodb_url}
    services = [
        ServiceProcess(
            "inovda-submission", {**common, "MONGODB_DATABASE": DATABASES["submission"]}, "submission.intake"
        ),
        ServiceProcess("inovda-scoring", {**common, "MONGODB_DATABASE": DATABASES["scoring"]}, "scoring.events"),
    ]
    async with AsyncExitStack() as stack:
        print("Menjalankan layanan:", ", ".join(service.command for service in services), file=sys.stderr)
        for service in services:
            await stack.enter_async_context(service)
        watcher = Watcher()
        connection = await aio_pika.connect(amqp_url)
        stack.push_async_callback(connection.close)
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS_EXCHANGE.name)
        queue = await channel.declare_queue(f"demo.watch.{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="#")
        await queue.consume(watcher.on_event, no_ack=True)

        # Registrations first, answered, then the reports that name the units: as an outside system must.
        await publish_messages(amqp_url, data.registrations)
        await watcher.until(answered=len(data.registrations))
        await publish_messages(amqp_url, data.reports)
        await watcher.until(answered=len(data.registrations) + len(data.reports))
        await asyncio.sleep(1.0)  # the last index announcement follows the last score
        sys.stderr.write("\n")
        print(await report(mongodb_url, DATABASES["scoring"]))
        if keep_running:
            print("Layanan tetap berjalan; tekan Ctrl+C untuk berhenti.", file=sys.stderr)
            await asyncio.Event().wait()


async def report(mongodb_url: str, scoring_database: str) -> str:
    async with scoring_library(mongodb_url, scoring_database) as scoring:
        figures = await scoring.index(KUKAR, YEAR)
        rows = await scoring.compliance(KUKAR, YEAR)
        plan = await scoring.path(KUKAR, YEAR)
    return "\n\n".join(
        [render_index(KUKAR, YEAR, figures), render_compliance(YEAR, rows), render_path(KUKAR, YEAR, plan)]
    )
