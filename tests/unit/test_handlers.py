"""Each service's handlers, on FastStream's in-memory broker: which handler a routing key reaches, what it is
decoded into, and how a delivery that cannot be handled is settled. The services themselves are stand-ins
that record what the handlers hand them (the integration tests run the real ones on the real broker)."""

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import anyio
import pytest
from faststream.rabbit import QueueType, RabbitBroker, RabbitQueue, RabbitRouter, TestRabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from inovda_cli import samples
from inovda_notification.handlers import build_router as notification_router
from inovda_notification.service import NotificationService
from inovda_scoring.handlers import build_router as scoring_router
from inovda_scoring.service import ScoringService
from inovda_shared.consumer import DEATH_ATTEMPTS, DEATH_QUEUE, DEATH_REASON
from inovda_shared.contracts.commands import EmailResend
from inovda_shared.contracts.events import (
    InnovationScored,
    InnovationSubmitted,
    IntakeAnswer,
    RegionProfileUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import InnovationReport, RegionProfile, UnitUpsert
from inovda_shared.messaging import ORIGINAL_ROUTING_KEY
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.topology import (
    DEAD_LETTER_EXCHANGE,
    EVENTS_EXCHANGE,
    INTAKE_EXCHANGE,
    NOTIFICATION_QUEUE,
    SCORING_QUEUE,
    SUBMISSION_QUEUE,
    ServiceQueue,
)
from inovda_submission.handlers import build_router as submission_router
from inovda_submission.service import IntakeService

NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
SEAL = DeadLetterSeal.random()


class Recorder:
    """Stands in for a service: every method a handler calls is recorded with its arguments."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._fail_with = fail_with

    def __getattr__(self, name: str) -> Callable[..., Any]:
        async def record(*args: Any) -> None:
            self.calls.append((name, args))
            if self._fail_with is not None:
                raise self._fail_with

        return record


class DeadLetters:
    def __init__(self) -> None:
        self.received: list[RabbitMessage] = []


async def started(router: RabbitRouter, queue: ServiceQueue, dead: DeadLetters) -> AsyncIterator[RabbitBroker]:
    broker = RabbitBroker()
    broker.include_router(router)
    # The in-memory broker routes to a queue by its one routing key; the real queue has one binding per key
    # it takes (declare_topology), so here it takes every key, as the real one takes all of its own.
    [subscriber] = router.subscribers
    subscriber.queue = RabbitQueue(queue.name, queue_type=QueueType.QUORUM, durable=True, routing_key="#")  # type: ignore[attr-defined]

    @broker.subscriber(RabbitQueue(queue.dead_letter_name, routing_key=queue.name), DEAD_LETTER_EXCHANGE)
    async def on_dead_letter(message: RabbitMessage) -> None:
        dead.received.append(message)

    async with TestRabbitBroker(broker) as test_broker:
        yield test_broker


def event_body(event: Any) -> bytes:
    return cast(bytes, event.model_dump_json().encode())


@pytest.fixture
def dead() -> DeadLetters:
    return DeadLetters()


@pytest.fixture
def scoring() -> Recorder:
    return Recorder()


@pytest.fixture
async def scoring_broker(scoring: Recorder, dead: DeadLetters) -> AsyncIterator[RabbitBroker]:
    async for broker in started(scoring_router(cast(ScoringService, scoring), SEAL), SCORING_QUEUE, dead):
        yield broker


async def test_scoring_decodes_each_event_into_its_model_and_calls_its_handler(
    scoring_broker: RabbitBroker, scoring: Recorder
) -> None:
    report = InnovationReport.model_validate_json(json.dumps(samples.innovation()))
    submitted = InnovationSubmitted(revision=2, innovation=report, submitted_at=NOW)
    unit = UnitRegistered(version=1, unit=UnitUpsert.model_validate_json(json.dumps(samples.unit())), registered_at=NOW)
    profile = RegionProfileUpdated(
        version=3, profile=RegionProfile.model_validate_json(json.dumps(samples.profile())), updated_at=NOW
    )
    for event, message_id in ((submitted, "m-1"), (unit, "m-2"), (profile, "m-3")):
        await scoring_broker.publish(
            event_body(event),
            exchange=EVENTS_EXCHANGE,
            routing_key=event.routing_key,
            message_id=message_id,
            correlation_id=f"c-{message_id}",
        )

    assert [name for name, _ in scoring.calls] == [
        "on_innovation_submitted",
        "on_unit_registered",
        "on_profile_updated",
    ]
    (_, (decoded, incoming)), _, (_, (decoded_profile, _)) = scoring.calls
    assert decoded == submitted  # the dates and enums of the strict contract read as JSON writes them
    assert (incoming.key, incoming.correlation_id) == ("m-1", "c-m-1")
    assert decoded_profile == profile


async def test_a_routing_key_nobody_handles_is_acknowledged_and_reaches_no_handler(
    scoring_broker: RabbitBroker, scoring: Recorder, dead: DeadLetters
) -> None:
    await scoring_broker.publish(b'{"anything": 1}', exchange=EVENTS_EXCHANGE, routing_key="innovation.scored")
    assert scoring.calls == []
    assert dead.received == []


async def test_a_body_that_does_not_decode_is_retried_then_dead_lettered_with_the_validation_error(
    scoring_broker: RabbitBroker, scoring: Recorder, dead: DeadLetters
) -> None:
    body = b'{"revision": "two"}'
    await scoring_broker.publish(body, exchange=EVENTS_EXCHANGE, routing_key="innovation.submitted", message_id="bad")
    assert dead.received == []  # the first attempt goes back to the queue
    await scoring_broker.publish(
        body,
        exchange=EVENTS_EXCHANGE,
        routing_key="innovation.submitted",
        message_id="bad",
        headers={"x-delivery-count": 4},  # as the broker counts the fifth delivery
    )
    assert scoring.calls == []
    [letter] = dead.received
    assert letter.body == body
    assert letter.message_id == "bad"
    assert letter.headers[DEATH_QUEUE] == SCORING_QUEUE.name
    assert letter.headers[DEATH_ATTEMPTS] == 5
    assert str(letter.headers[DEATH_REASON]).startswith("ValidationError:")
    assert letter.headers[ORIGINAL_ROUTING_KEY] == "innovation.submitted"


async def test_a_failing_handler_is_dead_lettered_with_its_error_after_the_last_attempt(dead: DeadLetters) -> None:
    failing = Recorder(fail_with=RuntimeError("cannot score this"))
    unit = UnitRegistered(version=1, unit=UnitUpsert.model_validate_json(json.dumps(samples.unit())), registered_at=NOW)
    async for broker in started(scoring_router(cast(ScoringService, failing), SEAL), SCORING_QUEUE, dead):
        await broker.publish(
            event_body(unit), exchange=EVENTS_EXCHANGE, routing_key=unit.routing_key, headers={"x-delivery-count": 4}
        )
    [letter] = dead.received
    assert letter.headers[DEATH_REASON] == "RuntimeError: cannot score this"


@pytest.fixture
def notification() -> Recorder:
    return Recorder()


@pytest.fixture
async def notification_broker(notification: Recorder, dead: DeadLetters) -> AsyncIterator[RabbitBroker]:
    async for broker in started(
        notification_router(cast(NotificationService, notification), SEAL), NOTIFICATION_QUEUE, dead
    ):
        yield broker


async def test_notification_takes_the_answers_of_every_source_accepted_or_rejected(
    notification_broker: RabbitBroker, notification: Recorder
) -> None:
    answer = IntakeAnswer(
        status="rejected",
        message_id="m-9",
        intake_routing_key="unit.upsert.v1",
        source="simpeg",
        key={"unit_code": "DINKES"},
        received_at=NOW,
    )
    for routing_key in ("intake.rejected.simpeg", "intake.accepted.e-inovasi"):
        await notification_broker.publish(
            event_body(answer), exchange=EVENTS_EXCHANGE, routing_key=routing_key, correlation_id="corr"
        )
    assert notification.calls == [("on_answer", (answer, "corr")), ("on_answer", (answer, "corr"))]


async def test_notification_routes_scores_and_resends_to_their_handlers(
    notification_broker: RabbitBroker, notification: Recorder
) -> None:
    scored = InnovationScored(
        source="e-inovasi",
        external_id="INV-1",
        unit_code="DINKES",
        region_code="64.02",
        year=2026,
        revision=1,
        title="Posyandu Digital",
        maturity=59,
        indicators={},
        eligible=False,
        ineligible_reasons=["Rancang bangun 30 kata; minimal 300 kata."],
    )
    await notification_broker.publish(
        event_body(scored), exchange=EVENTS_EXCHANGE, routing_key=scored.routing_key, correlation_id="s-1"
    )
    # (A resend really arrives through the default exchange, as a dead-letter replay does, which the in-memory
    # broker does not route to a bound queue; the integration tests send it that way.)
    await notification_broker.publish(
        event_body(EmailResend(dedupe_key="score:e-inovasi/INV-1:r1")),
        exchange=EVENTS_EXCHANGE,
        routing_key=EmailResend.routing_key,
    )
    assert notification.calls == [("on_scored", (scored, "s-1")), ("resend", ("score:e-inovasi/INV-1:r1",))]


@pytest.fixture
def intake() -> Recorder:
    return Recorder()


@pytest.fixture
async def intake_broker(intake: Recorder, dead: DeadLetters) -> AsyncIterator[RabbitBroker]:
    async for broker in started(submission_router(cast(IntakeService, intake), SEAL), SUBMISSION_QUEUE, dead):
        yield broker


@pytest.mark.parametrize(
    "routing_key", ["unit.upsert.v1", "region.profile.v1", "innovation.report.v1", "unit.delete.v9"]
)
async def test_every_intake_message_reaches_the_intake_as_the_bytes_sent_with_its_sender(
    intake_broker: RabbitBroker, intake: Recorder, routing_key: str
) -> None:
    body = b'{"not": "validated here'  # the intake answers even what is not JSON
    await intake_broker.publish(
        body,
        exchange=INTAKE_EXCHANGE,
        routing_key=routing_key,
        message_id="i-1",
        correlation_id="c-1",
        user_id="sys-simpeg",
    )
    [(name, (delivery,))] = intake.calls
    assert name == "handle"
    assert (delivery.routing_key, delivery.body, delivery.message_id) == (routing_key, body, "i-1")
    assert (delivery.sender, delivery.correlation_id) == ("sys-simpeg", "c-1")


class FailsOnceTransiently:
    """A scoring stand-in whose first handling meets a database outage: whether each handling was told that an
    earlier one may have stopped short (and so publishes what that one recorded)."""

    def __init__(self) -> None:
        self.handled_before: list[bool] = []

    async def on_innovation_submitted(self, event: InnovationSubmitted, incoming: Any) -> None:
        self.handled_before.append(incoming.handled_before)
        if len(self.handled_before) == 1:
            raise ConnectionError("the database went away")


async def test_a_delivery_retried_in_place_after_a_transient_failure_is_handled_as_one_handled_before(
    dead: DeadLetters,
) -> None:
    service = FailsOnceTransiently()
    report = InnovationReport.model_validate_json(json.dumps(samples.innovation()))
    submitted = InnovationSubmitted(revision=1, innovation=report, submitted_at=NOW)
    router = scoring_router(cast(ScoringService, service), SEAL)
    async for broker in started(router, SCORING_QUEUE, dead):
        await broker.publish(
            event_body(submitted), exchange=EVENTS_EXCHANGE, routing_key=submitted.routing_key, message_id="m-1"
        )
    assert service.handled_before == [False, True]
    assert dead.received == []


async def test_a_handler_takes_its_message_without_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch, dead: DeadLetters
) -> None:
    """fast_depends runs a synchronous dependency or context field in a worker thread: a thread hop per message,
    for a dictionary lookup (`inovda_shared.consumer.CurrentMessage`)."""
    hops: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(func, "__qualname__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    unit = UnitRegistered(version=1, unit=UnitUpsert.model_validate_json(json.dumps(samples.unit())), registered_at=NOW)
    answer = IntakeAnswer(status="accepted", message_id="m-1", intake_routing_key="unit.upsert.v1", source="simpeg",
                          key={"unit_code": "DINKES"}, received_at=NOW)  # fmt: skip
    intake, scoring, notification = Recorder(), Recorder(), Recorder()
    cases = [
        (submission_router(cast(IntakeService, intake), SEAL), SUBMISSION_QUEUE, intake, INTAKE_EXCHANGE,
         "innovation.report.v1", b"{}"),
        (scoring_router(cast(ScoringService, scoring), SEAL), SCORING_QUEUE, scoring, EVENTS_EXCHANGE,
         unit.routing_key, event_body(unit)),
        (notification_router(cast(NotificationService, notification), SEAL), NOTIFICATION_QUEUE, notification,
         EVENTS_EXCHANGE, "intake.accepted.e-inovasi", event_body(answer)),
    ]  # fmt: skip
    for router, queue, service, exchange, routing_key, body in cases:
        async for broker in started(router, queue, dead):
            await broker.publish(body, exchange=exchange, routing_key=routing_key, message_id="m-1")
        assert len(service.calls) == 1, (queue.name, service.calls)
    assert hops == []
