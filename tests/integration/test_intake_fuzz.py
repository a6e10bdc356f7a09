"""Fuzzing the intake end to end: a storm of nasty messages (the hand-written corpus, the same bodies under odd
AMQP properties, and a hypothesis-generated batch) published to the real broker while `inovda-submission`
runs as a real process. The service must not crash or stall, must answer every message exactly once with the
verdict of the pure validation layer, and must store nothing invalid."""

import asyncio
import datetime as dt
import decimal
import json
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aio_pika
import pytest
from aiormq.exceptions import ChannelPreconditionFailed
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from inovda_cli.deadletters import list_dead_letters
from inovda_cli.processes import ServiceProcess
from inovda_shared.contracts.events import UNKNOWN_SOURCE
from inovda_shared.topology import EVENTS_EXCHANGE, INTAKE_EXCHANGE, SUBMISSION_QUEUE
from inovda_submission.domain.records import message_key
from inovda_submission.domain.validation import Rejection, parse_intake
from tests.support import fuzz
from tests.support.infra import broker_max_message_bytes
from tests.support.intake import broker_user
from tests.support.probe import EventProbe, SeenEvent

pytestmark = pytest.mark.integration

# Drawn from the unit fuzz test's strategies: messages with a few fields broken, and untidy valid ones.
GENERATED_BROKEN, GENERATED_VALID = 150, 50
BARE_UNIT = "BARE"
ANSWER_SECONDS = 40.0
# Where each kind is stored (`<kind>_versions`, see inovda_submission.adapters.store).
VERSIONS = {
    "units_versions": fuzz.UNIT,
    "region_profiles_versions": fuzz.PROFILE,
    "innovations_versions": fuzz.INNOVATION,
}


@dataclass(frozen=True)
class Sent:
    name: str
    routing_key: str
    body: bytes
    expect: str | None  # `accepted`, a reason code, or None: whatever the pure validation layer says
    answer_id: str  # the correlation id its answer carries
    message_id: str | None


class Sender:
    """An outside system on one connection, publishing with confirms whatever properties it is given."""

    def __init__(self, amqp_url: str) -> None:
        self._url = amqp_url

    async def __aenter__(self) -> "Sender":
        self._connection = await aio_pika.connect(self._url)
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await channel.get_exchange(INTAKE_EXCHANGE.name)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._connection.close()

    async def send(self, name: str, routing_key: str, body: bytes, expect: str | None, **properties: Any) -> Sent:
        answer_id = uuid.uuid4().hex
        defaults = {
            "message_id": answer_id,
            "correlation_id": answer_id,
            "content_type": "application/json",
            "delivery_mode": aio_pika.DeliveryMode.PERSISTENT,
        }
        message = aio_pika.Message(body, **{**defaults, **properties})
        await self._exchange.publish(message, routing_key=routing_key)
        return Sent(name, routing_key, body, expect, answer_id, message.message_id)

    async def send_refused(self, nasty: fuzz.Nasty) -> None:
        """A message over the broker's size limit, on a channel of its own: the broker closes it, never
        delivering the message (so it gets no answer)."""
        channel = await self._connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(INTAKE_EXCHANGE.name)
        # Taken instead (DID NOT RAISE): the broker runs without Inovda's bounds, deploy/rabbitmq/limits.conf (make
        # infra configures the local node; a private node needs it as its rabbitmq.conf).
        with pytest.raises(ChannelPreconditionFailed, match="larger than configured max size"):
            await exchange.publish(aio_pika.Message(nasty.body, message_id=uuid.uuid4().hex), nasty.routing_key)

    async def send_bare(self, routing_key: str, body: bytes) -> None:
        """No properties: no correlation id, content type or delivery mode. (aiormq sets a message id on
        everything it publishes, so a message without one cannot be sent from here.)"""
        await self._exchange.publish(aio_pika.Message(body), routing_key=routing_key)


def answers(events: EventProbe) -> list[SeenEvent]:
    return events.matching("intake.*.*")


async def answered(events: EventProbe, sent: list[Sent], seconds: float = ANSWER_SECONDS) -> dict[str, SeenEvent]:
    """Waits until every message has an answer; their answers by answer id."""
    waiting = {message.answer_id for message in sent}
    deadline = time.monotonic() + seconds
    while not waiting <= {event.correlation_id for event in answers(events)}:
        if time.monotonic() > deadline:
            seen = {event.correlation_id for event in answers(events)}
            missing = [(message.name, message.routing_key) for message in sent if message.answer_id not in seen]
            raise AssertionError(f"{len(missing)} of {len(sent)} messages got no answer: {missing[:20]}")
        await asyncio.sleep(0.2)
    return {event.correlation_id or "": event for event in answers(events) if event.correlation_id in waiting}


