"""What the container tests do to the containerised system, and read from it, from the outside only:

- `Publisher`: one outside system's broker user publishing intake with `user_id` set and publisher
  confirms, publishing again (same message id) through a broker restart, as scripts/chaos.py does;
- `Answers`: that system's own results queue (`results.<source>`), as the system reads it;
- `Observer`: a queue of the tests' own user bound to `inovda.events` (the scores and the email events);
- `emails`: the dedupe keys of the emails the SMTP sink wrote to its folder;
- `Ledger`: what was sent and what each message must cause, and the checks: every answer, every score
  and every email exactly once.
"""

import asyncio
import contextlib
import email.parser
import email.policy
import json
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from inovda_cli import demo_data, samples
from inovda_cli.broker_access import results_queue
from inovda_notification.domain.expectations import index_email_problems
from inovda_shared.contracts.events import RegionIndexUpdated
from inovda_shared.topology import EVENTS_EXCHANGE, INTAKE_EXCHANGE

from .stack import OBSERVER_QUEUE

YEAR = 2025  # not the current year: no reminders or digests, so every email follows from the messages
USERS = {"simpeg": "sys-simpeg", "bappeda": "sys-bappeda", "e-inovasi": "sys-e-inovasi"}


def now() -> float:
    return time.monotonic()


class Publisher:
    """Confirmed publishing as one outside system's user; through a broker outage, it connects and publishes
    the same message again (the intake is idempotent by message id)."""

    def __init__(self, url: str, user: str) -> None:
        self._url = url
        self._user = user
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self.retries = 0

    async def publish(self, routing_key: str, body: dict[str, Any], message_id: str, within: float = 240) -> None:
        deadline = now() + within
        while True:
            try:
                if self._exchange is None:
                    self._connection = await aio_pika.connect(self._url, timeout=10)
                    channel = await self._connection.channel(publisher_confirms=True)
                    self._exchange = await channel.get_exchange(INTAKE_EXCHANGE.name, ensure=False)
                message = aio_pika.Message(
                    json.dumps(body).encode(),
                    content_type="application/json",
                    message_id=message_id,
                    user_id=self._user,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                )
                await self._exchange.publish(message, routing_key=routing_key, timeout=15)
                return
            except Exception:
                if now() > deadline:
                    raise
                self.retries += 1
                await self.close()
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)


@dataclass(frozen=True)
class Seen:
    routing_key: str
    message_id: str
    body: dict[str, Any]
    at: float


