"""Held emails (a score email waiting out its window) outlive the replica that held them: another replica takes
them over once that one's heartbeat is old, and each is sent once, also when two replicas both attempt it."""

import asyncio
import contextlib
import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from inovda_cli.mailsink import MailSink
from inovda_notification.adapters.smtp import SmtpConfig, SmtpSender
from inovda_notification.adapters.store import CommitMarks, NotificationStore
from inovda_notification.app import build_delivery
from inovda_notification.delivery import Delivery
from inovda_notification.settings import NotificationSettings
from inovda_notification.views import NotificationViews
from inovda_shared.mongo import connect
from inovda_shared.outbox import OutboxRelay
from tests.support.one_held_email import HELD

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = NotificationSettings(heartbeat_interval_seconds=0.2, replica_dead_after_seconds=1.0)


@pytest.fixture
async def replicas(
    publisher: RabbitBroker, mongodb_url: str, drop_database: str, mail: MailSink
) -> AsyncIterator[list[Delivery]]:
    """Two replicas' deliveries over one database, each with its own connection."""
    clients = [connect(mongodb_url) for _ in range(2)]
    marks = [CommitMarks(mongodb_url, drop_database, f"replica-{n}") for n in range(2)]
    deliveries = []
    for client, mark in zip(clients, marks, strict=True):
        store = NotificationStore(client[drop_database])
        sender = SmtpSender(SmtpConfig("127.0.0.1", mail.port, "Inovda <inovda@kukarkab.example>"))
        relay = OutboxRelay([store.outbox], publisher, 1.0)
        deliveries.append(build_delivery(SETTINGS, store, mark, sender, relay, publisher))
    yield deliveries
    for delivery in deliveries:
        await delivery.drain(timeout_seconds=5)
    for client in clients:
        await client.close()
    for mark in marks:
        mark.close()


async def beating(delivery: Delivery, seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        await delivery.holding.beat()
        await asyncio.sleep(SETTINGS.heartbeat_interval_seconds)


async def test_a_held_email_of_a_replica_killed_before_it_fell_due_is_sent_once_by_another(
    replicas: list[Delivery], mail: MailSink, mongodb_url: str, drop_database: str, mongo: AsyncMongoClient[Any]
) -> None:
    dying = subprocess.Popen(
        [sys.executable, "-m", "tests.support.one_held_email", mongodb_url, drop_database, str(mail.port), "1.5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert dying.stdout is not None
        assert dying.stdout.readline().strip() == "held"
    finally:
        dying.kill()  # SIGKILL: its timer dies with it
        dying.wait()
    survivor = replicas[0]
    await beating(survivor, 4.0)  # dead after 1 s of silence; the email is due 1.5 s after it was held
    assert [item.dedupe_key for item in mail.received] == [HELD.dedupe_key]
    store = NotificationStore(mongo[drop_database])
    stored = await NotificationViews(store).email(HELD.dedupe_key)
    assert stored is not None
    assert (stored.status, stored.confirmed) == ("sent", True)
    heartbeats = await store.heartbeats()
    assert [beat["_id"] for beat in heartbeats] == [survivor.holding.owner], "the dead one's heartbeat is gone"


async def test_a_replica_thought_dead_and_the_one_taking_over_send_its_email_once(
    replicas: list[Delivery], mail: MailSink
) -> None:
    slow, other = replicas
    await slow.holding.beat()  # and never again: to the other it looks dead
    await slow.hold(HELD, "corr-held", dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5))
    await beating(other, 4.0)  # takes it over; both attempt it when it falls due
    await asyncio.sleep(0.5)
    assert [item.dedupe_key for item in mail.received] == [HELD.dedupe_key]


@contextlib.asynccontextmanager
async def one_replica(
    store_kind: type[NotificationStore],
    publisher: RabbitBroker,
    mongodb_url: str,
    database: str,
    mail: MailSink,
    settings: NotificationSettings = SETTINGS,
) -> AsyncIterator[tuple[NotificationStore, Delivery]]:
    """One replica's store of `store_kind` (one that fails as a test needs) and its delivery, sending to `mail`."""
    client = connect(mongodb_url)
    marks = CommitMarks(mongodb_url, database, "replica-0")
    store = store_kind(client[database])
    sender = SmtpSender(SmtpConfig("127.0.0.1", mail.port, "Inovda <inovda@kukarkab.example>"))
    delivery = build_delivery(settings, store, marks, sender, OutboxRelay([store.outbox], publisher, 1.0), publisher)
    try:
        yield store, delivery
    finally:
        await delivery.drain(timeout_seconds=5)
        await client.close()
        marks.close()


class HoldAnswerLostOnce(NotificationStore):
    """A store whose first hold is stored and its answer lost (the connection dropped before it came)."""

    lost = 1

    async def hold(self, document: dict[str, Any]) -> bool:
        held = await super().hold(document)
        if self.lost:
            self.lost -= 1
            raise AutoReconnect("connection closed before the answer came")
        return held


async def test_a_held_email_stored_though_its_answer_was_lost_is_sent_once_when_its_handler_tries_again(
    publisher: RabbitBroker, mongodb_url: str, drop_database: str, mail: MailSink
) -> None:
    """The handler fails (an outage) and is run again: the hold meets its own document, which nobody else
    would ever send (this replica is alive, and held it)."""
    async with one_replica(HoldAnswerLostOnce, publisher, mongodb_url, drop_database, mail) as (_, delivery):
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)
        with pytest.raises(AutoReconnect):
            await delivery.hold(HELD, "corr-held", until)
        assert await delivery.hold(HELD, "corr-held", until)  # as the handler's retry in place does
        assert not await delivery.hold(HELD, "corr-held", until), "a copy while it is held here: nothing more"
        await asyncio.sleep(1.5)
        assert [item.dedupe_key for item in mail.received] == [HELD.dedupe_key]
        await delivery.hold(HELD, "corr-held", until)  # a late copy of its event, after it was sent
        await asyncio.sleep(1.0)
        assert [item.dedupe_key for item in mail.received] == [HELD.dedupe_key]


class HoldAnswerSlow(NotificationStore):
    """A store whose hold is stored at once and answered late (a busy server)."""

    async def hold(self, document: dict[str, Any]) -> bool:
        held = await super().hold(document)
        await asyncio.sleep(0.3)
        return held


async def test_a_held_email_whose_handler_was_cancelled_after_the_insert_is_sent_by_its_holder(
    publisher: RabbitBroker, mongodb_url: str, drop_database: str, mail: MailSink
) -> None:
    """As when the broker channel under a handler is lost mid-handler: the event goes to another replica, which
    finds the email held by this live one and leaves it to it (CI, 2026-12-01, seed 62208: two score emails)."""
    async with one_replica(HoldAnswerSlow, publisher, mongodb_url, drop_database, mail) as (_, delivery):
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.5)
        handler = asyncio.ensure_future(delivery.hold(HELD, "corr-held", until))
        await asyncio.sleep(0.1)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
        await asyncio.sleep(1.5)
        assert [item.dedupe_key for item in mail.received] == [HELD.dedupe_key]
