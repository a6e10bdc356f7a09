"""Scoring's subscribers: one typed handler per event it consumes; each hands the decoded event to the service.

A body that does not decode into its model fails the attempt like any other error (`inovda_shared.consumer`):
retried, then dead-lettered with the validation error as its reason.
"""

import hashlib
from typing import Annotated

from faststream import Depends
from faststream.rabbit import RabbitRouter

from inovda_shared.consumer import FROM_JSON, CurrentMessage, handled_before, routed, service_subscriber
from inovda_shared.contracts.events import InnovationSubmitted, InnovationVerified, RegionProfileUpdated, UnitRegistered
from inovda_shared.messaging import correlation_id_of, routing_key_of
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.topology import SCORING_QUEUE

from .service import Incoming, ScoringService


async def incoming_of(message: CurrentMessage) -> Incoming:
    """The event's idempotency key (its message id; its content for a sender that set none) and correlation id.
    Async: FastDepends runs a synchronous dependency in a worker thread, a thread hop per message."""
    raw = message.raw_message
    key = raw.message_id or hashlib.sha256(routing_key_of(message).encode() + b"\0" + raw.body).hexdigest()
    return Incoming(
        key=key,
        correlation_id=correlation_id_of(message, fallback=message.message_id),
        handled_before=handled_before(message),
    )


Identity = Annotated[Incoming, Depends(incoming_of)]


def build_router(service: ScoringService, seal: DeadLetterSeal) -> RabbitRouter:
    router, events = service_subscriber(SCORING_QUEUE, seal)

    @events(filter=routed(InnovationSubmitted.routing_key))
    async def on_innovation_submitted(event: Annotated[InnovationSubmitted, FROM_JSON], incoming: Identity) -> None:
        """`innovation.submitted`: score the revision; count it in its region and unit."""
        await service.on_innovation_submitted(event, incoming)

    @events(filter=routed(InnovationVerified.routing_key))
    async def on_innovation_verified(event: Annotated[InnovationVerified, FROM_JSON], incoming: Identity) -> None:
        """`innovation.verified`: take the review round into the innovation's and its region's verified figures."""
        await service.on_innovation_verified(event, incoming)

    @events(filter=routed(UnitRegistered.routing_key))
    async def on_unit_registered(event: Annotated[UnitRegistered, FROM_JSON], incoming: Identity) -> None:
        """`unit.registered`: keep the unit (its kind and whether it is active) for compliance."""
        await service.on_unit_registered(event, incoming)

    @events(filter=routed(RegionProfileUpdated.routing_key))
    async def on_profile_updated(event: Annotated[RegionProfileUpdated, FROM_JSON], incoming: Identity) -> None:
        """`region.profile.updated`: take the region's SPD levels into its index."""
        await service.on_profile_updated(event, incoming)

    @events
    async def on_other_event(message: CurrentMessage) -> None:
        """A routing key scoring does not act on (bound by an older topology): acknowledged, nothing done."""

    return router
