"""Least privilege and bounds on the real broker, with the rendered definitions imported into its node.

Outside systems may publish the intake routing keys to `inovda.intake` as themselves and read their own
results, nothing else; each service publishes only its own events and may not change the shared exchanges;
the broker refuses messages over 2 MiB, bounds the intake and the results queues, and caps every user's
connections and channels; the submission service answers only a sender's own source.

The node is the local one, or the one `RABBITMQ_NODENAME` names (tests/support/broker_node.py).
"""

import asyncio
import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel
from aiormq.exceptions import (
    AMQPConnectionError,
    ChannelAccessRefused,
    ChannelPreconditionFailed,
    DeliveryError,
    InvalidFrameError,
)
from faststream import FastStream
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient

from inovda_cli import samples
from inovda_cli.broker_access import INTAKE_BOUND, RESULTS_BOUND, render_file
from inovda_cli.processes import free_port
from inovda_notification.app import create_app as create_notification_app
from inovda_notification.settings import NotificationSettings
from inovda_scoring.app import create_app as create_scoring_app
from inovda_scoring.settings import ScoringSettings
from inovda_shared.topology import EVENTS_EXCHANGE, INTAKE_EXCHANGE, SUBMISSION_QUEUE, declare_topology
from inovda_submission.app import create_app as create_submission_app
from inovda_submission.settings import SubmissionSettings
from tests.support import broker_node
from tests.support.infra import broker_max_message_bytes
from tests.support.probe import EventProbe

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(broker_node.why_not_controllable() is not None, reason=str(broker_node.why_not_controllable())),
]

ROOT = Path(__file__).resolve().parents[2]
ACCESS = json.loads((ROOT / "deploy/rabbitmq/access.json").read_text())
SOURCES = dict(ACCESS["outside_systems"])  # broker user -> source
MAX_MESSAGE_BYTES = broker_max_message_bytes()


@dataclass(frozen=True)
class Imported:
    passwords: dict[str, str]
    definitions: Path


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    users = [*ACCESS["services"], *ACCESS["outside_systems"]]
    chosen = {user: secrets.token_urlsafe(16) for user in users}
    folder = tmp_path_factory.mktemp("secrets")
    for user, password in chosen.items():
        (folder / f"rabbitmq-{user}").write_text(password)
    out = render_file(ROOT / "deploy/rabbitmq/access.json", folder, folder / "definitions.json")
    broker_node.import_definitions(out)
    return Imported(chosen, out)


@pytest.fixture(scope="module")
def passwords(imported: Imported) -> dict[str, str]:
    return imported.passwords


def user_url(broker_url: str, user: str, passwords: dict[str, str]) -> str:
    return broker_url.replace("guest:guest", f"{user}:{passwords[user]}")


async def purge_results(broker_url: str) -> None:
    connection = await aio_pika.connect(broker_url)
    async with connection:
        channel = await connection.channel()
        for source in SOURCES.values():
            queue = await channel.get_queue(f"results.{source}")
            await queue.purge()


Action = Callable[[AbstractChannel], Awaitable[Any]]


