"""The notification service against real RabbitMQ, a real MongoDB-protocol server and a real SMTP server."""

import asyncio
import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient

from inovda_cli import samples
from inovda_cli.deadletters import list_dead_letters, replay_dead_letters, request_email_resends
from inovda_cli.mailsink import MailSink, ReceivedEmail
from inovda_cli.processes import free_port
from inovda_notification.adapters.smtp import SmtpConfig, SmtpSender
from inovda_notification.adapters.store import CommitMarks, NotificationStore
from inovda_notification.app import build_delivery, create_app
from inovda_notification.delivery import SendingLimits
from inovda_notification.domain import EmailMessage, Renderer
from inovda_notification.domain.quotas import Go, Limits, OverQuota, Wait
from inovda_notification.scheduler import Scheduler
from inovda_notification.settings import NotificationSettings
from inovda_shared.contracts.events import (
    IndicatorScore,
    InnovationScored,
    IntakeAnswer,
    Reason,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import RegionProfile, UnitUpsert
from inovda_shared.messaging import ORIGINAL_ROUTING_KEY, OutgoingEvent, publish_events
from inovda_shared.mongo import connect
from inovda_shared.outbox import OutboxRelay
from inovda_shared.provenance import SEAL, DeadLetterSeal
from inovda_shared.topology import NOTIFICATION_QUEUE, declare_topology
from inovda_submission.app import create_app as create_submission_app
from inovda_submission.settings import SubmissionSettings
from tests.support.intake import broker_user, publish_as_user
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
WITA = ZoneInfo("Asia/Makassar")
INNOVATION = "innovation.report.v1"


@pytest.fixture
def mail() -> Iterator[MailSink]:
    with MailSink(port=free_port()) as sink:
        yield sink


def quick_settings(
    amqp_url: str, mongodb_url: str, database: str, mail: MailSink, **overrides: Any
) -> NotificationSettings:
    """Notification's settings for a test: its windows and retries in fractions of a second."""
    quick: dict[str, Any] = {
        "smtp_max_attempts": 3,
        "smtp_first_backoff_seconds": 0.2,
        "delivery_interval_seconds": 0.1,
        "outbox_relay_interval_seconds": 0.2,
        "schedule_interval_seconds": 3600,
        "score_email_window_seconds": 0.3,
        "index_predicate_settle_seconds": 0.0,
        "index_quiet_seconds": 0.5,
        "index_min_gap_seconds": 0.0,
    }
    return NotificationSettings(
        amqp_url=amqp_url,
        mongodb_url=mongodb_url,
        mongodb_database=database,
        smtp_port=mail.port,
        http_port=0,
        **{**quick, **overrides},
    )


@pytest.fixture
def settings(clean_broker: str, mongodb_url: str, drop_database: str, mail: MailSink) -> NotificationSettings:
    return quick_settings(clean_broker, mongodb_url, drop_database, mail)


@pytest.fixture
async def notification(settings: NotificationSettings, events: EventProbe) -> AsyncIterator[NotificationSettings]:
    app = create_app(settings)
    await app.start()
    yield settings
    await app.stop()


async def publish(
    broker: RabbitBroker, event: Any, routing_key: str | None = None, message_id: str | None = None
) -> None:
    key = routing_key or event.routing_key
    await publish_events(broker, [OutgoingEvent.of(event, key, message_id or uuid.uuid4().hex, "corr-notif")])


async def wait_for_mail(mail: MailSink, condition: Callable[[list[ReceivedEmail]], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds * 20)):
        if condition(mail.received):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"mail never matched; received: {[item.subject for item in mail.received]}")


def unit_registered(unit_code: str = "DINKES", **overrides: Any) -> UnitRegistered:
    unit = UnitUpsert.model_validate_json(json.dumps(samples.unit(unit_code, **overrides)))
    return UnitRegistered(version=1, unit=unit, registered_at=NOW)


def profile_updated() -> RegionProfileUpdated:
    return RegionProfileUpdated(
        version=1, profile=RegionProfile.model_validate_json(json.dumps(samples.profile())), updated_at=NOW
    )