class Consumer:
    """A consumer of one queue that connects again and consumes again after the broker went away, keeping the
    first copy of each message id and counting the deliveries. (aio-pika's robust connection did not bring
    back a consumer of a queue this user may not declare, the outside systems' results queues.)"""

    def __init__(
        self,
        url: str,
        queue: str,
        declare: Callable[[aio_pika.abc.AbstractChannel], Awaitable[aio_pika.abc.AbstractQueue]] | None = None,
    ) -> None:
        self._url = url
        self._queue = queue
        self._declare = declare
        self.seen: list[Seen] = []
        self.deliveries: Counter[str] = Counter()
        self.reconnections = 0
        self.last_at = now()
        self._task: asyncio.Task[None] | None = None
        self._consuming = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._consuming.wait(), 60)

    async def _run(self) -> None:
        while True:
            try:
                connection = await aio_pika.connect(self._url, timeout=10)
            except Exception:
                await asyncio.sleep(1)
                continue
            closed = asyncio.Event()
            connection.close_callbacks.add(lambda *_, event=closed: event.set())
            try:
                channel = await connection.channel()
                await channel.set_qos(prefetch_count=200)
                if self._declare is not None:
                    queue = await self._declare(channel)
                else:
                    queue = await channel.get_queue(self._queue, ensure=False)
                await queue.consume(self._on_message)
                self._consuming.set()
                await closed.wait()
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 5)
                raise
            except Exception:
                await asyncio.sleep(1)
            finally:
                if not connection.is_closed:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 5)
            self.reconnections += 1

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        key = message.message_id or f"no-id:{hash(message.body)}"
        self.deliveries[key] += 1
        if self.deliveries[key] == 1:
            self.seen.append(Seen(message.routing_key or "", key, json.loads(message.body), now()))
        self.last_at = now()
        with contextlib.suppress(Exception):  # the connection went: the broker delivers it again
            await message.ack()

    def of(self, prefix: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.routing_key.startswith(prefix)]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def observer(url: str) -> Consumer:
    async def declare(channel: aio_pika.abc.AbstractChannel) -> aio_pika.abc.AbstractQueue:
        queue = await channel.declare_queue(OBSERVER_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        exchange = await channel.get_exchange(EVENTS_EXCHANGE.name, ensure=False)
        await queue.bind(exchange, routing_key="#")
        return queue

    return Consumer(url, OBSERVER_QUEUE, declare)


def answers(url: str, source: str) -> Consumer:
    return Consumer(url, results_queue(source))


def office_emails(folder: Path, region: str) -> list[tuple[str, str]]:
    """The region's index emails (dedupe key, plain text) in the order the SMTP sink wrote them."""
    parser = email.parser.BytesParser(policy=email.policy.default)
    found = []
    for path in sorted(folder.glob("[0-9]*.eml")):
        with path.open("rb") as handle:
            message = parser.parse(handle)
        key = str(message["X-Inovda-Dedupe-Key"])
        if key.startswith(f"predicate:{region}/"):
            body = message.get_body(preferencelist=("plain",))
            found.append((key, body.get_content() if body is not None else ""))
    return found


def emails(folder: Path) -> Counter[str]:
    """Dedupe key -> how many emails with it the SMTP sink wrote (hidden names are emails being written)."""
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    keys: Counter[str] = Counter()
    for path in folder.glob("[0-9]*.eml"):
        with path.open("rb") as handle:
            keys[str(parser.parse(handle)["X-Inovda-Dedupe-Key"])] += 1
    return keys


@dataclass
class Intake:
    routing_key: str
    body: dict[str, Any]
    message_id: str
    source: str
    emails: tuple[str, ...] = ()
    external_id: str | None = None


@dataclass
class Ledger:
    """One region's messages (its own region code, unit codes and innovation ids, so tests sharing the stack
    do not see each other's), and what they must cause."""

    region: str
    tag: str
    intakes: list[Intake] = field(default_factory=list)

    def registrations(self, unit_count: int) -> list[Intake]:
        """The region's profile and `unit_count` units named like Kukar's (cli demo data)."""
        batch = [
            Intake(
                "region.profile.v1",
                samples.profile(YEAR, region_code=self.region, admin_emails=[f"brida.{self.tag}@ctest.example"]),
                f"{self.tag}-profile",
                "bappeda",
            )
        ]
        for unit in demo_data.units()[:unit_count]:
            code = f"{self.tag}-{unit.code}"
            body = samples.unit(
                code,
                region_code=self.region,
                name=unit.name,
                kind=unit.kind,
                emails=[f"{code.lower()}@ctest.example"],
                mentor_emails=[f"pendamping.{code.lower()}@ctest.example"],
            )
            batch.append(Intake("unit.upsert.v1", body, f"{self.tag}-unit-{code}", "simpeg"))
        self.intakes += batch
        return batch

    @property
    def units(self) -> list[str]:
        return [intake.body["unit_code"] for intake in self.intakes if intake.routing_key == "unit.upsert.v1"]

    def reports(self, count: int) -> list[Intake]:
        """`count` innovation reports (revision 1 each), spread over the units, some not eligible."""
        start = sum(intake.routing_key == "innovation.report.v1" for intake in self.intakes)
        batch = []
        for number in range(start + 1, start + count + 1):
            external_id = f"{self.tag}-INV-{number:03d}"
            overrides: dict[str, Any] = {"region_code": self.region, "year": YEAR, "title": f"Inovasi {external_id}"}
            if number % 7 == 0:
                overrides["stage"] = "uji_coba"  # accepted and scored, not eligible
            if number % 5 == 0:
                overrides["indicators"] = {
                    **samples.innovation()["indicators"],
                    "18": {"level": 3, "evidence": samples.evidence("Anggaran")},
                }
            unit = self.units[number % len(self.units)]
            body = samples.innovation(external_id, unit, **overrides)
            batch.append(
                Intake(
                    "innovation.report.v1",
                    body,
                    f"{self.tag}-report-{number:03d}",
                    "e-inovasi",
                    emails=(f"receipt:e-inovasi/{external_id}:r1",),
                    external_id=external_id,
                )
            )
        self.intakes += batch
        return batch

    # checks ------------------------------------------------------------------------------------------------

    def check(
        self,
        observed: Consumer,
        results: dict[str, Consumer],
        mail: Counter[str],
        office: list[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Counts of what was expected, what is missing and what came more than once: answers, scores, emails;
        and what is wrong with the office's index emails (`office`: as `office_emails` reads them)."""
        mine = {intake.message_id for intake in self.intakes}
        answered: dict[str, list[Seen]] = defaultdict(list)
        for consumer in results.values():
            for seen in consumer.seen:
                if seen.body.get("message_id") in mine:
                    answered[str(seen.body["message_id"])].append(seen)
        wrong = [m for m, seen in answered.items() if any(s.body.get("status") != "accepted" for s in seen)]
        reports = {intake.external_id for intake in self.intakes if intake.external_id}
        scored: dict[str, list[Seen]] = defaultdict(list)
        for seen in observed.of("innovation.scored"):
            if seen.body.get("external_id") in reports:
                scored[f"{seen.body['external_id']} r{seen.body['revision']}"].append(seen)
        expected_emails: Counter[str] = Counter(key for intake in self.intakes for key in intake.emails)
        for external_id in reports:
            expected_emails[f"score:e-inovasi/{external_id}:r1"] += 1
        announced = {
            update.version: update
            for update in (RegionIndexUpdated.model_validate(seen.body) for seen in observed.of("region.index.updated"))
            if update.region_code == self.region
        }
        received = Counter({key: count for key, count in mail.items() if self.mine(key, reports)})
        return {
            "messages": len(mine),
            "answers": sum(len(seen) for seen in answered.values()),
            "answers_missing": sorted(mine - set(answered)),
            "answers_doubled": sorted(m for m, seen in answered.items() if len(seen) > 1),
            "answers_not_accepted": sorted(wrong),
            "scores": len(scored),
            "scores_missing": sorted(f"{r} r1" for r in reports if f"{r} r1" not in scored),
            "scores_doubled": sorted(key for key, seen in scored.items() if len(seen) > 1),
            "emails_expected": sum(expected_emails.values()),
            "emails": sum(count for key, count in received.items() if not key.startswith("predicate:")),
            "office_emails": sum(count for key, count in received.items() if key.startswith("predicate:")),
            "emails_missing": sorted(key for key in expected_emails if key not in received),
            "emails_doubled": sorted(key for key, count in received.items() if count > 1),
            "emails_unexpected": sorted(
                key for key in received if key not in expected_emails and not key.startswith("predicate:")
            ),
            "office_problems": index_email_problems(announced, office) if office is not None else [],
        }

    def mine(self, key: str, reports: set[str]) -> bool:
        """Whether an email's dedupe key is about this ledger's region or messages."""
        kind, _, rest = key.partition(":")
        if kind == "predicate":
            return rest.startswith(f"{self.region}/")
        return any(f"/{external_id}:" in rest for external_id in reports) or self.tag in rest


def problems(outcome: dict[str, Any]) -> dict[str, Any]:
    """The non-empty lists of a check's outcome: what is missing, doubled, wrong or unexpected."""
    return {name: value for name, value in outcome.items() if isinstance(value, list) and value}


async def send(publishers: dict[str, Publisher], batch: list[Intake], rate: float) -> None:
    """Publish `batch` in order at about `rate` messages a second."""
    for intake in batch:
        started = now()
        await publishers[intake.source].publish(intake.routing_key, intake.body, intake.message_id)
        await asyncio.sleep(max(0.0, 1 / rate - (now() - started)))


async def until(condition: Callable[[], bool], within: float, every: float = 0.5) -> bool:
    deadline = now() + within
    while not condition():
        if now() > deadline:
            return False
        await asyncio.sleep(every)
    return True


async def settle(
    ledger: Ledger, mail_dir: Path, observer: Consumer, results: dict[str, Consumer], within: float, quiet: float = 10
) -> tuple[dict[str, Any], float]:
    """Until nothing is missing (or `within` seconds), then until `quiet` seconds pass without a new event or
    email (a late second copy would show); the final outcome, and when nothing was missing any more."""

    def outcome() -> dict[str, Any]:
        return ledger.check(observer, results, emails(mail_dir), office_emails(mail_dir, ledger.region))

    def complete() -> bool:
        now_ = outcome()
        missing = now_["answers_missing"] or now_["scores_missing"] or now_["emails_missing"]
        return not (missing or now_["office_problems"])

    await until(complete, within)
    completed = now()
    seen = (len(observer.seen), sum(emails(mail_dir).values()))
    quiet_since = now()
    while now() - quiet_since < quiet:
        await asyncio.sleep(1)
        current = (len(observer.seen), sum(emails(mail_dir).values()))
        if current != seen:
            seen, quiet_since = current, now()
    return outcome(), completed