async def refusal(url: str, action: Action) -> Exception | None:
    """What the broker answered `action` with, on a channel of its own (with publisher confirms): the channel
    error that closed it, or None when it was allowed."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        try:
            await action(channel)
        except (ChannelAccessRefused, ChannelPreconditionFailed) as error:
            return error
    return None


def publish(exchange: str, routing_key: str, body: bytes = b"{}", user_id: str | None = None) -> Action:
    async def act(channel: AbstractChannel) -> None:
        target = channel.default_exchange if exchange == "" else await channel.get_exchange(exchange, ensure=False)
        await target.publish(aio_pika.Message(body, user_id=user_id), routing_key=routing_key)

    return act


def read(queue: str) -> Action:
    async def act(channel: AbstractChannel) -> None:
        await (await channel.get_queue(queue, ensure=False)).get(fail=False)

    return act


async def test_an_outside_system_may_only_publish_intake_as_itself_and_read_its_own_results(
    passwords: dict[str, str], clean_broker: str
) -> None:
    system = user_url(clean_broker, "sys-e-inovasi", passwords)
    as_itself = "sys-e-inovasi"

    async def declare_exchange(channel: AbstractChannel) -> None:
        await channel.declare_exchange("rogue.exchange", aio_pika.ExchangeType.FANOUT)

    refused = {
        "an event on inovda.events": publish(EVENTS_EXCHANGE.name, "region.index.updated", user_id=as_itself),
        "a forged answer on inovda.events": publish(EVENTS_EXCHANGE.name, "intake.accepted.simpeg", user_id=as_itself),
        "straight into the intake queue (default exchange)": publish("", SUBMISSION_QUEUE.name, user_id=as_itself),
        "another system's results queue (default exchange)": publish("", "results.simpeg", user_id=as_itself),
        "a routing key the intake does not take": publish(INTAKE_EXCHANGE.name, "innovation.scored", user_id=as_itself),
        "a version the intake does not know": publish(INTAKE_EXCHANGE.name, "unit.upsert.v2", user_id=as_itself),
        "a wildcard routing key": publish(INTAKE_EXCHANGE.name, "#", user_id=as_itself),
        "reading another system's results": read("results.simpeg"),
        "reading the intake queue": read(SUBMISSION_QUEUE.name),
        "declaring an exchange": declare_exchange,
    }
    for what, action in refused.items():
        assert isinstance(await refusal(system, action), ChannelAccessRefused), what

    # RabbitMQ checks `user_id` against the connection's user: another system's name is refused.
    impersonation = await refusal(system, publish(INTAKE_EXCHANGE.name, "unit.upsert.v1", user_id="sys-simpeg"))
    assert isinstance(impersonation, ChannelPreconditionFailed)
    assert "user_id" in str(impersonation)

    assert await refusal(system, read("results.e-inovasi")) is None
    for routing_key in ("unit.upsert.v1", "region.profile.v1", "innovation.report.v1"):
        assert await refusal(system, publish(INTAKE_EXCHANGE.name, routing_key, user_id=as_itself)) is None


async def test_no_service_may_change_the_shared_exchanges_or_publish_another_s_events(
    passwords: dict[str, str], clean_broker: str
) -> None:
    def delete(name: str) -> Action:
        async def act(channel: AbstractChannel) -> None:
            await channel.exchange_delete(name)

        return act

    def declare(name: str) -> Action:
        async def act(channel: AbstractChannel) -> None:
            await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)

        return act

    def look_up(name: str) -> Action:
        async def act(channel: AbstractChannel) -> None:
            await channel.get_exchange(name, ensure=True)  # a passive declaration: what the services do

        return act

    for user in ("inovda-submission", "inovda-scoring", "inovda-notification", "inovda-portal", "inovda-operator"):
        url = user_url(clean_broker, user, passwords)
        for exchange in ("inovda.intake", "inovda.events", "inovda.dead-letter"):
            assert isinstance(await refusal(url, delete(exchange)), ChannelAccessRefused), (user, "delete", exchange)
            assert isinstance(await refusal(url, declare(exchange)), ChannelAccessRefused), (user, "declare", exchange)
            assert await refusal(url, look_up(exchange)) is None, (user, "look up", exchange)

    # Each service publishes its own events only: no answer forged by scoring, no score by notification, ...
    forged = {
        "inovda-scoring": ("intake.accepted.simpeg", "unit.registered", "notification.sent"),
        "inovda-notification": ("innovation.scored", "region.index.updated", "intake.rejected.e-inovasi"),
        "inovda-submission": ("innovation.scored", "notification.failed", "intake.accepted.simpeg.extra"),
        "inovda-portal": ("innovation.submitted",),
        "inovda-operator": ("unit.registered",),
    }
    for user, routing_keys in forged.items():
        for routing_key in routing_keys:
            found = await refusal(user_url(clean_broker, user, passwords), publish(EVENTS_EXCHANGE.name, routing_key))
            assert isinstance(found, ChannelAccessRefused), (user, routing_key)
    allowed = {
        "inovda-scoring": (EVENTS_EXCHANGE.name, "innovation.scored"),
        "inovda-notification": (EVENTS_EXCHANGE.name, "notification.sent"),
        "inovda-submission": (EVENTS_EXCHANGE.name, "intake.rejected.unknown"),
        "inovda-portal": (INTAKE_EXCHANGE.name, "innovation.report.v1"),
    }
    for user, (exchange, routing_key) in allowed.items():
        assert await refusal(user_url(clean_broker, user, passwords), publish(exchange, routing_key)) is None, user
    # The portal reports innovations only; the operator does not publish intake at all.
    for user, routing_key in (("inovda-portal", "unit.upsert.v1"), ("inovda-operator", "unit.upsert.v1")):
        found = await refusal(user_url(clean_broker, user, passwords), publish(INTAKE_EXCHANGE.name, routing_key))
        assert isinstance(found, ChannelAccessRefused), (user, routing_key)


async def test_the_broker_refuses_a_message_over_2_mib_and_takes_one_just_under(
    passwords: dict[str, str], clean_broker: str
) -> None:
    system = user_url(clean_broker, "sys-e-inovasi", passwords)
    as_itself = "sys-e-inovasi"
    too_large = await refusal(
        system, publish(INTAKE_EXCHANGE.name, "innovation.report.v1", b"x" * (3 * 1024 * 1024), user_id=as_itself)
    )
    assert isinstance(too_large, ChannelPreconditionFailed)
    assert f"larger than configured max size {MAX_MESSAGE_BYTES}" in str(too_large)
    just_under = b"x" * (MAX_MESSAGE_BYTES - 64 * 1024)  # the properties count too
    assert (
        await refusal(system, publish(INTAKE_EXCHANGE.name, "innovation.report.v1", just_under, user_id=as_itself))
        is None
    )


async def test_every_user_has_a_connection_and_a_channel_limit(passwords: dict[str, str], clean_broker: str) -> None:
    limits = ACCESS["user_limits"]["outside_systems"]
    url = user_url(clean_broker, "sys-bappeda", passwords)
    connections = [await aio_pika.connect(url) for _ in range(limits["max-connections"])]
    try:
        # The broker answers the connection's opening with its closing (aiormq: an unexpected frame).
        with pytest.raises(InvalidFrameError, match=r"Connection\.Close"):
            await aio_pika.connect(url, timeout=10)
        await connections.pop().close()
        connections.append(await aio_pika.connect(url))  # one closed, one more may open
        # Channels count over all of the user's connections; one too many closes the connection it asks on.
        per_connection = limits["max-channels"] // len(connections)
        for connection in connections:
            for _ in range(per_connection):
                await connection.channel()
        with pytest.raises(AMQPConnectionError, match="channels"):
            await connections[0].channel()
    finally:
        for connection in connections:
            await connection.close()
    for user in [*ACCESS["services"], *SOURCES]:
        kind = "outside_systems" if user in SOURCES else "services"
        listed = broker_node.rabbitmqctl("list_user_limits", "--user", user)
        assert json.loads(listed) == ACCESS["user_limits"][kind], user


def submission_app(broker_url: str, passwords: dict[str, str], mongodb_url: str, database: str) -> FastStream:
    """The submission service with its own broker user, knowing every outside system's source."""
    return create_submission_app(
        SubmissionSettings(
            amqp_url=user_url(broker_url, "inovda-submission", passwords),
            mongodb_url=mongodb_url,
            mongodb_database=database,
            http_port=0,
            source_users=SOURCES,
            source_regions={source: ["64.02"] for source in SOURCES.values()},
        )
    )


