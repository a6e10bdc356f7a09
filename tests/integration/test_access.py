"""Least privilege on the real local broker, with the rendered definitions imported.

Outside systems may publish to `inovda.intake` and read their own results, nothing else; the submission
service answers only a sender's own source; each service works with its own user.
"""

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused
from faststream import FastStream

from inovda_cli import samples
from inovda_cli.broker_access import render_file
from inovda_cli.processes import free_port
from inovda_notification.app import create_app as create_notification_app
from inovda_notification.settings import NotificationSettings
from inovda_scoring.app import create_app as create_scoring_app
from inovda_scoring.settings import ScoringSettings
from inovda_submission.app import create_app as create_submission_app
from inovda_submission.settings import SubmissionSettings
from tests.support.infra import LOCAL_AMQP_URL
from tests.support.probe import EventProbe

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="imports definitions with the local rabbitmqctl"),
    # rabbitmqctl changes the local node's users: a broker named by AMQP_URL may be another's.
    pytest.mark.skipif(
        os.environ.get("AMQP_URL", LOCAL_AMQP_URL) != LOCAL_AMQP_URL,
        reason="imports definitions into the local node with rabbitmqctl; AMQP_URL names another broker",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
REFUSED = ChannelAccessRefused


@pytest.fixture(scope="module")
def passwords(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    access = json.loads((ROOT / "deploy/rabbitmq/access.json").read_text())
    users = [*access["services"], *access["outside_systems"]]
    chosen = {user: secrets.token_urlsafe(16) for user in users}
    folder = tmp_path_factory.mktemp("secrets")
    for user, password in chosen.items():
        (folder / f"rabbitmq-{user}").write_text(password)
    out = render_file(ROOT / "deploy/rabbitmq/access.json", folder, folder / "definitions.json")
    import_definitions(out)
    return chosen


def import_definitions(definitions: Path) -> None:
    # rabbitmqctl runs as the broker's own user, who cannot read a root-only temporary folder: hand it a
    # readable copy (password hashes, not passwords), then remove it.
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as readable:
        readable.write(definitions.read_bytes())
    Path(readable.name).chmod(0o644)
    try:
        subprocess.run(["rabbitmqctl", "-q", "import_definitions", readable.name], check=True)
    finally:
        Path(readable.name).unlink()


def url(user: str, passwords: dict[str, str]) -> str:
    return LOCAL_AMQP_URL.replace("guest:guest", f"{user}:{passwords[user]}")


async def purge_results() -> None:
    connection = await aio_pika.connect(LOCAL_AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for source in ("simpeg", "e-inovasi", "bappeda"):
            queue = await channel.get_queue(f"results.{source}")
            await queue.purge()


async def refused(url_: str, action: Any) -> bool:
    connection = await aio_pika.connect(url_)
    async with connection:
        channel = await connection.channel()
        try:
            await action(channel)
        except REFUSED:
            return True
    return False


async def test_an_outside_system_may_only_publish_intake_and_read_its_own_results(
    passwords: dict[str, str], clean_broker: str
) -> None:
    system = url("sys-e-inovasi", passwords)

    async def publish_to_events(channel: aio_pika.abc.AbstractChannel) -> None:
        exchange = await channel.get_exchange("inovda.events", ensure=False)
        await exchange.publish(aio_pika.Message(b"{}"), routing_key="region.index.updated")

    async def read(queue: str) -> Any:
        async def consume(channel: aio_pika.abc.AbstractChannel) -> None:
            await (await channel.get_queue(queue, ensure=False)).get(fail=False)

        return consume

    async def declare_exchange(channel: aio_pika.abc.AbstractChannel) -> None:
        await channel.declare_exchange("rogue.exchange", aio_pika.ExchangeType.FANOUT)

    async def publish_intake(channel: aio_pika.abc.AbstractChannel) -> None:
        exchange = await channel.get_exchange("inovda.intake", ensure=False)
        await exchange.publish(aio_pika.Message(b"{}", user_id="sys-e-inovasi"), routing_key="unit.upsert.v1")

    assert await refused(system, publish_to_events)
    assert await refused(system, await read("results.simpeg"))
    assert await refused(system, await read("submission.intake"))
    assert await refused(system, declare_exchange)
    assert not await refused(system, await read("results.e-inovasi"))
    assert not await refused(system, publish_intake)


@pytest.fixture
async def secured_services(
    passwords: dict[str, str], clean_broker: str, mongodb_url: str, drop_database: str
) -> AsyncIterator[list[FastStream]]:
    await purge_results()
    users = {"sys-simpeg": "simpeg", "sys-e-inovasi": "e-inovasi", "sys-bappeda": "bappeda"}
    submission = create_submission_app(
        SubmissionSettings(
            amqp_url=url("inovda-submission", passwords),
            mongodb_url=mongodb_url,
            mongodb_database=drop_database,
            http_port=0,
            source_users=users,
            source_regions={source: ["64.02"] for source in users.values()},
        )
    )
    scoring = create_scoring_app(
        ScoringSettings(
            amqp_url=url("inovda-scoring", passwords),
            mongodb_url=mongodb_url,
            mongodb_database=f"{drop_database}_s",
            http_port=0,
        )
    )
    notification = create_notification_app(
        NotificationSettings(
            amqp_url=url("inovda-notification", passwords),
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


async def publish_as(user: str, passwords: dict[str, str], routing_key: str, body: dict[str, Any]) -> str:
    message_id = uuid.uuid4().hex
    connection = await aio_pika.connect(url(user, passwords))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("inovda.intake", ensure=False)
        message = aio_pika.Message(json.dumps(body).encode(), user_id=user, message_id=message_id)
        await exchange.publish(message, routing_key=routing_key)
    return message_id


async def result_for(user: str, passwords: dict[str, str], source: str, message_id: str) -> dict[str, Any]:
    connection = await aio_pika.connect(url(user, passwords))
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"results.{source}", ensure=False)
        for _ in range(100):
            message = await queue.get(fail=False)
            if message is not None:
                await message.ack()
                body: dict[str, Any] = json.loads(message.body)
                if body["message_id"] == message_id:
                    return body
            else:
                await asyncio.sleep(0.1)
    raise AssertionError(f"no answer for {message_id} in results.{source}")


async def test_services_with_their_own_users_answer_each_sender_on_its_own_results_queue(
    passwords: dict[str, str], secured_services: list[FastStream], clean_broker: str
) -> None:
    for app in secured_services:  # each consumes and publishes with its own user only
        assert (await app.context.get("readiness").check())["consuming"]
    async with EventProbe(clean_broker) as events:
        accepted = await publish_as("sys-simpeg", passwords, "unit.upsert.v1", samples.unit())
        answer = await result_for("sys-simpeg", passwords, "simpeg", accepted)
        assert answer["status"] == "accepted"

        claimed = await publish_as("sys-e-inovasi", passwords, "unit.upsert.v1", samples.unit("DISDIK"))
        refusal = await result_for("sys-e-inovasi", passwords, "e-inovasi", claimed)
        assert [(r["field"], r["code"]) for r in refusal["reasons"]] == [("source", "source_mismatch")]

        report = await publish_as("sys-e-inovasi", passwords, "innovation.report.v1", samples.innovation())
        assert (await result_for("sys-e-inovasi", passwords, "e-inovasi", report))["status"] == "accepted"
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
