"""The portal's subscribers: one typed handler per event its read model takes."""

from typing import Annotated

from faststream.rabbit import RabbitRouter

from inovda_shared.consumer import FROM_JSON, CurrentMessage, routed, service_subscriber
from inovda_shared.contracts.events import (
    INTAKE_ACCEPTED,
    INTAKE_REJECTED,
    InnovationScored,
    InnovationSubmitted,
    InnovationVerified,
    IntakeAnswer,
    NotificationFailed,
    NotificationSent,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.topology import PORTAL_QUEUE

from .service import Projection


def build_router(projection: Projection, seal: DeadLetterSeal) -> RabbitRouter:
    router, events = service_subscriber(PORTAL_QUEUE, seal)

    @events(filter=routed(UnitRegistered.routing_key))
    async def on_unit_registered(event: Annotated[UnitRegistered, FROM_JSON]) -> None:
        """`unit.registered`: the region's units, their kind and their mentors."""
        await projection.on_unit_registered(event)

    @events(filter=routed(RegionProfileUpdated.routing_key))
    async def on_profile_updated(event: Annotated[RegionProfileUpdated, FROM_JSON]) -> None:
        """`region.profile.updated`: the region's SPD levels and its innovation office."""
        await projection.on_profile_updated(event)

    @events(filter=routed(f"{INTAKE_ACCEPTED}.*", f"{INTAKE_REJECTED}.*"))
    async def on_answer(answer: Annotated[IntakeAnswer, FROM_JSON]) -> None:
        """`intake.accepted.<source>`, `intake.rejected.<source>`: each innovation's answers, with reasons."""
        await projection.on_answer(answer)

    @events(filter=routed(InnovationSubmitted.routing_key))
    async def on_submitted(event: Annotated[InnovationSubmitted, FROM_JSON]) -> None:
        """`innovation.submitted`: a revision, with the contribution scoring's rules give it."""
        await projection.on_submitted(event)

    @events(filter=routed(InnovationVerified.routing_key))
    async def on_verified(event: Annotated[InnovationVerified, FROM_JSON]) -> None:
        """`innovation.verified`: a review round into the innovation's history of decisions."""
        await projection.on_verified(event)

    @events(filter=routed(InnovationScored.routing_key))
    async def on_scored(event: Annotated[InnovationScored, FROM_JSON]) -> None:
        """`innovation.scored`: a revision's maturity, eligibility and most valuable improvements."""
        await projection.on_scored(event)

    @events(filter=routed(RegionIndexUpdated.routing_key))
    async def on_index_updated(event: Annotated[RegionIndexUpdated, FROM_JSON]) -> None:
        """`region.index.updated`: every version of the region's index, and its path."""
        await projection.on_index_updated(event)

    @events(filter=routed(UnitComplianceUpdated.routing_key))
    async def on_compliance_updated(event: Annotated[UnitComplianceUpdated, FROM_JSON]) -> None:
        """`unit.compliance.updated`: the unit's innovations of the year, as scoring counts them."""
        await projection.on_compliance_updated(event)

    @events(filter=routed(NotificationSent.routing_key))
    async def on_email_sent(event: Annotated[NotificationSent, FROM_JSON]) -> None:
        """`notification.sent`: an email about a unit went out (or is in doubt)."""
        await projection.on_email(event)

    @events(filter=routed(NotificationFailed.routing_key))
    async def on_email_failed(event: Annotated[NotificationFailed, FROM_JSON]) -> None:
        """`notification.failed`: an email about a unit could not be delivered."""
        await projection.on_email(event)

    @events
    async def on_other_event(message: CurrentMessage) -> None:
        """A routing key the portal does not act on: acknowledged, nothing done."""

    return router
