"""The submission service against real RabbitMQ and a real MongoDB-protocol server."""

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandListener

from inovda_cli import samples
from inovda_cli.deadletters import list_dead_letters, replay_dead_letters
from inovda_cli.ownership import OPERATOR_RESULTS, transfer
from inovda_cli.processes import ServiceProcess
from inovda_cli.publish import IntakeMessage, publish_messages
from inovda_scoring.domain import available_years
from inovda_shared.consumer import DEATH_QUEUE
from inovda_shared.contracts.events import UnitRegistered
from inovda_shared.contracts.intake import UnitUpsert
from inovda_shared.messaging import ORIGINAL_ROUTING_KEY
from inovda_shared.mongo import connect
from inovda_shared.outbox import Outbox, OutboxRelay
from inovda_shared.provenance import ORIGINAL_USER_ID, SEAL, DeadLetterSeal
from inovda_shared.topology import (
    DEAD_LETTER_EXCHANGE,
    NOTIFICATION_QUEUE,
    SUBMISSION_QUEUE,
    declare_topology,
)
from inovda_submission.adapters.store import SubmissionStore
from inovda_submission.app import create_app
from inovda_submission.domain.authentication import IntakeAccess
from inovda_submission.handlers import build_router
from inovda_submission.service import IntakeDelivery, IntakeService
from inovda_submission.settings import SubmissionSettings
from inovda_submission.views import SubmissionViews
from tests.support.commands import CommandLog
from tests.support.intake import broker_user, publish_as_user
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration


# A service built by hand, as the app builds it with INTAKE_AUTH=off.
OPEN: dict[str, Any] = {"access": IntakeAccess.unauthenticated(), "rubric_years": available_years()}


async def seal_of(settings: SubmissionSettings) -> DeadLetterSeal:
    """The dead-letter seal the service keeps in its database (as its app loads it)."""
    seal, client = DeadLetterSeal(), connect(settings.mongodb_url)
    await seal.load(client[settings.mongodb_database])
    await client.close()
    return seal


NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def new_id() -> str:
    return uuid.uuid4().hex


async def send(settings: SubmissionSettings, routing_key: str, body: dict[str, Any] | bytes, message_id: str) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    await publish_messages(settings.amqp_url, [IntakeMessage(routing_key, raw, message_id)])


async def answer(events: EventProbe, message_id: str) -> dict[str, Any]:
    seen = await events.wait_for("intake.*.*", lambda body: body["message_id"] == message_id)
    return seen[0].body


async def register_unit(settings: SubmissionSettings, events: EventProbe, unit_code: str = "DINKES") -> None:
    message_id = new_id()
    await send(settings, "unit.upsert.v1", samples.unit(unit_code), message_id)
    assert (await answer(events, message_id))["status"] == "accepted"


async def count(mongo: AsyncMongoClient[Any], database: str, collection: str) -> int:
    return await mongo[database][collection].count_documents({})


async def test_accepts_a_unit_a_profile_and_an_innovation(submission: SubmissionSettings, events: EventProbe) -> None:
    unit_id, profile_id, innovation_id = new_id(), new_id(), new_id()
    await send(submission, "unit.upsert.v1", samples.unit(), unit_id)
    await send(submission, "region.profile.v1", samples.profile(), profile_id)
    await send(submission, "innovation.report.v1", samples.innovation(), innovation_id)

    unit_answer = await answer(events, unit_id)
    assert unit_answer["status"] == "accepted"
    assert unit_answer["key"] == {"region_code": "64.02", "unit_code": "DINKES"}
    assert (await answer(events, profile_id))["key"] == {"region_code": "64.02", "year": 2026}
    innovation_answer = await answer(events, innovation_id)
    assert innovation_answer["key"] == {"external_id": "INV-001"}
    assert innovation_answer["revision"] == 1
    seen = await events.wait_for(f"intake.accepted.{samples.innovation()['source']}")
    assert seen[0].correlation_id

    registered = (await events.wait_for("unit.registered"))[0].body
    assert registered["unit"]["unit_code"] == "DINKES"
    assert registered["version"] == 1
    updated = (await events.wait_for("region.profile.updated"))[0].body
    assert updated["profile"]["spd"]["1"] == 3
    submitted = (await events.wait_for("innovation.submitted"))[0].body
    assert submitted["revision"] == 1
    assert submitted["innovation"]["title"] == "Posyandu Digital Kukar"
    assert submitted["innovation"]["indicators"]["33"]["basis"] == "a"