def accepted(title: str = "Posyandu Digital Kukar", revision: int = 1) -> IntakeAnswer:
    return IntakeAnswer(
        status="accepted",
        message_id=uuid.uuid4().hex,
        intake_routing_key="innovation.report.v1",
        source="e-inovasi",
        key={"external_id": "INV-001"},
        revision=revision,
        region_code="64.02",
        unit_code="DINKES",
        title=title,
        received_at=NOW,
    )


def rejected() -> IntakeAnswer:
    return IntakeAnswer(
        status="rejected",
        message_id="rej-1",
        intake_routing_key="innovation.report.v1",
        source="e-inovasi",
        key={"external_id": "INV-002"},
        reasons=[Reason(field="indicators.16.level", code="out_of_range", message="indicators.16.level: too big")],
        region_code="64.02",
        unit_code="DINKES",
        title="Inovasi <b>rusak</b>",
        received_at=NOW,
    )


def scored(revision: int = 1, external_id: str = "INV-001") -> InnovationScored:
    return InnovationScored(
        source="e-inovasi",
        external_id=external_id,
        unit_code="DINKES",
        region_code="64.02",
        year=2026,
        revision=revision,
        title="Posyandu Digital Kukar",
        maturity=26,
        indicators={"16": IndicatorScore(level=2, score=6, has_evidence=True)},
        eligible=False,
        ineligible_reasons=["Rancang bangun 120 kata; minimal 300 kata."],
    )


def index_updated(iid: float, predicate: str, previous: tuple[float, str] | None, version: int) -> RegionIndexUpdated:
    return RegionIndexUpdated.model_validate(
        {
            "region_code": "64.02", "year": 2026, "version": version, "spd": 40.0, "n": 50, "divisor": 50,
            "average_maturity": 60.0, "count_score": 19.0, "yandas_covered": [], "yandas_missing": [],
            "iid": iid, "predicate": predicate, "assumed": [], "next_predicate": "Sangat Inovatif",
            "previous_iid": previous[0] if previous else None,
            "previous_predicate": previous[1] if previous else None,
            "path": [{"action": "raise_spd_level", "target": "12", "description": "Naikkan SPD 12", "gain": 0.8,
                      "iid_after": iid + 0.8}],
        }
    )  # fmt: skip


async def register_contacts(publisher: RabbitBroker, events: EventProbe) -> None:
    await publish(publisher, unit_registered("DINKES"))
    await publish(publisher, unit_registered("DISDIK", name="Dinas Pendidikan"))
    await publish(publisher, profile_updated())
    await asyncio.sleep(0.5)  # contacts are stored before the events that need them


async def test_each_kind_of_email_reaches_the_right_people(
    notification: NotificationSettings, publisher: RabbitBroker, events: EventProbe, mail: MailSink
) -> None:
    await register_contacts(publisher, events)
    await publish(publisher, UnitComplianceUpdated(region_code="64.02", year=2026, unit_code="DINKES",
                                                   innovations=1, eligible=0, compliant=True, version=3))  # fmt: skip
    await publish(publisher, accepted(), "intake.accepted.e-inovasi")
    await publish(publisher, rejected(), "intake.rejected.e-inovasi")
    await publish(publisher, scored())
    await publish(publisher, index_updated(41.2, "Inovatif", (39.9, "Kurang Inovatif"), version=7))
    await wait_for_mail(mail, lambda received: len(received) == 4)

    by_kind = {item.dedupe_key.split(":")[0]: item for item in mail.received}
    assert set(by_kind) == {"receipt", "rejection", "score", "predicate"}
    assert by_kind["receipt"].envelope_to == ["dinkes@kukarkab.example"]
    assert "Posyandu Digital Kukar" in by_kind["receipt"].subject
    rejection = by_kind["rejection"]
    assert "indicators.16.level" in rejection.part("plain")
    assert "&lt;b&gt;rusak&lt;/b&gt;" in rejection.part("html")
    assert set(by_kind["score"].envelope_to) == {"dinkes@kukarkab.example", "mentor.inovasi@kukarkab.example"}
    assert "300 kata" in by_kind["score"].part("plain")
    predicate = by_kind["predicate"]
    assert predicate.envelope_to == ["brida@kukarkab.example"]
    assert "41,20" in predicate.part("plain")
    assert "Dinas Pendidikan" in predicate.part("plain"), "units still without an innovation are listed"
    assert "Dinas Kesehatan" not in predicate.part("plain")
    sent = await events.wait_for("notification.sent", count=4)
    assert {event.body["kind"] for event in sent} == {"receipt", "rejection", "score", "predicate_change"}
    # Each outcome names the unit its email was about (none for the office's): the portal lists them there.
    about = {event.body["kind"]: (event.body["region_code"], event.body["unit_code"]) for event in sent}
    assert about == {
        "receipt": ("64.02", "DINKES"),
        "rejection": ("64.02", "DINKES"),
        "score": ("64.02", "DINKES"),
        "predicate_change": (None, None),
    }


