"""Calm, ordered emails: the office's index emails through a bulk load and out-of-order index versions, and one
score email for a burst of revisions. Real broker, database and SMTP server; the windows are seconds here
(settings), minutes in production."""

import asyncio
import contextlib
import datetime as dt
import functools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from inovda_cli import samples
from inovda_cli.demo_data import demo_data
from inovda_cli.mailsink import MailSink, ReceivedEmail
from inovda_cli.publish import IntakeMessage, publish_messages
from inovda_notification.adapters.store import NotificationStore
from inovda_notification.app import create_app, index_email_rules
from inovda_notification.domain import Renderer
from inovda_notification.domain.expectations import index_email_problems
from inovda_notification.office import IndexEmails
from inovda_notification.settings import NotificationSettings
from inovda_shared.contracts.events import RegionIndexUpdated
from inovda_shared.messaging import OutgoingEvent, publish_events
from inovda_shared.mongo import Document
from tests.integration.test_held_emails import one_replica
from tests.integration.test_notification import index_updated, quick_settings, register_contacts
from tests.support.pipeline import pipeline, wait_for_mail
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration


def office_emails(mail: MailSink) -> list[ReceivedEmail]:
    return [item for item in mail.received if item.dedupe_key.startswith("predicate:")]


def version_of(email: ReceivedEmail) -> int:
    return int(email.dedupe_key.rsplit(":v", 1)[1])


def office_problems(emails: list[ReceivedEmail], announced: dict[int, RegionIndexUpdated]) -> list[str]:
    """Each email newer than the one before, its figures its version's, its "before" and direction the last
    email's, the last one the latest state (`expectations`, as the chaos suite checks it)."""
    return index_email_problems(announced, [(email.dedupe_key, email.part("plain")) for email in emails])


async def until(condition: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)


async def test_a_bulk_load_gives_the_office_at_most_two_emails_each_true_to_the_last(
    clean_broker: str, mongodb_url: str, database_name: str, mail: MailSink, mongo: AsyncMongoClient[Any]
) -> None:
    data = demo_data()
    bulk = [message for message in data.reports if (message.message_id or "").startswith("report-")][:50]
    async with (
        pipeline(
            clean_broker,
            mongodb_url,
            database_name,
            mail,
            mongo,
            score_email_window_seconds=0.5,
            index_predicate_settle_seconds=1.0,
            index_quiet_seconds=2.0,
            index_min_gap_seconds=20.0,
            # Every address is at one made-up domain: the per-domain limit would pace the whole test.
            rate_limit_per_domain_per_minute=100_000,
            rate_limit_global_per_minute=100_000,
        ),
        EventProbe(clean_broker) as events,
    ):
        await publish_messages(clean_broker, data.registrations)
        await events.wait_for("intake.accepted.*", count=len(data.registrations), timeout=60)
        await wait_for_mail(mail, {"predicate"})  # the year's first index: where the office starts
        await publish_messages(clean_broker, bulk)
        await events.wait_for("intake.*.*", lambda body: body.get("key", {}).get("external_id"), count=50, timeout=90)
        await events.wait_for("innovation.scored", count=50, timeout=90)

        def announced() -> dict[int, RegionIndexUpdated]:
            return {
                update.version: update
                for update in (
                    RegionIndexUpdated.model_validate(seen.body) for seen in events.matching("region.index.updated")
                )
            }

        def office_told_the_latest() -> bool:
            latest = announced()[max(announced())]
            if not office_emails(mail):
                return False
            told = announced()[version_of(office_emails(mail)[-1])]
            return (told.iid, told.predicate) == (latest.iid, latest.predicate)

        await until(office_told_the_latest, 60)
        await asyncio.sleep(3.0)  # and nothing more comes
        emails = office_emails(mail)
        states = announced()

    print("\noffice emails:", *(item.subject for item in emails), sep="\n  ")
    assert office_told_the_latest(), [item.subject for item in emails]
    assert 1 <= len(emails[1:]) <= 2, [item.subject for item in emails]
    assert office_problems(emails, states) == []
    assert len({item.dedupe_key for item in mail.received}) == len(mail.received), "no email twice"


@pytest.fixture
async def notification(
    clean_broker: str, mongodb_url: str, drop_database: str, mail: MailSink, events: EventProbe
) -> AsyncIterator[NotificationSettings]:
    """Notification alone; a new predicate settles for half a second, a moved IID rests for one."""
    settings = quick_settings(
        clean_broker,
        mongodb_url,
        drop_database,
        mail,
        index_predicate_settle_seconds=0.5,
        index_quiet_seconds=1.0,
        smtp_max_attempts=10,
        smtp_first_backoff_seconds=0.5,
    )
    app = create_app(settings)
    await app.start()
    yield settings
    await app.stop()


async def publish_index(broker: RabbitBroker, *updates: RegionIndexUpdated, message_id: str | None = None) -> None:
    await publish_events(
        broker,
        [
            OutgoingEvent.of(update, update.routing_key, message_id or uuid.uuid4().hex, "corr-index")
            for update in updates
        ],
    )