def reason_set(answer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(reason["field"], reason["code"]) for reason in answer["reasons"]}


def check_answer(message: Sent, event: SeenEvent) -> None:
    """The service answers with the verdict of the pure validation layer, and what the message expects."""
    answer = event.body
    label = f"{message.name!r} ({message.routing_key!r}, {message.body[:300]!r})"
    assert len(json.dumps(answer)) <= fuzz.MAX_ANSWER_BYTES, f"{label}: answer of {len(json.dumps(answer))} bytes"
    assert event.routing_key == f"intake.{answer['status']}.{answer['source']}", label
    assert answer["source"] == UNKNOWN_SOURCE or fuzz.SOURCE.fullmatch(answer["source"]), label
    if message.message_id is not None:  # else the client library made one up
        assert answer["message_id"] == message.message_id, label
    verdict = parse_intake(message.routing_key, message.body)
    if isinstance(verdict, Rejection):
        assert answer["status"] == "rejected", f"{label}: accepted, but {verdict.reasons}"
        assert reason_set(answer) == {(reason.field, reason.code) for reason in verdict.reasons}, label
    elif answer["status"] == "rejected":
        assert {reason["code"] for reason in answer["reasons"]} <= fuzz.SERVICE_CODES, f"{label}: {answer}"
    if message.expect == fuzz.ACCEPTED:
        assert answer["status"] == "accepted", f"{label}: {answer['reasons']}"
    elif message.expect is not None:
        assert message.expect in {reason["code"] for reason in answer["reasons"]}, f"{label}: {answer['reasons']}"