async def test_a_rejection_from_a_unit_nobody_registered_is_settled_without_waiting_for_it(
    notification: NotificationSettings, publisher: RabbitBroker, events: EventProbe, mail: MailSink
) -> None:
    await register_contacts(publisher, events)
    stranger = rejected().model_copy(update={"message_id": "rej-new", "unit_code": "NEW-1", "unit_registered": False})
    await publish(publisher, stranger, "intake.rejected.e-inovasi")
    await publish(publisher, rejected(), "intake.rejected.e-inovasi")  # its unit is known: this one is emailed
    await wait_for_mail(mail, lambda received: len(received) == 1)
    # Waiting for the contact would fail 5 attempts, backing off 0.4 s, 0.8 s, ...: dead-lettered within ~7 s.
    await asyncio.sleep(8.0)
    assert [item.envelope_to for item in mail.received] == [["dinkes@kukarkab.example"]]
    assert await list_dead_letters(notification.amqp_url, NOTIFICATION_QUEUE.name) == []


async def test_a_redelivered_event_never_sends_the_same_email_twice(
    notification: NotificationSettings, publisher: RabbitBroker, events: EventProbe, mail: MailSink
) -> None:
    await register_contacts(publisher, events)
    await publish(publisher, scored(), message_id="score-1")
    await publish(publisher, scored(), message_id="score-1")  # the broker redelivering
    await publish(publisher, scored())  # the same fact under another id
    await wait_for_mail(mail, lambda received: len(received) >= 1)
    await publish(publisher, scored(revision=2))  # a new fact, after the first one's window
    await wait_for_mail(mail, lambda received: len(received) >= 2)
    await asyncio.sleep(1.0)
    assert sorted(item.dedupe_key for item in mail.received) == [
        "score:e-inovasi/INV-001:r1",
        "score:e-inovasi/INV-001:r2",
    ]


async def test_a_refusing_server_is_retried_until_it_accepts(
    notification: NotificationSettings, publisher: RabbitBroker, events: EventProbe, mail: MailSink
) -> None:
    await register_contacts(publisher, events)
    mail.refusing = True
    await publish(publisher, scored())
    await wait_for_mail(mail, lambda _: mail.refused >= 2)
    mail.refusing = False
    await wait_for_mail(mail, lambda received: len(received) == 1)
    assert mail.received[0].dedupe_key == "score:e-inovasi/INV-001:r1"
    sent = (await events.wait_for("notification.sent"))[0].body
    assert sent["dedupe_key"] == "score:e-inovasi/INV-001:r1"


@pytest.mark.parametrize("ask_again", ["dlq replay", "emails resend"])
async def test_after_the_limit_an_email_is_dead_lettered_and_can_be_sent_again(
    notification: NotificationSettings, publisher: RabbitBroker, events: EventProbe, mail: MailSink, ask_again: str
) -> None:
    await register_contacts(publisher, events)
    mail.refusing = True
    await publish(publisher, scored())
    failed = (await events.wait_for("notification.failed", timeout=20))[0].body
    assert failed["attempts"] == 3
    assert "451" in failed["reason"]
    [letter] = await list_dead_letters(notification.amqp_url, NOTIFICATION_QUEUE.name)
    assert "451" in letter.reason
    assert mail.received == []

    mail.refusing = False
    if ask_again == "dlq replay":
        await replay_dead_letters(notification.amqp_url, NOTIFICATION_QUEUE.name)
    else:  # the operator's `inovda emails resend KEY`
        await request_email_resends(notification.amqp_url, ["score:e-inovasi/INV-001:r1"])
    await wait_for_mail(mail, lambda received: len(received) == 1)
    assert mail.received[0].dedupe_key == "score:e-inovasi/INV-001:r1"


