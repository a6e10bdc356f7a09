"""Notification's subscribers: one typed handler per event it consumes; each hands the decoded event to the
service, which decides the emails and records them before the event is acknowledged.

A body that does not decode into its model fails the attempt like any other error (`inovda_shared.consumer`):
retried, then dead-lettered with the validation error as its reason.
"""

from typing import Annotated

from faststream import Depends
from faststream.rabbit import RabbitRouter

from inovda_shared.consumer import FROM_JSON, CurrentMessage, routed, service_subscriber
from inovda_shared.contracts.commands import EmailResend
from inovda_shared.contracts.events import (
    INTAKE_ACCEPTED,
    INTAKE_REJECTED,
    InnovationScored,
    IntakeAnswer,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.messaging import correlation_id_of
from inovda_shared.provenance import DeadLetterSeal
from inovda_shared.topology import NOTIFICATION_QUEUE

from .service import NotificationService


async def correlation_of(message: CurrentMessage) -> str:
    """Async: FastDepends runs a synchronous dependency in a worker thread, a thread hop per message."""
    return correlation_id_of(message, fallback=message.message_id)


CorrelationId = Annotated[str, Depends(correlation_of)]


def build_router(service: NotificationService, seal: DeadLetterSeal) -> RabbitRouter:
    # The operator asks for an email again straight into the queue (`inovda emails resend`), unsealed.
    router, events = service_subscriber(NOTIFICATION_QUEUE, seal, operator_commands=[EmailResend.routing_key])

    @events(filter=routed(f"{INTAKE_ACCEPTED}.*", f"{INTAKE_REJECTED}.*"))
    async def on_answer(answer: Annotated[IntakeAnswer, FROM_JSON], correlation_id: CorrelationId) -> None:
        """`intake.accepted.<source>`, `intake.rejected.<source>`: a receipt for an accepted report; a rejection
        for a registered unit's rejected message."""
        await service.on_answer(answer, correlation_id)

    @events(filter=routed(UnitRegistered.routing_key))
    async def on_unit_registered(event: Annotated[UnitRegistered, FROM_JSON]) -> None:
        """`unit.registered`: keep the unit's addresses and its mentors'."""
        await service.on_unit_registered(event)

    @events(filter=routed(RegionProfileUpdated.routing_key))
    async def on_profile_updated(event: Annotated[RegionProfileUpdated, FROM_JSON]) -> None:
        """`region.profile.updated`: keep the addresses of the region's innovation office."""
        await service.on_profile_updated(event)

    @events(filter=routed(InnovationScored.routing_key))
    async def on_scored(event: Annotated[InnovationScored, FROM_JSON], correlation_id: CorrelationId) -> None:
        """`innovation.scored`: the score email to the unit, its mentors in copy."""
        await service.on_scored(event, correlation_id)

    @events(filter=routed(UnitComplianceUpdated.routing_key))
    async def on_compliance(event: Annotated[UnitComplianceUpdated, FROM_JSON]) -> None:
        """`unit.compliance.updated`: keep which units complied, for reminders and digests."""
        await service.on_compliance(event)

    @events(filter=routed(RegionIndexUpdated.routing_key))
    async def on_index(event: Annotated[RegionIndexUpdated, FROM_JSON], correlation_id: CorrelationId) -> None:
        """`region.index.updated`: the index history; the predicate-change email to the innovation office."""
        await service.on_index(event, correlation_id)

    @events(filter=routed(EmailResend.routing_key))
    async def on_email_resend(command: Annotated[EmailResend, FROM_JSON]) -> None:
        """`notification.email.resend`: an operator's request (or a failed email's dead letter replayed): send
        the email again."""
        await service.resend(command.dedupe_key)

    @events
    async def on_other_event(message: CurrentMessage) -> None:
        """A routing key notification does not act on: acknowledged, nothing done."""

    return router