def version(number: int, iid: float, predicate: str, previous: tuple[float, str] | None = None) -> RegionIndexUpdated:
    return index_updated(iid, predicate, previous, version=number)


async def test_index_versions_out_of_order_never_email_a_stale_state_and_the_direction_is_true(
    notification: NotificationSettings, publisher: RabbitBroker, events: EventProbe, mail: MailSink
) -> None:
    await register_contacts(publisher, events)
    v1 = version(1, 20.0, "Kurang Inovatif")
    await publish_index(publisher, v1)
    await wait_for_mail(mail, {"predicate"})

    # The band is crossed; the versions arrive in any order, the newest among the first.
    crossing = [
        version(20, 45.0, "Inovatif", (44.0, "Inovatif")),
        version(12, 41.0, "Inovatif", (39.0, "Kurang Inovatif")),
        version(5, 30.0, "Kurang Inovatif", (28.0, "Kurang Inovatif")),
        version(18, 44.0, "Inovatif", (43.0, "Inovatif")),
        version(9, 38.0, "Kurang Inovatif", (37.0, "Kurang Inovatif")),
    ]
    await publish_index(publisher, *crossing)
    await publish_index(publisher, crossing[0], message_id="again")  # and one of them twice
    await publish_index(publisher, crossing[0], message_id="again")
    await until(lambda: len(office_emails(mail)) >= 2, 10)
    # Later: the IID falls back a little (its own predecessor says it rose), then an older version turns up.
    await publish_index(publisher, version(25, 44.5, "Inovatif", (44.2, "Inovatif")))
    await until(lambda: len(office_emails(mail)) >= 3, 10)
    await publish_index(publisher, version(22, 46.0, "Inovatif", (45.5, "Inovatif")))
    await asyncio.sleep(2.5)

    emails = office_emails(mail)
    assert [item.dedupe_key for item in emails] == [
        "predicate:64.02/2026:v1",
        "predicate:64.02/2026:v20",
        "predicate:64.02/2026:v25",
    ]
    assert emails[1].subject == "Predikat IID 2026 berubah: Kurang Inovatif → Inovatif (IID 45,00)"
    assert emails[2].subject == "IID 64.02 tahun 2026 turun ke 44,50 (Inovatif)"
    states = {update.version: update for update in [v1, *crossing, version(25, 44.5, "Inovatif")]}
    assert office_problems(emails, states) == []


async def test_a_burst_of_revisions_gives_one_score_email_for_the_last(
    clean_broker: str, mongodb_url: str, database_name: str, mail: MailSink, mongo: AsyncMongoClient[Any]
) -> None:
    async with (
        pipeline(clean_broker, mongodb_url, database_name, mail, mongo, score_email_window_seconds=2.0),
        EventProbe(clean_broker) as events,
    ):
        await publish_messages(
            clean_broker,
            [
                IntakeMessage.of("region.profile.v1", samples.profile(), uuid.uuid4().hex),
                IntakeMessage.of("unit.upsert.v1", samples.unit("DINKES"), uuid.uuid4().hex),
            ],
        )
        await events.wait_for("intake.accepted.*", count=2)
        revisions = [
            samples.innovation(title=title)
            for title in ("Posyandu Digital Kukar", "Posyandu Digital Kukar 2.0", "Posyandu Digital Kukar 3.0")
        ]
        await publish_messages(
            clean_broker,
            [IntakeMessage.of("innovation.report.v1", body, f"revision-{n}") for n, body in enumerate(revisions, 1)],
        )
        scored = await events.wait_for("innovation.scored", count=3, timeout=30)
        assert sorted(seen.body["revision"] for seen in scored) == [1, 2, 3]
        # Revisions are numbered as the intake took them in: the last one's title is the last revision's.
        [last_title] = [seen.body["title"] for seen in scored if seen.body["revision"] == 3]
        await wait_for_mail(mail, {"score"})
        await asyncio.sleep(3.0)  # the earlier revisions' windows are over too

    keys = sorted(item.dedupe_key for item in mail.received if not item.dedupe_key.startswith("predicate:"))
    assert keys == [
        "receipt:e-inovasi/INV-001:r1",
        "receipt:e-inovasi/INV-001:r2",
        "receipt:e-inovasi/INV-001:r3",
        "score:e-inovasi/INV-001:r3",
    ]
    [score] = [item for item in mail.received if item.dedupe_key.startswith("score:")]
    assert f'"{last_title}"' in score.subject
    assert "(revisi 3)" in score.part("plain")
    assert set(score.envelope_to) == {"dinkes@kukarkab.example", "mentor.inovasi@kukarkab.example"}