@pytest.fixture
async def schedulers(settings: NotificationSettings, mail: MailSink) -> AsyncIterator[list[Scheduler]]:
    """Two replicas' schedulers over one database, each with its own connection, like two processes."""
    clients, replicas, closers = [], [], []
    broker = RabbitBroker(settings.amqp_url, logger=None)
    await broker.connect()
    await declare_topology(broker)
    for _ in range(2):
        client = connect(settings.mongodb_url)
        clients.append(client)
        store = NotificationStore(client[settings.mongodb_database])
        await store.ensure_indexes()
        sender = SmtpSender(SmtpConfig("127.0.0.1", mail.port, "inovda@kukarkab.example"))
        marks = CommitMarks(settings.mongodb_url, settings.mongodb_database, "test")
        closers.append(marks.close)
        relay = OutboxRelay([store.outbox], broker, 1.0)
        delivery = build_delivery(settings, store, marks, sender, relay, broker, lambda: NOW)
        replicas.append(Scheduler(store, delivery, Renderer(), {}, WITA))
    yield replicas
    for client in clients:
        await client.close()
    for close in closers:
        close()
    await broker.stop()


async def seed_contacts(settings: NotificationSettings) -> None:
    client = connect(settings.mongodb_url)
    store = NotificationStore(client[settings.mongodb_database])
    for unit_code, name, kind in (
        ("DINKES", "Dinas Kesehatan", "opd"),
        ("DISDIK", "Dinas Pendidikan", "opd"),
        ("PKM-01", "Puskesmas Samboja", "puskesmas"),
    ):
        unit = samples.unit(unit_code, name=name, kind=kind)
        await store.save_versioned("units", f"64.02/{unit_code}", 1, unit | {"active": True, "parent_code": None})
    await store.save_versioned(
        "regions", "64.02/2026", 1, {"region_code": "64.02", "year": 2026, "admin_emails": ["brida@kukarkab.example"]}
    )
    await store.save_versioned(
        "compliance", "64.02/2026/DINKES", 1,
        {"region_code": "64.02", "year": 2026, "unit_code": "DINKES", "innovations": 1, "eligible": 1},
    )  # fmt: skip
    await client.close()


def at_wita(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=WITA)


async def test_two_replicas_running_the_schedule_send_each_reminder_once(
    settings: NotificationSettings, schedulers: list[Scheduler], mail: MailSink
) -> None:
    await seed_contacts(settings)
    first, second = schedulers

    before = await asyncio.gather(*(replica.tick(at_wita(dt.date(2026, 6, 30))) for replica in schedulers))
    assert before == [[], []]
    july = await asyncio.gather(first.tick(at_wita(dt.date(2026, 7, 1))), second.tick(at_wita(dt.date(2026, 7, 1))))
    assert sorted(july[0] + july[1]) == [
        "reminder:64.02/2026/DISDIK:2026-07-01",
        "reminder:64.02/2026/PKM-01:2026-07-01",
    ]
    assert await second.tick(at_wita(dt.date(2026, 7, 2))) == []
    await wait_for_mail(mail, lambda received: len(received) == 2)

    # Down all of September: on 2 October only the latest stage goes out, not the one it replaced.
    october = await first.tick(at_wita(dt.date(2026, 10, 2)))
    assert sorted(october) == ["reminder:64.02/2026/DISDIK:2026-10-01", "reminder:64.02/2026/PKM-01:2026-10-01"]
    final = await asyncio.gather(*(replica.tick(at_wita(dt.date(2026, 10, 29))) for replica in schedulers))
    assert sorted(final[0] + final[1]) == ["reminder:64.02/2026/DISDIK:final", "reminder:64.02/2026/PKM-01:final"]
    await wait_for_mail(mail, lambda received: len(received) == 6)
    assert len({item.dedupe_key for item in mail.received}) == 6
    last = next(item for item in mail.received if item.dedupe_key == "reminder:64.02/2026/DISDIK:final")
    assert "brida@kukarkab.example" in last.envelope_to, "the last reminder copies the innovation office"
    assert not any("DINKES" in item.dedupe_key for item in mail.received), "a unit that complied is not reminded"


