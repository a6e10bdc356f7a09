"""The submission service against real RabbitMQ and a real MongoDB-protocol server."""

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient

from inovda_cli import samples
from inovda_cli.deadletters import list_dead_letters, replay_dead_letters
from inovda_cli.publish import IntakeMessage, publish_messages
from inovda_scoring.domain import available_years
from inovda_shared.mongo import connect
from inovda_shared.outbox import Outbox, OutboxRelay
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.topology import SUBMISSION_QUEUE, declare_topology
from inovda_submission.adapters.store import SubmissionStore
from inovda_submission.app import create_app
from inovda_submission.domain.authentication import IntakeAccess
from inovda_submission.handlers import build_router
from inovda_submission.service import IntakeDelivery, IntakeService
from inovda_submission.settings import SubmissionSettings
from inovda_submission.views import SubmissionViews
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


async def test_a_message_whose_handler_keeps_failing_is_dead_lettered_with_its_reason_and_can_be_replayed(
    submission_settings: SubmissionSettings, events: EventProbe
) -> None:
    broken = BrokenIntake()
    broker = RabbitBroker(submission_settings.amqp_url, logger=None)
    broker.include_router(build_router(broken, await seal_of(submission_settings)))  # type: ignore[arg-type]
    await broker.connect()
    await declare_topology(broker, (SUBMISSION_QUEUE,))
    await broker.start()
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