REJECTIONS = [
    pytest.param(b"{not json", ("$", "invalid_json"), id="undecodable-json"),
    pytest.param(samples.innovation(year="2026"), ("year", "wrong_type"), id="wrong-type"),
    pytest.param(samples.innovation(stage="selesai"), ("stage", "unknown_value"), id="unknown-enum"),
    pytest.param(samples.innovation(unit_code="DISHUB"), ("unit_code", "unknown_unit"), id="unknown-unit"),
    pytest.param(
        samples.innovation(indicators={"99": {"level": 1, "evidence": []}}),
        ("indicators.99", "unknown_indicator"),
        id="unknown-indicator",
    ),
    pytest.param(
        samples.innovation(indicators={"16": {"level": 5, "evidence": []}}),
        ("indicators.16.level", "out_of_range"),
        id="level-out-of-range",
    ),
    pytest.param(
        samples.with_fields(samples.innovation(), {"$set": {"year": 1}}), ("$set", "forbidden_key"), id="dollar-key"
    ),
    pytest.param(samples.with_fields(samples.innovation(), {"a.b": 1}), ("a.b", "forbidden_key"), id="dotted-key"),
    pytest.param(samples.innovation(rating=5), ("rating", "unknown_field"), id="unknown-field"),
    pytest.param(json.dumps(samples.innovation(design="kata " * 300_000)).encode(), ("$", "too_large"), id="over-1MiB"),
]


@pytest.mark.parametrize(("body", "expected"), REJECTIONS)
async def test_rejects_with_a_specific_reason_and_stores_nothing(
    submission: SubmissionSettings,
    events: EventProbe,
    mongo: AsyncMongoClient[Any],
    body: dict[str, Any] | bytes,
    expected: tuple[str, str],
) -> None:
    await register_unit(submission, events)
    message_id = new_id()
    await send(submission, "innovation.report.v1", body, message_id)

    rejection = await answer(events, message_id)
    assert rejection["status"] == "rejected"
    assert expected in {(reason["field"], reason["code"]) for reason in rejection["reasons"]}
    assert all(reason["message"] for reason in rejection["reasons"])
    routing_key = (await events.wait_for("intake.rejected.*"))[0].routing_key
    assert routing_key == ("intake.rejected.unknown" if isinstance(body, bytes) else "intake.rejected.e-inovasi")
    assert await count(mongo, submission.mongodb_database, "innovations") == 0
    assert await count(mongo, submission.mongodb_database, "innovations_versions") == 0
    assert events.matching("innovation.submitted") == []


async def test_redelivery_and_resending_store_one_revision_and_answer_once(
    submission: SubmissionSettings, events: EventProbe, mongo: AsyncMongoClient[Any]
) -> None:
    await register_unit(submission, events)
    message_id = new_id()
    for _ in range(3):  # the same message three times: a sender retrying, or the broker redelivering
        await send(submission, "innovation.report.v1", samples.innovation(), message_id)
    resent_id = new_id()  # the same content under a new id: answered, but no new revision
    await send(submission, "innovation.report.v1", samples.innovation(), resent_id)

    resent = await answer(events, resent_id)
    assert resent["status"] == "accepted"
    assert resent["unchanged"] is True
    assert resent["revision"] == 1
    assert len(events.matching("intake.*.*", lambda body: body["message_id"] == message_id)) == 1
    assert len(events.matching("innovation.submitted")) == 1
    assert await count(mongo, submission.mongodb_database, "innovations_versions") == 1