async def test_the_weekly_digest_goes_to_the_office_once_a_week(
    settings: NotificationSettings, schedulers: list[Scheduler], mail: MailSink
) -> None:
    await seed_contacts(settings)
    monday = dt.date(2026, 3, 2)
    recorded = await asyncio.gather(*(replica.tick(at_wita(monday)) for replica in schedulers))
    assert sorted(recorded[0] + recorded[1]) == ["digest:64.02/2026-W10"]
    assert await schedulers[0].tick(at_wita(monday, hour=20)) == []
    await wait_for_mail(mail, lambda received: len(received) == 1)
    digest = mail.received[0]
    assert digest.envelope_to == ["brida@kukarkab.example"]
    text = digest.part("plain")
    assert "Perangkat Daerah (OPD): 1 / 2" in text
    assert "Puskesmas: 0 / 1" in text


# --- trust between regions and senders (issue 14) ---------------------------------------------------------

BAD_LEVEL: dict[str, Any] = {"indicators": {"16": {"level": 5, "evidence": []}}}


async def test_a_message_refused_for_who_sent_it_emails_nobody_whatever_unit_it_names(
    notification: NotificationSettings,
    publisher: RabbitBroker,
    events: EventProbe,
    mail: MailSink,
    submission_settings: SubmissionSettings,
    mongo: AsyncMongoClient[Any],
) -> None:
    """Without a sender, claiming another's source, or for a region its source does not own: refused, and the
    registered unit it names gets no email. A rejection of the sender's own message still does."""
    await register_contacts(publisher, events)
    await publish(publisher, unit_registered("DINKES", region_code="64.05"))
    secured = submission_settings.model_copy(
        update={
            "mongodb_database": f"{submission_settings.mongodb_database}_sub",
            "intake_auth": "on",
            "source_users": {broker_user(submission_settings.amqp_url): "simpeg"},
            "source_regions": {"simpeg": ["64.02"]},
        }
    )
    submission = create_submission_app(secured)
    await submission.start()
    try:
        refused = [
            await publish_as_user(
                secured.amqp_url, INNOVATION, samples.innovation(source="simpeg", **BAD_LEVEL), user_id=None
            ),
            await publish_as_user(secured.amqp_url, INNOVATION, samples.innovation(**BAD_LEVEL)),
            await publish_as_user(
                secured.amqp_url, INNOVATION, samples.innovation(source="simpeg", region_code="64.05", **BAD_LEVEL)
            ),
        ]
        own = await publish_as_user(secured.amqp_url, INNOVATION, samples.innovation(source="simpeg", **BAD_LEVEL))
        answers = await events.wait_for("intake.rejected.*", lambda body: body["message_id"] in [*refused, own], 4)
        codes = {event.body["message_id"]: event.body["reasons"][0]["code"] for event in answers}
        assert [codes[message_id] for message_id in refused] == [
            "unauthenticated",
            "source_mismatch",
            "region_not_allowed",
        ]
        await wait_for_mail(mail, lambda received: len(received) == 1)
        await asyncio.sleep(2.0)  # the refusals were handled before the last answer: nothing more comes
    finally:
        await submission.stop()
        await mongo.drop_database(secured.mongodb_database)
    assert [item.dedupe_key for item in mail.received] == [f"rejection:simpeg/{own}"]


async def test_a_source_over_its_daily_quota_gets_no_more_emails_and_the_systems_own_still_go(
    settings: NotificationSettings, publisher: RabbitBroker, events: EventProbe, mail: MailSink
) -> None:
    app = create_app(settings.model_copy(update={"email_quota_per_source_per_day": 2}))
    await app.start()
    try:
        await register_contacts(publisher, events)
        for external_id in ("INV-001", "INV-002", "INV-003"):  # three innovations: three score emails owed
            await publish(publisher, scored(external_id=external_id))
        failed = (await events.wait_for("notification.failed"))[0].body
        await publish(publisher, index_updated(41.2, "Inovatif", (39.9, "Kurang Inovatif"), version=7))
        await wait_for_mail(mail, lambda received: len(received) == 3)
        await asyncio.sleep(1.0)
    finally:
        await app.stop()
    assert sorted(item.dedupe_key.split(":")[0] for item in mail.received) == ["predicate", "score", "score"]
    assert failed["reason"] == "the daily email quota of source 'e-inovasi' (2 a day) is used up"
    assert failed["kind"] == "score"
    assert failed["dedupe_key"] not in {item.dedupe_key for item in mail.received}
    assert await list_dead_letters(settings.amqp_url, NOTIFICATION_QUEUE.name) == [], "no dead-letter storm"