def hypothesis_batch(strategy: SearchStrategy[tuple[str, bytes]], size: int) -> list[tuple[str, bytes]]:
    """`size` examples of `strategy`."""
    batch: list[tuple[str, bytes]] = []

    @settings(
        max_examples=size,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(message: tuple[str, bytes]) -> None:
        batch.append(message)

    collect()
    return batch


def odd_properties() -> list[tuple[str, str, dict[str, Any]]]:
    """A valid unit under AMQP properties and headers an outside system might get wrong: (name, expect, properties)."""
    return [
        ("no correlation id", fuzz.ACCEPTED, {"correlation_id": None}),
        ("no content type, transient", fuzz.ACCEPTED, {"content_type": None, "delivery_mode": 1}),
        ("gzip text", fuzz.ACCEPTED, {"content_type": "text/plain", "content_encoding": "gzip"}),
        ("content type xml", fuzz.ACCEPTED, {"content_type": "application/xml; charset=utf-16"}),
        ("type, app id, priority", fuzz.ACCEPTED, {"type": "\x00?", "app_id": "x" * 255, "priority": 9}),
        ("a 60 kB header", fuzz.ACCEPTED, {"headers": {"x-big": "x" * 60_000}}),
        ("1,000 headers", fuzz.ACCEPTED, {"headers": {f"h{number}": number for number in range(1000)}}),
        (
            "nested header tables",
            fuzz.ACCEPTED,
            {"headers": {"a": {"b": {"c": [1, "x", None]}}, "n": None, "d": decimal.Decimal("1.5")}},
        ),
        (
            "garbage text in known headers",
            fuzz.ACCEPTED,
            {
                "headers": {
                    "x-delivery-count": "many",
                    "x-death": "nonsense",
                    "traceparent": "00-garbage",
                    "tracestate": "\x00\r\n",
                    "baggage": "a=b;;;,=,",
                    "x-inovda-death-reason": "forged",
                }
            },
        ),
        ("a timestamp in the future", fuzz.ACCEPTED, {"timestamp": dt.datetime(9999, 12, 31, tzinfo=dt.UTC)}),
        # Provenance only the service stamps, forged: dropped on receipt, the unit is the unit it is.
        ("forged provenance headers", fuzz.ACCEPTED, {"headers": FORGED_PROVENANCE}),
        ("forged provenance of the wrong types", fuzz.ACCEPTED, {"headers": dict.fromkeys(FORGED_PROVENANCE, 7)}),
    ]


FORGED_PROVENANCE: dict[str, Any] = {
    "x-inovda-original-user-id": "sys-e-inovasi",
    "x-inovda-original-routing-key": "innovation.report.v1",
    "x-inovda-seal": "0" * 64,
    "x-inovda-death-queue": "notification.events",
    "x-inovda-replayed": 3,
}


@pytest.fixture
async def intake_service(clean_broker: str, mongodb_url: str, drop_database: str) -> AsyncIterator[ServiceProcess]:
    env = {
        "AMQP_URL": clean_broker,
        "MONGODB_URL": mongodb_url,
        "MONGODB_DATABASE": drop_database,
        "INTAKE_AUTH": "off",
    }
    async with ServiceProcess("inovda-submission", env) as process:
        yield process


async def publish_storm(sender: Sender, events: EventProbe) -> list[Sent]:
    """Everything, in three waves, each answered before the next: the unit and profile the corpus's innovations
    refer to; the corpus and the odd properties; the generated batch (a generated revision of INV-001 for
    another year would make the corpus's revisions of it `immutable_field`, depending on the order)."""
    setup = [
        await sender.send("unit DINKES", fuzz.UNIT, fuzz.unit(), fuzz.ACCEPTED),
        await sender.send("profile 64.02", fuzz.PROFILE, fuzz.profile(), fuzz.ACCEPTED),
    ]
    await answered(events, setup)
    # What the broker takes (deploy/rabbitmq/limits.conf) reaches the service; anything larger is refused at the
    # broker and never answered.
    corpus = fuzz.corpus()
    for nasty in (nasty for nasty in corpus if len(nasty.body) > broker_max_message_bytes()):
        await sender.send_refused(nasty)
    storm = [
        await sender.send(nasty.name, nasty.routing_key, nasty.body, nasty.expect)
        for nasty in corpus
        if len(nasty.body) <= broker_max_message_bytes()
    ]
    for number, (name, expect, properties) in enumerate(odd_properties()):
        storm.append(await sender.send(name, fuzz.UNIT, fuzz.unit(f"ODD-{number}"), expect, **properties))
    await sender.send_bare(fuzz.UNIT, fuzz.unit(BARE_UNIT))
    await answered(events, storm)
    valid = fuzz.valid_messages().map(lambda message: (message[0], fuzz.as_json(message[1])))
    generated = hypothesis_batch(fuzz.intake_messages(), GENERATED_BROKEN) + hypothesis_batch(valid, GENERATED_VALID)
    batch = [await sender.send("generated", key, body, None) for key, body in generated]
    await answered(events, batch)
    return setup + storm + batch


def answered_once(events: EventProbe, sent: list[Sent]) -> dict[str, SeenEvent]:
    """Each message's one answer. Publishing is at-least-once: a copy with the same message id is the same
    answer, which consumers drop; two answers with different ids are two answers."""
    distinct: dict[str, set[str | None]] = defaultdict(set)
    for event in answers(events):
        distinct[event.correlation_id or ""].add(event.message_id)
    repeated = [(message.name, distinct[message.answer_id]) for message in sent if len(distinct[message.answer_id]) > 1]
    assert repeated == [], f"answered more than once: {repeated}"
    return {event.correlation_id or "": event for event in answers(events)}


async def check_storage(database: AsyncDatabase[Any], sent: list[Sent], answer_of: dict[str, SeenEvent]) -> None:
    """Every stored version is valid and normalised, and exactly the accepted messages that changed
    something stored one: a rejected message stored nothing."""
    stored = set()
    for collection, routing_key in VERSIONS.items():
        async for version in database[collection].find():
            fuzz.check_stored(routing_key, version["data"])
            stored.add(version["message_key"])
    expected = set()
    for message in sent:
        answer = answer_of[message.answer_id].body
        if answer["status"] == "accepted" and not answer["unchanged"]:
            expected.add(message_key(message.routing_key, answer["source"], answer["message_id"], message.body))
    assert stored == expected


async def test_a_storm_of_bad_input_is_answered_once_each_stores_nothing_invalid_and_leaves_the_service_ready(
    clean_broker: str,
    intake_service: ServiceProcess,
    events: EventProbe,
    mongo: AsyncMongoClient[Any],
    drop_database: str,
) -> None:
    async with Sender(clean_broker) as sender:
        sent = await publish_storm(sender, events)
        assert intake_service.process.poll() is None, intake_service.log()[-3000:]
        assert await asyncio.to_thread(intake_service.health) == 200
        after = await sender.send("valid after the storm", fuzz.INNOVATION, fuzz.inn(external_id="INV-AFTER"), None)
        assert (await answered(events, [after], seconds=10))[after.answer_id].routing_key == "intake.accepted.e-inovasi"
        sent.append(after)

    answer_of = answered_once(events, sent)
    [bare] = [event.body for event in answer_of.values() if event.body["key"].get("unit_code") == BARE_UNIT]
    assert bare["status"] == "accepted"
    # Its correlation id is the message id the client library made up.
    sent.append(Sent("no properties", fuzz.UNIT, fuzz.unit(BARE_UNIT), fuzz.ACCEPTED, bare["message_id"], None))
    assert len(answer_of) == len(sent), "answers to messages nobody sent"
    for message in sent:
        check_answer(message, answer_of[message.answer_id])
    await check_storage(mongo[drop_database], sent, answer_of)
    assert await list_dead_letters(clean_broker, SUBMISSION_QUEUE.name) == []

    log_lines = [json.loads(line) for line in intake_service.log().splitlines() if line.startswith("{")]
    failures = [line for line in log_lines if line["level"] in ("error", "critical") or "exception" in line]
    assert failures == [], failures[:5]
    assert await intake_service.stop_async() == 0


async def test_forged_provenance_makes_no_sender_of_a_stranger_when_intake_is_authenticated(
    clean_broker: str, mongodb_url: str, drop_database: str, events: EventProbe
) -> None:
    """Under authentication: a message without `user_id` naming another's user in a forged header is the
    stranger's (unauthenticated); one with it is its sender's, whatever user or routing key its headers name."""
    users = {broker_user(clean_broker): "simpeg", "sys-e-inovasi": "e-inovasi"}
    env = {
        "AMQP_URL": clean_broker,
        "MONGODB_URL": mongodb_url,
        "MONGODB_DATABASE": drop_database,
        "INTAKE_AUTH": "on",
        "SOURCE_USERS": json.dumps(users),
        "SOURCE_REGIONS": json.dumps({"simpeg": ["64.02"], "e-inovasi": ["*"]}),
    }
    async with ServiceProcess("inovda-submission", env), Sender(clean_broker) as sender:
        stranger = await sender.send(
            "a stranger naming another's user", fuzz.INNOVATION, fuzz.inn(), None, headers=FORGED_PROVENANCE
        )
        known = await sender.send(
            "a sender naming another's user",
            fuzz.UNIT,
            fuzz.unit("FORGED-1"),
            None,
            user_id=broker_user(clean_broker),
            headers=FORGED_PROVENANCE,
        )
        answer_of = await answered(events, [stranger, known], seconds=20)
    refused = answer_of[stranger.answer_id]
    assert (refused.routing_key, reason_set(refused.body)) == (
        "intake.rejected.unknown",
        {("$user_id", "unauthenticated")},
    )
    accepted = answer_of[known.answer_id]
    assert (accepted.routing_key, accepted.body["intake_routing_key"]) == ("intake.accepted.simpeg", fuzz.UNIT)
    assert [event.body["unit"]["unit_code"] for event in events.matching("unit.registered")] == ["FORGED-1"]


async def test_trace_headers_of_the_wrong_type_are_still_answered(
    clean_broker: str, intake_service: ServiceProcess, events: EventProbe
) -> None:
    async with Sender(clean_broker) as sender:
        sent = [
            await sender.send(
                "integer traceparent", fuzz.UNIT, fuzz.unit("TP-1"), fuzz.ACCEPTED, headers={"traceparent": 1}
            ),
            await sender.send("integer baggage", fuzz.UNIT, fuzz.unit("TP-2"), fuzz.ACCEPTED, headers={"baggage": 2}),
        ]
        try:
            await answered(events, sent, seconds=8)
        finally:
            intake_service.kill()  # its unsettled deliveries would hold the graceful drain for 30 s


async def test_reply_to_does_not_make_the_service_publish_where_the_sender_says(
    clean_broker: str, intake_service: ServiceProcess
) -> None:
    forged_key = f"fuzz.forged.{uuid.uuid4().hex}"
    connection = await aio_pika.connect(clean_broker)
    async with connection, EventProbe(clean_broker, "intake.#") as events, Sender(clean_broker) as sender:
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS_EXCHANGE.name)
        forged = await channel.declare_queue(exclusive=True)
        await forged.bind(exchange, routing_key=forged_key)
        message = await sender.send(
            "reply_to an exchange",
            fuzz.UNIT,
            fuzz.unit(),
            fuzz.ACCEPTED,
            reply_to=f"{forged_key}|{EVENTS_EXCHANGE.name}",
        )
        await answered(events, [message], seconds=10)
        await asyncio.sleep(1)
        assert await forged.get(no_ack=True, fail=False) is None, "the sender made the service publish on inovda.events"