async def test_a_redelivery_publishes_the_recorded_events_again_and_a_copy_does_not(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    """The events are recorded without a pending key: a delivery that may follow a handling cut short before
    publishing (a redelivery) publishes them again, under the same message ids; a copy's first delivery, whose
    first copy's handler publishes, does not."""
    client = connect(submission_settings.mongodb_url)
    broker = RabbitBroker(submission_settings.amqp_url, logger=None)
    await broker.connect()
    service, _ = await intake_service(client, submission_settings, broker)
    delivery = IntakeDelivery("unit.upsert.v1", json.dumps(samples.unit()).encode(), "lean-1", "corr-lean")
    await service.handle(delivery)
    first = await events.wait_for("unit.registered")
    await service.handle(delivery)  # a copy
    await service.handle(dataclasses.replace(delivery, handled_before=True))  # the broker redelivering it
    again = await events.wait_for("unit.registered", count=2)
    await asyncio.sleep(0.3)
    assert len(events.matching("unit.registered")) == 2
    assert again[1].message_id == first[0].message_id
    assert again[1].body == first[0].body
    answers = [event for event in events.matching("intake.*.*") if event.body["message_id"] == "lean-1"]
    assert len(answers) == 2
    assert answers[0].message_id == answers[1].message_id
    await broker.stop()
    await client.close()


async def test_a_copy_of_a_report_since_revised_stores_nothing_answers_nothing_and_reads_only_by_id(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    """A copy of a report whose innovation has a newer revision finds its answer's record and stops there,
    without scanning the versions for the one it made."""
    counter = CommandLog()
    async with service_by_hand(submission_settings, counter) as (service, store):
        await service.handle(IntakeDelivery("unit.upsert.v1", json.dumps(samples.unit()).encode(), new_id(), "c"))
        first = IntakeDelivery("innovation.report.v1", json.dumps(samples.innovation()).encode(), "first", "c")
        revised = samples.innovation(title="Posyandu Digital Terpadu")
        await service.handle(first)
        await service.handle(IntakeDelivery("innovation.report.v1", json.dumps(revised).encode(), "revised", "c"))
        await events.wait_for("innovation.submitted", count=2)
        counter.clear()
        await service.handle(first)  # a sender re-sending it, after the revision
        assert all(set(query) == {"_id"} for query in counter.filters), counter.filters
        await asyncio.sleep(0.3)
        assert [event.body["revision"] for event in events.matching("innovation.submitted")] == [1, 2]
        answers = [event for event in events.matching("intake.*.*") if event.body["message_id"] == "first"]
        assert [answer.body["revision"] for answer in answers] == [1]
        history = await SubmissionViews(store).innovation_history("e-inovasi", "INV-001")
        assert [entry["data"]["title"] for entry in history] == ["Posyandu Digital Kukar", "Posyandu Digital Terpadu"]


async def test_a_copy_of_a_report_once_rejected_stays_rejected_after_its_unit_is_registered(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    """Its answer was given: a copy neither stores it nor answers again (why every message reads its record
    before it writes; storing it would leave a version nobody was told of)."""
    async with service_by_hand(submission_settings) as (service, store):
        report = IntakeDelivery("innovation.report.v1", json.dumps(samples.innovation()).encode(), "early", "c")
        await service.handle(report)
        [rejected] = await events.wait_for("intake.rejected.*")
        assert [reason["code"] for reason in rejected.body["reasons"]] == ["unknown_unit"]
        await service.handle(IntakeDelivery("unit.upsert.v1", json.dumps(samples.unit()).encode(), new_id(), "c"))
        await events.wait_for("unit.registered")
        await service.handle(report)  # the sender sends it again
        await asyncio.sleep(0.3)
        assert [
            event.body["status"] for event in events.matching("intake.*.*") if event.body["message_id"] == "early"
        ] == ["rejected"]
        assert events.matching("innovation.submitted") == []
        assert await SubmissionViews(store).innovation_history("e-inovasi", "INV-001") == []


async def test_changed_report_becomes_a_new_revision_with_history(
    submission: SubmissionSettings, events: EventProbe
) -> None:
    await register_unit(submission, events)
    first, second = new_id(), new_id()
    await send(submission, "innovation.report.v1", samples.innovation(), first)
    assert (await answer(events, first))["revision"] == 1
    await send(submission, "innovation.report.v1", samples.innovation(title="Posyandu Digital Terpadu"), second)
    assert (await answer(events, second))["revision"] == 2

    submitted = await events.wait_for("innovation.submitted", count=2)
    assert [event.body["revision"] for event in submitted] == [1, 2]
    client = connect(submission.mongodb_url)
    views = SubmissionViews(SubmissionStore(client[submission.mongodb_database]))
    history = await views.innovation_history("e-inovasi", "INV-001")
    latest = await views.innovation("e-inovasi", "INV-001")
    await client.close()
    assert [(entry["version"], entry["data"]["title"]) for entry in history] == [
        (1, "Posyandu Digital Kukar"),
        (2, "Posyandu Digital Terpadu"),
    ]
    assert latest is not None
    assert latest["title"] == "Posyandu Digital Terpadu"


async def test_events_stored_while_the_broker_is_away_are_relayed_later(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    """The write succeeds, the publish fails: the outbox keeps the events and the relay sends them."""
    client = connect(submission_settings.mongodb_url)
    database = client[submission_settings.mongodb_database]
    store, outbox = SubmissionStore(database), Outbox(database["outbox"])
    await store.ensure_indexes()
    unreachable = RabbitBroker("amqp://guest:guest@127.0.0.1:1/", logger=None)
    offline = IntakeService(
        store, outbox, OutboxRelay([outbox], unreachable, 0.1), clock=lambda: dt.datetime.now(dt.UTC), **OPEN
    )
    body = json.dumps(samples.unit()).encode()
    delivery = IntakeDelivery("unit.upsert.v1", body, message_id="relay-1", correlation_id="corr-relay-1")

    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the client raises for a broker that is not there
        await offline.handle(delivery)
    assert await SubmissionViews(store).unit("64.02", "DINKES") is not None
    assert events.events == []

    online_broker = RabbitBroker(submission_settings.amqp_url, logger=None)
    await online_broker.connect()
    await declare_topology(online_broker, (SUBMISSION_QUEUE,))
    await asyncio.sleep(0.3)  # older than the relay's grace period
    relayed = await OutboxRelay([outbox], online_broker, 0.1, grace_seconds=0.2).relay_stale_once()
    assert relayed == 1
    registered = (await events.wait_for("unit.registered"))[0]
    assert registered.correlation_id == "corr-relay-1"
    assert (await events.wait_for("intake.accepted.simpeg"))[0].body["message_id"] == "relay-1"
    assert registered.message_id is not None
    assert await outbox.is_published(registered.message_id.split(":")[0])
    assert await OutboxRelay([outbox], online_broker, 0.1, grace_seconds=0.2).relay_stale_once() == 0

    # The redelivered intake message finds its events already sent and sends nothing twice.
    online = IntakeService(
        store,
        outbox,
        OutboxRelay([outbox], online_broker, 0.1, grace_seconds=0.2),
        clock=lambda: dt.datetime.now(dt.UTC),
        **OPEN,
    )
    await online.handle(delivery)
    await asyncio.sleep(0.3)
    assert len(events.matching("unit.registered")) == 1
    await online_broker.stop()
    await client.close()


class BrokenIntake:
    """A handler whose work always fails, as a bug in it would."""

    def __init__(self) -> None:
        self.attempts = 0

    async def handle(self, delivery: IntakeDelivery) -> None:
        self.attempts += 1
        raise RuntimeError(f"cannot handle {delivery.message_id}")


async def broken_intake(settings: SubmissionSettings) -> tuple[BrokenIntake, RabbitBroker]:
    """The intake's handlers on a broken service, consuming, sealing dead letters as the service does."""
    broken = BrokenIntake()
    broker = RabbitBroker(settings.amqp_url, logger=None)
    broker.include_router(build_router(broken, await seal_of(settings)))  # type: ignore[arg-type]
    await broker.connect()
    await declare_topology(broker, (SUBMISSION_QUEUE,))
    await broker.start()
    return broken, broker


async def test_a_message_whose_handler_keeps_failing_is_dead_lettered_with_its_reason_and_can_be_replayed(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    broken, broker = await broken_intake(submission_settings)
    await send(submission_settings, "unit.upsert.v1", samples.unit(), "poison-1")

    for _ in range(100):
        letters = await list_dead_letters(submission_settings.amqp_url, SUBMISSION_QUEUE.name)
        if letters:
            break
        await asyncio.sleep(0.2)
    await broker.stop()
    assert broken.attempts == 5
    [letter] = letters
    assert letter.message_id == "poison-1"
    assert letter.routing_key == "unit.upsert.v1"
    assert letter.reason == "RuntimeError: cannot handle poison-1"
    assert letter.attempts == 5
    assert events.events == []

    # Once the handler is fixed, the replayed message is handled like any other.
    app = create_app(submission_settings)
    await app.start()
    replayed = await replay_dead_letters(submission_settings.amqp_url, SUBMISSION_QUEUE.name)
    assert [letter.message_id for letter in replayed] == ["poison-1"]
    assert (await answer(events, "poison-1"))["status"] == "accepted"
    await app.stop()
    assert await list_dead_letters(submission_settings.amqp_url, SUBMISSION_QUEUE.name) == []


async def test_a_rejection_says_whether_the_unit_it_names_is_registered(
    submission: SubmissionSettings, events: EventProbe
) -> None:
    """Notification waits for a registered unit's contact before emailing a rejection; for one nobody
    registered it must not wait (nothing would ever come)."""
    await register_unit(submission, events)
    answers = {}
    for unit_code in ("DINKES", "NEW-1"):
        message_id = new_id()
        await send(submission, "innovation.report.v1", samples.innovation(unit_code=unit_code, rating=5), message_id)
        answers[unit_code] = await answer(events, message_id)
    unit_message = new_id()
    await send(submission, "unit.upsert.v1", samples.unit("NEW-2", kind="planet"), unit_message)
    answers["NEW-2"] = await answer(events, unit_message)

    assert {unit: (item["status"], item["unit_registered"]) for unit, item in answers.items()} == {
        "DINKES": ("rejected", True),
        "NEW-1": ("rejected", False),
        "NEW-2": ("rejected", False),
    }
    assert ("rating", "unknown_field") in {(reason["field"], reason["code"]) for reason in answers["NEW-1"]["reasons"]}


async def test_a_revision_cannot_move_an_innovation_to_another_year(
    submission: SubmissionSettings, events: EventProbe
) -> None:
    await register_unit(submission, events)
    first, moved = new_id(), new_id()
    await send(submission, "innovation.report.v1", samples.innovation(), first)
    assert (await answer(events, first))["status"] == "accepted"
    await send(submission, "innovation.report.v1", samples.innovation(year=2025), moved)

    rejection = await answer(events, moved)
    assert rejection["status"] == "rejected"
    assert [(reason["field"], reason["code"]) for reason in rejection["reasons"]] == [("year", "immutable_field")]
    assert len(events.matching("innovation.submitted")) == 1


# --- trust between regions and senders (issue 14) ---------------------------------------------------------
# A test broker has one user (the default one, whose name is the only `user_id` it lets a connection set);
# each part below runs the service with that user mapped to another source, as if another system published.


@contextlib.asynccontextmanager
async def running(settings: SubmissionSettings, **changes: Any) -> AsyncIterator[SubmissionSettings]:
    configured = settings.model_copy(update=changes)
    app = create_app(configured)
    await app.start()
    try:
        yield configured
    finally:
        await app.stop()


def as_system(settings: SubmissionSettings, source: str, regions: list[str] | None = None) -> dict[str, Any]:
    """Settings under which the broker's user is the outside system of `source`, writing `regions`."""
    return {
        "intake_auth": "on",
        "source_users": {broker_user(settings.amqp_url): source},
        "source_regions": {source: regions or [samples.KUKAR]},
    }


def reason_codes(answer_body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(reason["field"], reason["code"]) for reason in answer_body["reasons"]]


@contextlib.asynccontextmanager
async def views_of(settings: SubmissionSettings) -> AsyncIterator[SubmissionViews]:
    client = connect(settings.mongodb_url)
    try:
        yield SubmissionViews(SubmissionStore(client[settings.mongodb_database]))
    finally:
        await client.close()


async def test_a_source_writes_no_other_regions_unit_profile_or_innovation(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    async with running(submission_settings, **as_system(submission_settings, "simpeg")) as kukar:
        registered = await publish_as_user(kukar.amqp_url, "unit.upsert.v1", samples.unit())
        assert (await answer(events, registered))["status"] == "accepted"

    # Paser's system (64.01) writes Kukar's unit, profile and index: refused, nothing stored, nobody emailed.
    async with running(submission_settings, **as_system(submission_settings, "paser", ["64.01"])) as paser:
        attempts = {
            "unit": await publish_as_user(
                paser.amqp_url, "unit.upsert.v1", samples.unit(source="paser", emails=["spam@paser.example"])
            ),
            "profile": await publish_as_user(paser.amqp_url, "region.profile.v1", samples.profile(source="paser")),
            "innovation": await publish_as_user(
                paser.amqp_url, "innovation.report.v1", samples.innovation(source="paser")
            ),
        }
        own = await publish_as_user(
            paser.amqp_url, "unit.upsert.v1", samples.unit("DISKES", source="paser", region_code="64.01")
        )
        for kind, message_id in attempts.items():
            refused = await answer(events, message_id)
            assert (refused["status"], reason_codes(refused)) == (
                "rejected",
                [("region_code", "region_not_allowed")],
            ), kind
            assert refused["refused"] is True, kind
            assert refused["source"] == "paser", kind
            assert refused["unit_registered"] is None, f"{kind}: a refusal tells nothing of the region's units"
        assert (await answer(events, own))["status"] == "accepted", "its own region it writes"

    async with views_of(submission_settings) as views:
        unit = await views.unit(samples.KUKAR, "DINKES")
        assert unit is not None
        assert unit["source"] == "simpeg"
        assert unit["emails"] == ["dinkes@kukarkab.example"]
        assert await views.profile(samples.KUKAR, 2026) is None
        assert await views.innovation("paser", "INV-001") is None
    assert events.matching("region.profile.updated") == events.matching("innovation.submitted") == []
    assert [event.body["unit"]["region_code"] for event in events.matching("unit.registered")] == ["64.02", "64.01"]


async def test_a_unit_or_profile_is_changed_only_by_the_source_that_registered_it(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    async with running(submission_settings, **as_system(submission_settings, "simpeg")) as simpeg:
        assert (await answer(events, await publish_as_user(simpeg.amqp_url, "unit.upsert.v1", samples.unit())))[
            "revision"
        ] == 1
    async with running(submission_settings, **as_system(submission_settings, "bappeda")) as bappeda:
        assert (await answer(events, await publish_as_user(bappeda.amqp_url, "region.profile.v1", samples.profile())))[
            "status"
        ] == "accepted"
        overwrite = samples.unit(source="bappeda", emails=["saya@tempatlain.example"], mentor_emails=[])
        refused = await answer(events, await publish_as_user(bappeda.amqp_url, "unit.upsert.v1", overwrite))
        assert reason_codes(refused) == [("source", "owned_by_other_source")]
        assert refused["refused"] is True
    async with running(submission_settings, **as_system(submission_settings, "simpeg")) as simpeg:
        profile = samples.profile(source="simpeg", admin_emails=["saya@tempatlain.example"])
        refused = await answer(events, await publish_as_user(simpeg.amqp_url, "region.profile.v1", profile))
        assert reason_codes(refused) == [("source", "owned_by_other_source")]

    async with views_of(submission_settings) as views:
        unit, kept_profile = await views.unit("64.02", "DINKES"), await views.profile("64.02", 2026)
    assert unit is not None
    assert unit["emails"] == ["dinkes@kukarkab.example"]
    assert kept_profile is not None
    assert kept_profile["admin_emails"] == ["brida@kukarkab.example"]
    assert len(events.matching("unit.registered")) == len(events.matching("region.profile.updated")) == 1


async def test_the_operator_transfers_a_unit_and_a_profile_to_another_source(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    await purge_operator_results(submission_settings.amqp_url)
    async with running(submission_settings, **as_system(submission_settings, "simpeg")) as simpeg:
        await answer(events, await publish_as_user(simpeg.amqp_url, "unit.upsert.v1", samples.unit()))
        await answer(
            events, await publish_as_user(simpeg.amqp_url, "region.profile.v1", samples.profile(source="simpeg"))
        )
        command = {"source": "simpeg", "region_code": "64.02", "unit_code": "DINKES", "to_source": "simpeg"}
        not_operator = await answer(events, await publish_as_user(simpeg.amqp_url, "ownership.transfer.v1", command))
        assert reason_codes(not_operator) == [("$routing_key", "operator_only")]

    operator = {
        "intake_auth": "on",
        "source_users": {broker_user(submission_settings.amqp_url): "operator"},
        "source_regions": {"simpeg": ["64.02"], "bappeda": ["64.02"]},
    }
    async with running(submission_settings, **operator) as operating:
        url = operating.amqp_url
        moved = await transfer(url, "64.02", "bappeda", unit_code="DINKES")
        assert (moved.status, moved.revision, moved.unchanged, moved.source) == ("accepted", 2, False, "operator")
        assert (await transfer(url, "64.02", "bappeda", unit_code="DINKES")).unchanged is True
        assert (await transfer(url, "64.02", "bappeda", year=2026)).revision == 2
        nowhere = await transfer(url, "64.02", "paser", unit_code="DINKES")
        unknown = await transfer(url, "64.02", "bappeda", unit_code="DISHUB")
        no_profile = await transfer(url, "64.02", "bappeda", year=2025)
    assert [(r.field, r.code) for r in nowhere.reasons] == [("to_source", "region_not_allowed")]
    assert [(r.field, r.code) for r in unknown.reasons] == [("unit_code", "unknown_unit")]
    assert [(r.field, r.code) for r in no_profile.reasons] == [("year", "unknown_profile")]
    moved_unit = (await events.wait_for("unit.registered", count=2))[-1].body
    assert (moved_unit["version"], moved_unit["unit"]["source"]) == (2, "bappeda")
    assert moved_unit["unit"]["emails"] == ["dinkes@kukarkab.example"], "the same unit, another owner"

    async with running(submission_settings, **as_system(submission_settings, "bappeda")) as bappeda:
        update = samples.unit(source="bappeda", name="Dinas Kesehatan Kukar")
        assert (await answer(events, await publish_as_user(bappeda.amqp_url, "unit.upsert.v1", update)))[
            "revision"
        ] == 3
    async with running(submission_settings, **as_system(submission_settings, "simpeg")) as simpeg:
        refused = await answer(events, await publish_as_user(simpeg.amqp_url, "unit.upsert.v1", samples.unit()))
        assert reason_codes(refused) == [("source", "owned_by_other_source")]


async def purge_operator_results(amqp_url: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(OPERATOR_RESULTS)


async def test_a_forged_original_user_header_does_not_survive_a_dead_letter_and_its_replay(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    """A message without user_id, with a header naming another's user, fails five times: replayed, it is the
    unauthenticated message it was, not the forged source. A real sender's message keeps its sender."""
    broken, broker = await broken_intake(submission_settings)
    forged = {ORIGINAL_USER_ID: "sys-simpeg", ORIGINAL_ROUTING_KEY: "unit.upsert.v1", SEAL: "0" * 64}
    await publish_as_user(
        submission_settings.amqp_url, "unit.upsert.v1", samples.unit(), "forged", user_id=None, headers=forged
    )
    await publish_as_user(submission_settings.amqp_url, "unit.upsert.v1", samples.unit("DISDIK"), "real")
    for _ in range(150):
        if len(await list_dead_letters(submission_settings.amqp_url, SUBMISSION_QUEUE.name)) == 2:
            break
        await asyncio.sleep(0.2)
    await broker.stop()
    assert broken.attempts == 10

    users = {broker_user(submission_settings.amqp_url): "simpeg", "sys-simpeg": "simpeg"}
    secured = {"intake_auth": "on", "source_users": users, "source_regions": {"simpeg": ["64.02"]}}
    async with running(submission_settings, **secured):
        replayed = await replay_dead_letters(submission_settings.amqp_url, SUBMISSION_QUEUE.name)
        assert sorted(letter.message_id or "" for letter in replayed) == ["forged", "real"]
        refused = await answer(events, "forged")
        assert (refused["source"], reason_codes(refused)) == ("unknown", [("$user_id", "unauthenticated")])
        assert (await answer(events, "real"))["status"] == "accepted"
    assert [event.body["unit"]["unit_code"] for event in events.matching("unit.registered")] == ["DISDIK"]


async def test_a_replay_goes_back_to_the_queue_its_dead_letter_queue_is_of_whatever_its_headers_say(
    submission: SubmissionSettings, events: EventProbe, publisher: RabbitBroker
) -> None:
    """A message the broker dead-lettered keeps its sender's headers: ones naming another queue and an event
    must not make a replay forge that event there."""
    unit = UnitUpsert.model_validate_json(json.dumps(samples.unit(emails=["spam@tempatlain.example"])))
    body = UnitRegistered(version=9, unit=unit, registered_at=NOW)
    headers: dict[str, Any] = {DEATH_QUEUE: NOTIFICATION_QUEUE.name, ORIGINAL_ROUTING_KEY: "unit.registered"}
    await publisher.publish(
        body.model_dump_json().encode(),
        exchange=DEAD_LETTER_EXCHANGE,
        routing_key=SUBMISSION_QUEUE.name,
        headers=headers,
        message_id="planted",
    )
    await asyncio.sleep(0.5)
    [letter] = await replay_dead_letters(submission.amqp_url, SUBMISSION_QUEUE.name)
    assert letter.queue == SUBMISSION_QUEUE.name
    # Unsealed, it is taken as written straight into submission's queue: no routing key any handler takes.
    answered = await answer(events, "planted")
    assert reason_codes(answered) == [("$routing_key", "unknown_routing_key")]
    assert events.matching("unit.registered") == []
    connection = await aio_pika.connect(submission.amqp_url)
    async with connection:
        channel = await connection.channel()
        notification_queue = await channel.get_queue(NOTIFICATION_QUEUE.name, ensure=True)
        arrived = []
        while (message := await notification_queue.get(no_ack=True, fail=False)) is not None:
            arrived.append(message.routing_key)
    assert arrived == ["intake.rejected.unknown"], "notification got the answer, never the planted event"


async def intake_service(
    client: AsyncMongoClient[Any],
    settings: SubmissionSettings,
    broker: RabbitBroker,
    access: IntakeAccess | None = None,
) -> tuple[IntakeService, SubmissionStore]:
    """A service built by hand on `client`'s database (INTAKE_AUTH=off unless `access`), publishing on `broker`."""
    database = client[settings.mongodb_database]
    store, outbox = SubmissionStore(database), Outbox(database["outbox"])
    await store.ensure_indexes()
    relay = OutboxRelay([outbox], broker, 1.0)
    access = access or IntakeAccess.unauthenticated()
    return IntakeService(store, outbox, relay, lambda: NOW, access=access, rubric_years=available_years()), store


@contextlib.asynccontextmanager
async def service_by_hand(
    settings: SubmissionSettings, *listeners: CommandListener
) -> AsyncIterator[tuple[IntakeService, SubmissionStore]]:
    """`intake_service` on a client of its own (given `listeners`) and a broker of its own, both closed after."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongodb_url, event_listeners=listeners, tz_aware=True)
    broker = RabbitBroker(settings.amqp_url, logger=None)
    await broker.connect()
    try:
        yield await intake_service(client, settings, broker)
    finally:
        await broker.stop()
        await client.close()


async def test_another_sender_cannot_preempt_a_body_sent_without_message_id(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    """The same body first from a stranger (no user) and from another source: the real one is still handled."""
    client = connect(submission_settings.mongodb_url)
    broker = RabbitBroker(submission_settings.amqp_url, logger=None)
    await broker.connect()
    access = IntakeAccess.configured(
        {"sys-simpeg": "simpeg", "sys-bappeda": "bappeda"}, {"simpeg": ["64.02"], "bappeda": ["64.02"]}, "on"
    )
    service, store = await intake_service(client, submission_settings, broker, access)
    body = json.dumps(samples.unit()).encode()
    for sender in (None, "sys-bappeda", "sys-simpeg"):
        await service.handle(IntakeDelivery("unit.upsert.v1", body, None, f"corr-{sender}", sender=sender))
    answers = {event.correlation_id: event.body for event in await events.wait_for("intake.*.*", count=3)}
    assert {key: (value["status"], value["source"]) for key, value in answers.items()} == {
        "corr-None": ("rejected", "unknown"),
        "corr-sys-bappeda": ("rejected", "bappeda"),
        "corr-sys-simpeg": ("accepted", "simpeg"),
    }
    assert await SubmissionViews(store).unit("64.02", "DINKES") is not None
    await broker.stop()
    await client.close()


async def test_finding_the_latest_version_costs_the_same_at_the_third_revision_and_the_fortieth(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    counter = CommandLog()
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        submission_settings.mongodb_url, event_listeners=[counter], tz_aware=True
    )
    broker = RabbitBroker(submission_settings.amqp_url, logger=None)
    await broker.connect()
    service, store = await intake_service(client, submission_settings, broker)

    async def revise(external_id: str, revision: int) -> None:
        body = json.dumps(samples.innovation(external_id, title=f"Inovasi revisi {revision}")).encode()
        await service.handle(IntakeDelivery("innovation.report.v1", body, new_id(), "cost"))

    await service.handle(IntakeDelivery("unit.upsert.v1", json.dumps(samples.unit()).encode(), new_id(), "cost"))
    costs = []
    for revisions in (2, 39):
        external_id = f"INV-{revisions}"
        for revision in range(1, revisions + 1):
            await revise(external_id, revision)
        counter.clear()
        await revise(external_id, revisions + 1)
        costs.append((len(counter.commands), counter.returned))
        assert all(set(query) == {"_id"} for query in counter.filters), counter.filters
    latest = await SubmissionViews(store).innovation_history("e-inovasi", "INV-39")
    assert [entry["version"] for entry in latest] == list(range(1, 41))
    assert costs[0] == costs[1], costs
    # The outbox record and its pending key (2 inserts, a delete), whether it was handled (a read), the head (a
    # read, a write) and the version (an insert, which is also the probe: a newer version would refuse its id).
    assert costs[0][0] <= 7, f"{costs[0][0]} commands for one intake message"
    await broker.stop()
    await client.close()


async def test_concurrent_writers_and_a_head_left_behind_still_find_the_latest_version(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    """Two replicas writing revisions of one innovation at once: every message one version, #1..#N without a
    gap; a head set back (a writer's head written after a newer one's) only costs a probe."""
    clients = [connect(submission_settings.mongodb_url) for _ in range(2)]
    broker = RabbitBroker(submission_settings.amqp_url, logger=None)
    await broker.connect()
    services = [(await intake_service(client, submission_settings, broker))[0] for client in clients]
    await services[0].handle(IntakeDelivery("unit.upsert.v1", json.dumps(samples.unit()).encode(), "u", "c"))

    def revision(number: int) -> IntakeDelivery:
        body = json.dumps(samples.innovation(title=f"Inovasi revisi {number}")).encode()
        return IntakeDelivery("innovation.report.v1", body, f"r{number}", "c")

    await asyncio.gather(*(services[number % 2].handle(revision(number)) for number in range(16)))
    store = SubmissionStore(clients[0][submission_settings.mongodb_database])
    history = await SubmissionViews(store).innovation_history("e-inovasi", "INV-001")
    assert [entry["version"] for entry in history] == list(range(1, 17))
    assert len({entry["message_key"] for entry in history}) == 16

    heads = clients[0][submission_settings.mongodb_database]["innovations_heads"]
    await heads.replace_one({"_id": "e-inovasi/INV-001"}, {**history[0], "_id": "e-inovasi/INV-001"})
    again = json.dumps(samples.innovation(title=history[-1]["data"]["title"])).encode()
    await services[1].handle(IntakeDelivery("innovation.report.v1", again, "again", "c"))
    await services[1].handle(revision(99))
    resent, newer = await answer(events, "again"), await answer(events, "r99")
    assert (resent["revision"], resent["unchanged"]) == (16, True)
    assert (newer["revision"], newer["unchanged"]) == (17, False)
    latest = await SubmissionViews(store).innovation("e-inovasi", "INV-001")
    assert latest is not None
    assert latest["title"] == "Inovasi revisi 99"
    await broker.stop()
    for client in clients:
        await client.close()


async def test_a_year_without_a_rubric_is_rejected_at_intake(
    submission: SubmissionSettings, events: EventProbe
) -> None:
    await register_unit(submission, events)
    profile, report = new_id(), new_id()
    await send(submission, "region.profile.v1", samples.profile(2027), profile)
    await send(submission, "innovation.report.v1", samples.innovation(year=2027, applied_on="2026-01-05"), report)
    for message_id in (profile, report):
        rejected = await answer(events, message_id)
        assert reason_codes(rejected) == [("year", "no_rubric_for_year")]
        assert rejected["refused"] is False, "the unit is told why"
    assert events.matching("innovation.submitted") == events.matching("region.profile.updated") == []


async def start_submission_process(env: dict[str, str]) -> tuple[int | None, str]:
    """`inovda-submission` run with `env`: its exit code after a few seconds (None: still running), its log."""
    process = ServiceProcess("inovda-submission", env)
    process.start()
    try:
        await asyncio.to_thread(process.process.wait, 15)
    except subprocess.TimeoutExpired:
        return None, process.log()
    finally:
        if process.running:
            await process.stop_async(40)
    return process.process.returncode, process.log()


async def test_without_who_may_send_what_the_service_refuses_to_start_unless_told_it_is_development(
    clean_broker: str, mongodb_url: str, drop_database: str
) -> None:
    common = {"AMQP_URL": clean_broker, "MONGODB_URL": mongodb_url, "MONGODB_DATABASE": drop_database}
    unset = {"SOURCE_USERS": "{}", "SOURCE_REGIONS": "{}", "INTAKE_AUTH": "on"}
    code, log = await start_submission_process({**common, **unset})
    assert code == 2, log[-2000:]
    assert "not starting: intake authentication is on and SOURCE_USERS and SOURCE_REGIONS is empty" in log
    assert "INTAKE_AUTH=off" in log

    off = ServiceProcess("inovda-submission", {**common, **unset, "INTAKE_AUTH": "off"})
    async with off:
        assert "INTAKE_AUTH=off: intake is not authenticated (development only)" in off.log()
    configured = {
        **common,
        "SOURCE_USERS": json.dumps({"sys-simpeg": "simpeg", "sys-e-inovasi": "e-inovasi"}),
        "SOURCE_REGIONS": json.dumps({"simpeg": ["64.02"], "e-inovasi": ["*"]}),
        "INTAKE_AUTH": "on",
    }
    on = ServiceProcess("inovda-submission", configured)
    async with on:
        assert "intake authentication on: 2 users, 2 sources" in on.log()
