"""The intake use case: validate, admit, store, and record the answer and events for the outbox."""

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.events import (
    InnovationSubmitted,
    InnovationVerified,
    IntakeAnswer,
    Reason,
    RegionProfileUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import (
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
from .domain.authentication import IntakeAccess, admit
from .domain.ownership import Stored, ownership_refusal, transferred
from .domain.records import dumped_content_hash, entity_id, innovation_id, message_key, unit_id
from .domain.validation import MODELS, Rejection, parse_intake, rubric_rejection
from .domain.verification import ReviewRound, review_round

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
StoredModel = UnitUpsert | RegionProfile | InnovationReport | ReviewRound

A = TypeVar("A")
B = TypeVar("B")

KNOWN_UNITS_KEPT = 50_000  # a few MB; far more than any region registers


@dataclass(frozen=True)
class IntakeDelivery:
    routing_key: str
    body: bytes
    message_id: str | None
    correlation_id: str
    sender: str | None = None  # the broker user that published it (AMQP user_id)
    handled_before: bool = False  # an earlier handling may have stopped short (`inovda_shared.consumer`)


class IntakeService:
    def __init__(
        self,
        store: SubmissionStore,
        outbox: Outbox,
        relay: OutboxRelay,
        clock: Clock,
        *,
        access: IntakeAccess,
        rubric_years: Collection[int],
        verifier_sources: Collection[str] = ("portal",),
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._relay = relay
        self._clock = clock
        self._access = access
        self._rubric_years = frozenset(rubric_years)
        self._verifier_sources = frozenset(verifier_sources)
        self._known_units: set[str] = set()

    async def handle(self, delivery: IntakeDelivery) -> None:
        parsed = admit(parse_intake(delivery.routing_key, delivery.body), delivery.sender, self._access)
        if not isinstance(parsed, Rejection):
            parsed = rubric_rejection(parsed, self._rubric_years) or parsed
        key = message_key(delivery.routing_key, parsed.source, delivery.message_id, delivery.body)

        # Recorded before: a redelivery publishes the events again, as recorded (its first handling may have
        # died before publishing them; a repeat carries the same message ids, so consumers drop it). A copy
        # (a re-send, a duplicate on another replica) publishes nothing: the first copy's handler does, or its
        # message comes back.
        # The inbox read and the entity's head read go out together: a message handled before (rare) wastes the
        # head read, every other one saves a round trip.
        recorded, head = await _both(self._outbox.recorded(key), self._head(parsed))
        if recorded is not None:
            if delivery.handled_before:
                await self._relay.publish(recorded)
            return

        facts = _Facts(delivery, key, self._clock())
        if isinstance(parsed, Rejection):
            events = await self._rejected(facts, parsed)
        else:
            parsed, events = await self._store_or_reject(parsed, head, facts)

        # Published before the message is acknowledged: a failure brings it back, and the read above republishes.
        batch = await self._outbox.record_delivered(key, events)
        if batch.repeated and not delivery.handled_before:
            return  # a copy handled concurrently recorded it first
        if not batch.repeated:
            status = "rejected" if isinstance(parsed, Rejection) else "accepted"
            INTAKE_ANSWERS.labels(routing_key=_known(delivery.routing_key), status=status).inc()
            if isinstance(parsed, Rejection) and parsed.refused:
                codes = sorted({reason.code for reason in parsed.reasons})
                log.info("refused %s from user %s: %s", _known(delivery.routing_key), delivery.sender, codes)
        await self._relay.publish(batch)

    async def _head(self, parsed: IntakeModel | Rejection) -> Document | None:
        """The head of the entity the message is about (`VersionedCollection.head`); None for a rejection."""
        if isinstance(parsed, Rejection):
            return None
        return await self._collection_for(parsed).head(entity_id(parsed))

    async def _store_or_reject(
        self, model: IntakeModel, head: Document | None, facts: "_Facts"
    ) -> tuple[IntakeModel | Rejection, list[OutgoingEvent]]:
        """Decide on the entity's latest version, from its `head`, and store the next one. A decision that writes
        nothing (a rejection, an unchanged message) is taken only on the latest version, the head being a hint;
        one that writes meets a newer version, if there is one, as the unique `_id` of the version it writes."""
        collection = self._collection_for(model)
        entity = entity_id(model)
        latest, current = head, False
        while True:
            outcome = await self._decide(model, latest["data"] if latest else None)
            if isinstance(outcome, Rejection):
                if current:
                    return outcome, await self._rejected(facts, outcome)
            else:
                data = outcome.model_dump(mode="json")
                content = dumped_content_hash(data)
                if latest is None or latest["content_hash"] != content:
                    saved = await collection.insert_next(entity, data, content, facts.key, latest)
                    if isinstance(saved, Saved):
                        if isinstance(outcome, UnitUpsert):
                            self._remember_unit(entity)
                        return model, facts.accepted(model, outcome, saved)
                    latest = saved  # the version met: the latest is it or newer
                elif current:
                    # Unchanged, or made by this very message (redelivered after it was stored).
                    saved = Saved(latest["version"], changed=latest["message_key"] == facts.key)
                    return model, facts.accepted(model, outcome, saved)
            # Decided on a head that may lag, or met a newer version: decide again on the latest.
            latest, current = await collection.latest_after(entity, latest), True

    async def _decide(self, model: IntakeModel, earlier: Stored | None) -> StoredModel | Rejection:
        """What the message makes of the entity as `earlier` left it: what to store, or why not."""
        if isinstance(model, OwnershipTransfer):
            return transferred(model, earlier)
        if isinstance(model, InnovationVerification):
            reviewed = await self._store.innovations.latest_version(
                innovation_id(model.innovation_source, model.external_id)
            )
            return review_round(model, reviewed, self._verifier_sources)
        if (refusal := ownership_refusal(model, earlier)) is not None:
            return refusal
        if isinstance(model, InnovationReport):
            return await self._check_references(model, earlier) or model
        assert isinstance(model, UnitUpsert | RegionProfile)
        return model

    async def _check_references(self, model: InnovationReport, earlier: Stored | None) -> Rejection | None:
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
        return Rejection.of(model, reasons) if reasons else None

    async def _rejected(self, facts: "_Facts", rejection: Rejection) -> list[OutgoingEvent]:
        # A refusal emails nobody, so whether its unit is registered is neither looked up nor told.
        registered = None if rejection.refused else await self._names_registered_unit(rejection)
        return facts.rejected(rejection, registered)

    async def _names_registered_unit(self, rejection: Rejection) -> bool | None:
        if rejection.region_code is None or rejection.unit_code is None:
            return None
        return await self._unit_exists(unit_id(rejection.region_code, rejection.unit_code))

    async def _unit_exists(self, unit: str) -> bool:
        """Whether the unit is registered; once it is, it always is (units are deactivated, never removed)."""
        if unit in self._known_units:
            return True
        if not await self._store.units.exists(unit):
            return False
        self._remember_unit(unit)
        return True

    def _remember_unit(self, unit: str) -> None:
        """A unit with a stored version: registered for good, so its innovations need not look it up."""
        if len(self._known_units) >= KNOWN_UNITS_KEPT:
            self._known_units.clear()
        self._known_units.add(unit)

    def _collection_for(self, model: IntakeModel) -> VersionedCollection:
        if isinstance(model, UnitUpsert) or (isinstance(model, OwnershipTransfer) and model.unit_code is not None):
            return self._store.units
        if isinstance(model, RegionProfile | OwnershipTransfer):
            return self._store.profiles
        if isinstance(model, InnovationVerification):
            return self._store.verifications
        return self._store.innovations


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both results, awaited concurrently; a failure of either is raised as itself once both are done (a
    transient one is retried by the consumer: `inovda_shared.retry`)."""
    first_result, second_result = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(first_result, BaseException):
        raise first_result
    if isinstance(second_result, BaseException):
        raise second_result
    return first_result, second_result


def _known(routing_key: str) -> str:
    """A metric label from a closed set: a sender's invented routing key must not create new series."""
    return routing_key if routing_key in MODELS else "other"


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
            refused=rejection.refused,
        )
        return [self._event(answer, answer.answer_routing_key, "answer")]

    def accepted(self, model: IntakeModel, stored: StoredModel, saved: Saved) -> list[OutgoingEvent]:
        """`model` answered, `stored` as its version `saved` holds it (a transfer's: the unit or profile)."""
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
            fact = self._fact(stored, saved.version)
            events.append(self._event(fact, fact.routing_key, fact.routing_key))
        events.append(self._event(answer, answer.answer_routing_key, "answer"))
        return events

    def _fact(
        self, model: StoredModel, version: int
    ) -> UnitRegistered | RegionProfileUpdated | InnovationSubmitted | InnovationVerified:
        if isinstance(model, ReviewRound):
            return model.announced(version, self.now)
        if isinstance(model, UnitUpsert):
            return UnitRegistered(version=version, unit=model, registered_at=self.now)
        if isinstance(model, RegionProfile):
            return RegionProfileUpdated(version=version, profile=model, updated_at=self.now)
        return InnovationSubmitted(revision=version, innovation=model, submitted_at=self.now)

    def _event(self, event: BaseModel, routing_key: str, suffix: str) -> OutgoingEvent:
        return OutgoingEvent.of(event, routing_key, f"{self.key}:{suffix}", self.delivery.correlation_id)
