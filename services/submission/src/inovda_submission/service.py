"""The intake use case: validate, store, and record the answer and events for the outbox."""

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from inovda_shared.contracts.events import (
    InnovationSubmitted,
    InnovationVerified,
    IntakeAnswer,
    Reason,
    RegionProfileUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import (
    INTAKE_MODELS,
    InnovationReport,
    InnovationVerification,
    IntakeModel,
    RegionProfile,
    UnitUpsert,
)
from inovda_shared.messaging import OutgoingEvent
from inovda_shared.mongo import Document
from inovda_shared.outbox import Outbox, OutboxRelay

from .adapters.metrics import INTAKE_ANSWERS
from .adapters.store import Saved, SubmissionStore, VersionedCollection
from .domain.authentication import authenticate
from .domain.records import content_hash, entity_id, innovation_id, message_key, unit_id
from .domain.validation import Rejection, parse_intake
from .domain.verification import verification_refusals, verified_event

Clock = Callable[[], dt.datetime]

KNOWN_UNITS_KEPT = 50_000  # a few MB; far more than any region registers


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
        verifier_sources: Collection[str] = ("portal",),
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._relay = relay
        self._clock = clock
        self._source_users = source_users or {}
        self._verifier_sources = frozenset(verifier_sources)
        self._known_units: set[str] = set()

    async def handle(self, delivery: IntakeDelivery) -> None:
        parsed = authenticate(parse_intake(delivery.routing_key, delivery.body), delivery.sender, self._source_users)
        source = parsed.source
        key = message_key(delivery.routing_key, source, delivery.message_id, delivery.body)

        # Handled before (a redelivery or re-send): anything still unpublished is the relay's to send,
        # so that a copy handled concurrently on another replica cannot publish the events twice.
        if await self._outbox.contains(key):
            return

        facts = _Facts(delivery, key, self._clock())
        if isinstance(parsed, Rejection):
            events = facts.rejected(parsed, await self._names_registered_unit(parsed))
        else:
            latest = await self._collection_for(parsed).latest_version(entity_id(parsed))
            reviewed = await self._reviewed(parsed)
            if rejection := await self._check_references(parsed, latest, reviewed):
                parsed = rejection
                events = facts.rejected(rejection, await self._names_registered_unit(rejection))
            else:
                events = await self._accept(parsed, facts, latest, reviewed)

        if pending := await self._outbox.record(key, events):
            status = "rejected" if isinstance(parsed, Rejection) else "accepted"
            INTAKE_ANSWERS.labels(routing_key=_known(delivery.routing_key), status=status).inc()
            await self._relay.publish(pending)

    async def _reviewed(self, model: IntakeModel) -> Document | None:
        """For a review round, the latest stored version of the innovation it reviews."""
        if not isinstance(model, InnovationVerification):
            return None
        return await self._store.innovations.latest_version(innovation_id(model.innovation_source, model.external_id))

    async def _check_references(
        self, model: IntakeModel, latest: Document | None, reviewed: Document | None
    ) -> Rejection | None:
        if isinstance(model, InnovationVerification):
            refusals = verification_refusals(model, reviewed, self._verifier_sources)
            if not refusals:
                return None
            return Rejection(refusals, source=model.source, key=model.key(), region_code=model.region_code)
        if not isinstance(model, InnovationReport):
            return None
        reasons = []
        if not await self._unit_exists(unit_id(model.region_code, model.unit_code)):
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
        earlier = latest["data"] if latest else None
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

    async def _names_registered_unit(self, rejection: Rejection) -> bool | None:
        if rejection.region_code is None or rejection.unit_code is None:
            return None
        return await self._unit_exists(unit_id(rejection.region_code, rejection.unit_code))

    async def _unit_exists(self, unit: str) -> bool:
        """Whether the unit is registered; once it is, it always is (units are deactivated, never removed)."""
        if unit in self._known_units:
            return True
        if await self._store.units.latest_version(unit) is None:
            return False
        if len(self._known_units) >= KNOWN_UNITS_KEPT:
            self._known_units.clear()
        self._known_units.add(unit)
        return True

    async def _accept(
        self, model: IntakeModel, facts: "_Facts", latest: Document | None, reviewed: Document | None
    ) -> list[OutgoingEvent]:
        collection = self._collection_for(model)
        data = model.model_dump(mode="json")
        saved = await collection.save(entity_id(model), data, content_hash(model), facts.key, latest)
        return facts.accepted(model, saved, reviewed)

    def _collection_for(self, model: IntakeModel) -> VersionedCollection:
        if isinstance(model, UnitUpsert):
            return self._store.units
        if isinstance(model, RegionProfile):
            return self._store.profiles
        if isinstance(model, InnovationVerification):
            return self._store.verifications
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

    def rejected(self, rejection: Rejection, unit_registered: bool | None) -> list[OutgoingEvent]:
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
            unit_registered=unit_registered,
        )
        return [self._event(answer, answer.answer_routing_key, "answer")]

    def accepted(self, model: IntakeModel, saved: Saved, reviewed: Document | None = None) -> list[OutgoingEvent]:
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
            unit_registered=True if isinstance(model, InnovationReport | UnitUpsert) else None,
        )
        events = []
        if saved.changed:
            fact = self._fact(model, saved.version, reviewed)
            events.append(self._event(fact, fact.routing_key, fact.routing_key))
        events.append(self._event(answer, answer.answer_routing_key, "answer"))
        return events

    def _fact(
        self, model: IntakeModel, version: int, reviewed: Document | None
    ) -> UnitRegistered | RegionProfileUpdated | InnovationSubmitted | InnovationVerified:
        if isinstance(model, InnovationVerification):
            assert reviewed is not None, "a review round is accepted only for a stored innovation"
            report = InnovationReport.model_validate(reviewed["data"], strict=False)
            return verified_event(model, report, version, self.now)
        if isinstance(model, UnitUpsert):
            return UnitRegistered(version=version, unit=model, registered_at=self.now)
        if isinstance(model, RegionProfile):
            return RegionProfileUpdated(version=version, profile=model, updated_at=self.now)
        assert isinstance(model, InnovationReport)
        return InnovationSubmitted(revision=version, innovation=model, submitted_at=self.now)

    def _event(self, event: BaseModel, routing_key: str, suffix: str) -> OutgoingEvent:
        return OutgoingEvent.of(event, routing_key, f"{self.key}:{suffix}", self.delivery.correlation_id)