@pytest.fixture
async def secured_services(
    passwords: dict[str, str], clean_broker: str, mongodb_url: str, drop_database: str
) -> AsyncIterator[list[FastStream]]:
    await purge_results(clean_broker)
    submission = submission_app(clean_broker, passwords, mongodb_url, drop_database)
    scoring = create_scoring_app(
        ScoringSettings(
            amqp_url=user_url(clean_broker, "inovda-scoring", passwords),
            mongodb_url=mongodb_url,
            mongodb_database=f"{drop_database}_s",
            http_port=0,
        )
    )
    notification = create_notification_app(
        NotificationSettings(
            amqp_url=user_url(clean_broker, "inovda-notification", passwords),
            mongodb_url=mongodb_url,
            mongodb_database=f"{drop_database}_n",
            http_port=0,
            smtp_port=free_port(),  # nothing listens: emails wait, the consumer still works
        )
    )
    apps = [submission, scoring, notification]
    for app in apps:
        await app.start()
    yield apps
    for app in reversed(apps):
        await app.stop()


async def publish_as(
    broker_url: str, user: str, passwords: dict[str, str], routing_key: str, body: dict[str, Any]
) -> str:
    message_id = uuid.uuid4().hex
    connection = await aio_pika.connect(user_url(broker_url, user, passwords))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("inovda.intake", ensure=False)
        message = aio_pika.Message(json.dumps(body).encode(), user_id=user, message_id=message_id)
        await exchange.publish(message, routing_key=routing_key)
    return message_id