async def test_two_replicas_together_keep_the_per_domain_limit_and_a_sources_quota(
    settings: NotificationSettings, mongo: AsyncMongoClient[Any]
) -> None:
    clients = [connect(settings.mongodb_url) for _ in range(2)]
    limits = Limits.of(per_domain_per_minute=4, overall_per_minute=100, per_source_per_day=3, timezone=WITA)
    replicas = [SendingLimits(NotificationStore(client[settings.mongodb_database]), limits) for client in clients]
    message = EmailMessage("score", "k", ["a@kukarkab.example"], [], "s", "t", "h", source="e-inovasi")
    other_domain = dataclasses.replace(message, to=["a@kaltim.example"])
    try:
        rate = [await replicas[n % 2].verdict(message, NOW, counts_in_quota=False) for n in range(10)]
        quota = [await replicas[n % 2].verdict(other_domain, NOW, counts_in_quota=True) for n in range(6)]
    finally:
        for client in clients:
            await client.close()
    assert rate.count(Go()) == 4
    assert all(isinstance(outcome, Wait) for outcome in rate[4:])
    assert quota.count(Go()) == 3
    assert all(isinstance(outcome, OverQuota) for outcome in quota[3:])
    blocks = {document["_id"] async for document in mongo[settings.mongodb_database]["tickets"].find()}
    assert len([block for block in blocks if block.startswith("domain:kukarkab.example:")]) == 4
    assert len([block for block in blocks if block.startswith("source:e-inovasi:")]) == 3


async def write_into_queue(amqp_url: str, event: Any, headers: dict[str, Any]) -> None:
    """Straight into notification's queue through the default exchange, as only the operator may."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        message = aio_pika.Message(event.model_dump_json().encode(), headers=headers, message_id=uuid.uuid4().hex)
        await channel.default_exchange.publish(message, routing_key=NOTIFICATION_QUEUE.name)


async def test_a_message_written_straight_into_the_queue_forges_no_event_unless_this_queue_sealed_it(
    notification: NotificationSettings,
    publisher: RabbitBroker,
    events: EventProbe,
    mail: MailSink,
    mongo: AsyncMongoClient[Any],
) -> None:
    await register_contacts(publisher, events)
    own = DeadLetterSeal()
    await own.load(mongo[notification.mongodb_database])

    def as_dead_letter(routing_key: str, event: Any, seal: DeadLetterSeal, queue: str) -> dict[str, Any]:
        body = event.model_dump_json().encode()
        return {ORIGINAL_ROUTING_KEY: routing_key, SEAL: seal.of(queue, routing_key, None, body)}

    spam = unit_registered("DINKES", emails=["korban@spam.example"]).model_copy(update={"version": 99})
    await write_into_queue(notification.amqp_url, spam, {ORIGINAL_ROUTING_KEY: "unit.registered"})
    await write_into_queue(
        notification.amqp_url,
        scored(revision=5),
        as_dead_letter("innovation.scored", scored(revision=5), DeadLetterSeal.random(), NOTIFICATION_QUEUE.name),
    )
    await write_into_queue(
        notification.amqp_url,
        scored(revision=6),
        as_dead_letter("innovation.scored", scored(revision=6), own, "scoring.events"),
    )
    # A dead letter this very queue sealed is a replay: believed.
    await write_into_queue(
        notification.amqp_url,
        scored(revision=7),
        as_dead_letter("innovation.scored", scored(revision=7), own, NOTIFICATION_QUEUE.name),
    )
    await wait_for_mail(mail, lambda received: len(received) == 1)
    await asyncio.sleep(1.5)
    assert [item.dedupe_key for item in mail.received] == ["score:e-inovasi/INV-001:r7"]
    assert mail.received[0].envelope_to == ["dinkes@kukarkab.example", "mentor.inovasi@kukarkab.example"]
    store = NotificationStore(mongo[notification.mongodb_database])
    unit = await store.unit("64.02", "DINKES")
    assert unit is not None
    assert list(unit.emails) == ["dinkes@kukarkab.example"], "the forged registration was not taken"
