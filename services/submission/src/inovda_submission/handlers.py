"""Submission's subscribers: one handler per intake routing key, each handing the message to the intake.

The intake validates the raw bytes itself (`domain.validation`), so that a body that is not even JSON still
gets an answer with its reasons: the handlers take the body as bytes, documented in the AsyncAPI document
as the contract model of their routing key. The sender is the broker-checked `user_id`, or a sealed replay's
(`inovda_shared.provenance`).
"""

from typing import Annotated, Any

from faststream import Depends
from faststream.rabbit import RabbitRouter
from pydantic import BaseModel, WithJsonSchema

from inovda_shared.consumer import CurrentMessage, handled_before, routed, service_subscriber
from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.intake import InnovationReport, InnovationVerification, RegionProfile, UnitUpsert
from inovda_shared.messaging import correlation_id_of, routing_key_of
from inovda_shared.provenance import DeadLetterSeal, original_user_of
from inovda_shared.topology import SUBMISSION_QUEUE

from .service import IntakeDelivery, IntakeService


def documented_as(model: type[BaseModel]) -> WithJsonSchema:
    """The raw body, shown in the AsyncAPI document as `model`'s schema (its nested models written out in
    place: FastStream resolves no `$defs` inside a schema given this way)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return WithJsonSchema(inline(schema))


async def delivery_of(message: CurrentMessage) -> IntakeDelivery:
    """Async: FastDepends runs a synchronous dependency in a worker thread, a thread hop per message."""
    raw = message.raw_message
    return IntakeDelivery(
        routing_key=routing_key_of(message),
        body=raw.body,
        message_id=raw.message_id,
        correlation_id=correlation_id_of(message, fallback=message.message_id),
        sender=original_user_of(message),
        handled_before=handled_before(message),
    )


Delivery = Annotated[IntakeDelivery, Depends(delivery_of)]


def build_router(service: IntakeService, seal: DeadLetterSeal) -> RabbitRouter:
    router, intake = service_subscriber(SUBMISSION_QUEUE, seal)

    @intake(filter=routed(UnitUpsert.routing_key))
    async def on_unit_upsert(body: Annotated[bytes, documented_as(UnitUpsert)], delivery: Delivery) -> None:
        """`unit.upsert.v1`: register or change a unit (OPD, kecamatan, puskesmas, ...) of a region."""
        await service.handle(delivery)

    @intake(filter=routed(RegionProfile.routing_key))
    async def on_region_profile(body: Annotated[bytes, documented_as(RegionProfile)], delivery: Delivery) -> None:
        """`region.profile.v1`: a region's profile for a year (its innovation office, its SPD levels)."""
        await service.handle(delivery)

    @intake(filter=routed(InnovationReport.routing_key))
    async def on_innovation_report(body: Annotated[bytes, documented_as(InnovationReport)], delivery: Delivery) -> None:
        """`innovation.report.v1`: an innovation reported, or a new revision of it."""
        await service.handle(delivery)

    @intake(filter=routed(OwnershipTransfer.routing_key))
    async def on_ownership_transfer(
        body: Annotated[bytes, documented_as(OwnershipTransfer)], delivery: Delivery
    ) -> None:
        """`ownership.transfer.v1`: the operator moves a unit or a region's profile to another source."""
        await service.handle(delivery)

    @intake(filter=routed(InnovationVerification.routing_key))
    async def on_innovation_verification(
        body: Annotated[bytes, documented_as(InnovationVerification)], delivery: Delivery
    ) -> None:
        """`innovation.verification.v1`: a verifier's review round of an innovation's latest revision."""
        await service.handle(delivery)

    @intake
    async def on_unknown_routing_key(body: bytes, delivery: Delivery) -> None:
        """Any other routing key: answered `rejected` (`unknown_routing_key`)."""
        await service.handle(delivery)

    return router