async def results_of(
    broker_url: str, user: str, passwords: dict[str, str], until: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The answers in the user's results queue (taken), once `until` holds for them."""
    taken: list[dict[str, Any]] = []
    connection = await aio_pika.connect(user_url(broker_url, user, passwords))
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"results.{SOURCES[user]}", ensure=False)
        for _ in range(300):
            message = await queue.get(fail=False)
            if message is not None:
                await message.ack()
                taken.append(json.loads(message.body))
            elif until(taken):
                return taken
            else:
                await asyncio.sleep(0.1)
    raise AssertionError(f"results.{SOURCES[user]}: only {len(taken)} answers")


def answering(message_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda answer: bool(answer["message_id"] == message_id)


async def result_for(broker_url: str, user: str, passwords: dict[str, str], message_id: str) -> dict[str, Any]:
    answers = await results_of(broker_url, user, passwords, lambda taken: any(map(answering(message_id), taken)))
    return next(answer for answer in answers if answer["message_id"] == message_id)


async def test_services_with_their_own_users_answer_each_sender_on_its_own_results_queue(
    passwords: dict[str, str], secured_services: list[FastStream], clean_broker: str
) -> None:
    for app in secured_services:  # each consumes and publishes with its own user only
        assert (await app.context.get("readiness").check())["consuming"]
    async with EventProbe(clean_broker) as events:
        accepted = await publish_as(clean_broker, "sys-simpeg", passwords, "unit.upsert.v1", samples.unit())
        answer = await result_for(clean_broker, "sys-simpeg", passwords, accepted)
        assert answer["status"] == "accepted"

        claimed = await publish_as(clean_broker, "sys-e-inovasi", passwords, "unit.upsert.v1", samples.unit("DISDIK"))
        refusal_ = await result_for(clean_broker, "sys-e-inovasi", passwords, claimed)
        assert [(r["field"], r["code"]) for r in refusal_["reasons"]] == [("source", "source_mismatch")]

        report = await publish_as(
            clean_broker, "sys-e-inovasi", passwords, "innovation.report.v1", samples.innovation()
        )
        assert (await result_for(clean_broker, "sys-e-inovasi", passwords, report))["status"] == "accepted"
        scored = await events.wait_for("innovation.scored", timeout=20)
        assert scored[0].body["external_id"] == "INV-001"

        # Without user_id the answer goes to `unknown`, never to the source the message claims.
        connection = await aio_pika.connect(clean_broker)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange("inovda.intake", ensure=False)
            body = json.dumps(samples.unit("DINSOS")).encode()
            await exchange.publish(aio_pika.Message(body, message_id="anonymous"), routing_key="unit.upsert.v1")
        anonymous = await events.wait_for("intake.rejected.unknown", lambda b: b["message_id"] == "anonymous")
        assert anonymous[0].body["reasons"][0]["code"] == "unauthenticated"


async def test_the_intake_and_every_results_queue_are_bounded_by_policy(
    passwords: dict[str, str], clean_broker: str
) -> None:
    await declare_intake_queue(clean_broker)  # a policy applies to a queue declared before it or after
    policies = broker_node.queue_policies()
    assert policies[SUBMISSION_QUEUE.name] == "intake-bounded"
    for source in SOURCES.values():
        assert policies[f"results.{source}"] == "results-bounded"
    listed = {line.split("\t")[1]: line for line in broker_node.rabbitmqctl("list_policies").splitlines()[1:]}
    assert '"overflow":"reject-publish"' in listed["intake-bounded"]
    assert f'"max-length":{INTAKE_BOUND.max_length}' in listed["intake-bounded"]
    assert '"overflow":"drop-head"' in listed["results-bounded"]
    assert f'"max-length":{RESULTS_BOUND.max_length}' in listed["results-bounded"]


@pytest.fixture
def smaller_bound(imported: Imported) -> Iterator[Callable[[str, int], None]]:
    """Sets a rendered policy again with a smaller `max-length` (a flood past 100,000 would take minutes); the
    definitions as rendered are imported again afterwards."""
    rendered = {policy["name"]: policy for policy in json.loads(imported.definitions.read_text())["policies"]}

    def set_max_length(name: str, max_length: int) -> None:
        policy = rendered[name]
        definition = json.dumps({**policy["definition"], "max-length": max_length})
        broker_node.rabbitmqctl(
            "set_policy", "--priority", str(policy["priority"]), "--apply-to", policy["apply-to"],
            name, policy["pattern"], definition,
        )  # fmt: skip

    yield set_max_length
    broker_node.import_definitions(imported.definitions)


@pytest.fixture
async def start_submission(
    passwords: dict[str, str], clean_broker: str, mongodb_url: str, drop_database: str
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Starts the submission service with its own broker user when called; it is stopped after the test."""
    app = submission_app(clean_broker, passwords, mongodb_url, drop_database)
    started = []

    async def start() -> None:
        await app.start()
        started.append(app)

    yield start
    for running in started:
        await running.stop()


async def declare_intake_queue(broker_url: str) -> None:
    broker = RabbitBroker(broker_url, logger=None)
    await broker.connect()
    await declare_topology(broker, (SUBMISSION_QUEUE,))
    await broker.stop()


async def test_a_flood_past_the_intake_bound_is_refused_and_nothing_before_it_is_lost(
    passwords: dict[str, str],
    clean_broker: str,
    start_submission: Callable[[], Awaitable[None]],
    smaller_bound: Callable[[str, int], None],
) -> None:
    bound = 20
    await declare_intake_queue(clean_broker)
    smaller_bound("intake-bounded", bound)
    await purge_results(clean_broker)
    connection = await aio_pika.connect(user_url(clean_broker, "sys-simpeg", passwords))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        intake = await channel.get_exchange(INTAKE_EXCHANGE.name, ensure=False)

        async def send(number: int) -> str:
            message_id = f"flood-{number}"
            body = json.dumps(samples.unit(f"FLOOD-{number}")).encode()
            message = aio_pika.Message(body, message_id=message_id, user_id="sys-simpeg", delivery_mode=2)
            await intake.publish(message, routing_key="unit.upsert.v1")
            return message_id

        # Nobody consumes yet: the queue fills. A quorum queue looks at its length before it takes a message,
        # so it takes one past the bound; every one after that is refused.
        kept = [await send(number) for number in range(bound)]
        with contextlib.suppress(DeliveryError):
            kept.append(await send(bound))
        for number in range(bound + 1, bound + 6):
            with pytest.raises(DeliveryError):  # a nack: the sender knows, and sends it again later
                await send(number)
    # The sender sends again once the queue has room, and everything is answered exactly once.
    await start_submission()
    answers = await results_of(clean_broker, "sys-simpeg", passwords, lambda taken: len(taken) >= len(kept))
    assert sorted(answer["message_id"] for answer in answers) == sorted(kept)
    assert {answer["status"] for answer in answers} == {"accepted"}
    again = await publish_as(clean_broker, "sys-simpeg", passwords, "unit.upsert.v1", samples.unit("FLOOD-X"))
    assert (await result_for(clean_broker, "sys-simpeg", passwords, again))["status"] == "accepted"


async def test_a_full_results_queue_drops_its_oldest_answer_and_holds_no_one_else_back(
    passwords: dict[str, str],
    clean_broker: str,
    start_submission: Callable[[], Awaitable[None]],
    smaller_bound: Callable[[str, int], None],
    mongo: AsyncMongoClient[dict[str, object]],
    drop_database: str,
) -> None:
    """An outside system that does not read its answers loses the oldest of them, never a newer one, and the
    submission service's publications are confirmed (a nack would leave the answer, whose copies go to the
    other services too, for the outbox relay to publish again and again)."""
    bound, sent = 3, 6
    smaller_bound("results-bounded", bound)
    await purge_results(clean_broker)
    await start_submission()
    async with EventProbe(clean_broker, "intake.#") as events:
        ids = []
        for number in range(sent):  # one after the other: the results queue keeps them in this order
            unit = samples.unit(f"R-{number}")
            ids.append(await publish_as(clean_broker, "sys-simpeg", passwords, "unit.upsert.v1", unit))
            await events.wait_for("intake.accepted.simpeg", answering(ids[-1]))
        kept = await results_of(clean_broker, "sys-simpeg", passwords, lambda taken: len(taken) >= bound)
        assert [answer["message_id"] for answer in kept] == ids[-bound:]
        assert {event.body["message_id"] for event in events.matching("intake.accepted.simpeg")} == set(ids)
    pending = mongo[drop_database]["outbox_pending"]
    for _ in range(50):  # marked published once confirmed, a moment after the answer was seen
        if await pending.count_documents({}) == 0:
            break
        await asyncio.sleep(0.1)
    assert await pending.count_documents({}) == 0, "answers the broker refused, left for the relay to publish"