async def test_the_next_index_email_waits_for_the_last_one_to_go_out(
    notification: NotificationSettings, publisher: RabbitBroker, events: EventProbe, mail: MailSink
) -> None:
    """An email the server refused is sent again later: the office still reads the two in order."""
    await register_contacts(publisher, events)
    await publish_index(publisher, version(1, 20.0, "Kurang Inovatif"))
    await wait_for_mail(mail, {"predicate"})
    mail.refusing = True
    await publish_index(publisher, version(20, 45.0, "Inovatif", (44.0, "Inovatif")))
    await until(lambda: bool(mail.refused), 10)
    await publish_index(publisher, version(25, 44.5, "Inovatif", (44.2, "Inovatif")))
    await asyncio.sleep(2.0)  # the second one is due by now: it waits
    mail.refusing = False
    await until(lambda: len(office_emails(mail)) >= 3, 20)
    assert [item.dedupe_key for item in office_emails(mail)] == [
        "predicate:64.02/2026:v1",
        "predicate:64.02/2026:v20",
        "predicate:64.02/2026:v25",
    ]


class IndexStateReadFailsOnce(NotificationStore):
    """A store whose first read of what the office was last emailed fails (the database restarting)."""

    failures = 1

    async def index_email_state(self, region_code: str, year: int) -> Document | None:
        if self.failures:
            self.failures -= 1
            raise AutoReconnect("connection refused")
        return await super().index_email_state(region_code, year)


class IndexHoldAnsweredLate(NotificationStore):
    """A store whose hold of an index version is stored at once and answered late (a busy server)."""

    async def hold(self, document: dict[str, Any]) -> bool:
        held = await super().hold(document)
        await asyncio.sleep(0.3)
        return held


@contextlib.asynccontextmanager
async def one_office(
    store_class: type[NotificationStore], publisher: RabbitBroker, settings: NotificationSettings, mail: MailSink
) -> AsyncIterator[IndexEmails]:
    """One replica's office emails over `store_class`, the region's office address stored, sending to `mail`."""
    url, database = settings.mongodb_url, settings.mongodb_database
    async with one_replica(store_class, publisher, url, database, mail, settings) as (store, delivery):
        office_address = {"region_code": "64.02", "year": 2026, "admin_emails": ["brida@kukarkab.example"]}
        await store.save_versioned("regions", "64.02/2026", 1, office_address)
        clock = functools.partial(dt.datetime.now, dt.UTC)
        rules, timezone = index_email_rules(settings), ZoneInfo(settings.timezone)
        office = IndexEmails(store, delivery, Renderer(), rules, timezone, clock)
        try:
            yield office
        finally:
            await office.drain()


async def test_an_index_version_whose_handling_failed_past_its_hold_is_emailed_when_the_handler_runs_again(
    publisher: RabbitBroker, clean_broker: str, mongodb_url: str, drop_database: str, mail: MailSink
) -> None:
    """Found by the chaos suite (CI, 2026-12-01, seed 165108: the office never told the latest state): the hold
    was stored, the check's first read failed, and the handler's second run found the version held here already
    and left it to the first run, which had given up."""
    settings = quick_settings(clean_broker, mongodb_url, drop_database, mail)
    async with one_office(IndexStateReadFailsOnce, publisher, settings, mail) as office:
        first = version(1, 20.0, "Kurang Inovatif")
        with pytest.raises(AutoReconnect):
            await office.on_index(first, "corr-index")
        await office.on_index(first, "corr-index")  # as the handler's retry in place does
        await until(lambda: len(office_emails(mail)) == 1, 10)
        assert [item.dedupe_key for item in office_emails(mail)] == ["predicate:64.02/2026:v1"]


async def test_an_index_version_whose_handling_failed_past_its_hold_is_emailed_without_the_handler_again(
    publisher: RabbitBroker, clean_broker: str, mongodb_url: str, drop_database: str, mail: MailSink
) -> None:
    """As when the event then goes to another replica, which finds the version held by this live one: the
    version is looked at again here, after a backoff."""
    settings = quick_settings(clean_broker, mongodb_url, drop_database, mail)
    async with one_office(IndexStateReadFailsOnce, publisher, settings, mail) as office:
        with pytest.raises(AutoReconnect):
            await office.on_index(version(1, 20.0, "Kurang Inovatif"), "corr-index")
        await until(lambda: len(office_emails(mail)) == 1, 10)
        assert [item.dedupe_key for item in office_emails(mail)] == ["predicate:64.02/2026:v1"]


async def test_an_index_version_whose_handler_was_cancelled_after_its_hold_is_emailed(
    publisher: RabbitBroker, clean_broker: str, mongodb_url: str, drop_database: str, mail: MailSink
) -> None:
    """As when the broker channel under the handler is lost: the event goes to another replica, which finds the
    version held by this live one and leaves it to it."""
    settings = quick_settings(clean_broker, mongodb_url, drop_database, mail)
    async with one_office(IndexHoldAnsweredLate, publisher, settings, mail) as office:
        handler = asyncio.ensure_future(office.on_index(version(1, 20.0, "Kurang Inovatif"), "corr-index"))
        await asyncio.sleep(0.1)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
        await until(lambda: len(office_emails(mail)) == 1, 10)
        assert [item.dedupe_key for item in office_emails(mail)] == ["predicate:64.02/2026:v1"]
