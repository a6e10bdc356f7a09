"""The intake use case: validate, store, and record the answer and events for the outbox."""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from inovda_shared.contracts.events import (
    InnovationSubmitted,
    IntakeAnswer,
    Reason,
    RegionProfileUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import INTAKE_MODELS, InnovationReport, IntakeModel, RegionProfile, UnitUpsert
from inovda_shared.messaging import OutgoingEvent
from inovda_shared.observability import INTAKE_ANSWERS
from inovda_shared.outbox import Outbox, OutboxRelay

from .adapters.store import Saved, SubmissionStore, VersionedCollection
from .domain.authentication import authenticate
from .domain.records import content_hash, entity_id, message_key, unit_id
from .domain.validation import Rejection, parse_intake

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class IntakeDelivery:
    routing_key: str
    body: bytes
    message_id: str | None
    correlation_id: str
    sender: str | None = None  # the broker user that published it (AMQP user_id)


class IntakeService:
    def __init__(
        self,
        store: SubmissionStore,
        outbox: Outbox,
        relay: OutboxRelay,
        clock: Clock,
        source_users: Mapping[str, str] | None = None,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._relay = relay
        self._clock = clock
        self._source_users = source_users or {}

    async def handle(self, delivery: IntakeDelivery) -> None:
        parsed = authenticate(parse_intake(delivery.routing_key, delivery.body), delivery.sender, self._source_users)
        source = parsed.source
        key = message_key(delivery.routing_key, source, delivery.message_id, delivery.body)

        # Handled before (a redelivery or re-send): anything still unpublished is the relay's to send,
        # so that a copy handled concurrently on another replica cannot publish the events twice.
        if await self._outbox.contains(key):
            return

        if isinstance(parsed, IntakeModel) and (rejection := await self._check_references(parsed)):
            parsed = rejection
        facts = _Facts(delivery, key, self._clock())
        events = facts.rejected(parsed) if isinstance(parsed, Rejection) else await self._accept(parsed, facts)

        if pending := await self._outbox.record(key, events):
            status = "rejected" if isinstance(parsed, Rejection) else "accepted"
            INTAKE_ANSWERS.labels(routing_key=_known(delivery.routing_key), status=status).inc()
            await self._relay.publish(pending)

    async def _check_references(self, model: IntakeModel) -> Rejection | None:
        if not isinstance(model, InnovationReport):
            return None
        reasons = []
        if await self._store.units.latest(unit_id(model.region_code, model.unit_code)) is None:
            reasons.append(
                Reason(
                    field="unit_code",
                    code="unknown_unit",
                    message=(
                        f"unit_code: unit '{model.unit_code}' is not registered in region {model.region_code}; "
                        "publish unit.upsert.v1 for it first"
                    ),
                )
            )
        earlier = await self._store.innovations.latest(entity_id(model))
        for name in ("region_code", "year"):
            if earlier is not None and earlier[name] != getattr(model, name):
                reasons.append(
                    Reason(
                        field=name,
                        code="immutable_field",
                        message=(
                            f"{name}: innovation '{model.external_id}' was reported for {earlier[name]}; "
                            "a revision cannot move it (report it under a new external_id)"
                        ),
                    )
                )
        if not reasons:
            return None
        return Rejection(
            reasons,
            source=model.source,
            key=model.key(),
            region_code=model.region_code,
            unit_code=model.unit_code,
            title=model.title,
        )

    async def _accept(self, model: IntakeModel, facts: "_Facts") -> list[OutgoingEvent]:
        collection = self._collection_for(model)
        saved = await collection.save(entity_id(model), model.model_dump(mode="json"), content_hash(model), facts.key)
        return facts.accepted(model, saved)

    def _collection_for(self, model: IntakeModel) -> VersionedCollection:
        if isinstance(model, UnitUpsert):
            return self._store.units
        if isinstance(model, RegionProfile):
            return self._store.profiles
        return self._store.innovations


def _known(routing_key: str) -> str:
    """A metric label from a closed set: a sender's invented routing key must not create new series."""
    return routing_key if routing_key in INTAKE_MODELS else "other"


@dataclass(frozen=True)
class _Facts:
    """Builds the events of one message, with message ids derived from its idempotency key."""

    delivery: IntakeDelivery
    key: str
    now: dt.datetime

    def rejected(self, rejection: Rejection) -> list[OutgoingEvent]:
        answer = IntakeAnswer(
            status="rejected",
            message_id=self.delivery.message_id,
            intake_routing_key=self.delivery.routing_key[:255],
            source=rejection.source,
            key=rejection.key,
            reasons=rejection.reasons,
            region_code=rejection.region_code,
            unit_code=rejection.unit_code,
            title=rejection.title,
            received_at=self.now,
        )
        return [self._event(answer, answer.answer_routing_key, "answer")]

    def accepted(self, model: IntakeModel, saved: Saved) -> list[OutgoingEvent]:
        answer = IntakeAnswer(
            status="accepted",
            message_id=self.delivery.message_id,
            intake_routing_key=self.delivery.routing_key,
            source=model.source,
            key=model.key(),
            revision=saved.version,
            unchanged=not saved.changed,
            region_code=model.region_code,
            unit_code=getattr(model, "unit_code", None),
            title=getattr(model, "title", None),
            received_at=self.now,
        )
        events = []
        if saved.changed:
            fact = self._fact(model, saved.version)
            events.append(self._event(fact, fact.routing_key, fact.routing_key))
        events.append(self._event(answer, answer.answer_routing_key, "answer"))
        return events

    def _fact(self, model: IntakeModel, version: int) -> UnitRegistered | RegionProfileUpdated | InnovationSubmitted:
        if isinstance(model, UnitUpsert):
            return UnitRegistered(version=version, unit=model, registered_at=self.now)
        if isinstance(model, RegionProfile):
            return RegionProfileUpdated(version=version, profile=model, updated_at=self.now)
        assert isinstance(model, InnovationReport)
        return InnovationSubmitted(revision=version, innovation=model, submitted_at=self.now)

    def _event(self, event: BaseModel, routing_key: str, suffix: str) -> OutgoingEvent:
        return OutgoingEvent.of(event, routing_key, f"{self.key}:{suffix}", self.delivery.correlation_id)
