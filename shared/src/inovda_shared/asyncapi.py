"""The message contract of each service as a FastStream application that only describes it.

The real subscribers read raw bytes (so that an undecodable body still gets an answer) and dispatch by
routing key, which leaves FastStream nothing to document. These description-only apps declare, from the
same contract models and topology, one subscriber per routing key a service consumes and one publisher
per routing key it publishes; `faststream docs gen` turns them into the AsyncAPI documents committed under
`deploy/asyncapi/` (`make asyncapi`; a test fails when those are out of date). They are never started.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from faststream import FastStream
from faststream.rabbit import RabbitBroker, RabbitExchange, RabbitQueue
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from .contracts.events import (
    InnovationScored,
    InnovationSubmitted,
    IntakeAnswer,
    NotificationFailed,
    NotificationSent,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from .contracts.intake import INTAKE_MODELS
from .topology import EVENTS_EXCHANGE, INTAKE_EXCHANGE, NOTIFICATION_QUEUE, SCORING_QUEUE, SUBMISSION_QUEUE

Flow = tuple[RabbitExchange, str, type[BaseModel]]
FACTS: list[Flow] = [
    (EVENTS_EXCHANGE, UnitRegistered.routing_key, UnitRegistered),
    (EVENTS_EXCHANGE, RegionProfileUpdated.routing_key, RegionProfileUpdated),
    (EVENTS_EXCHANGE, InnovationSubmitted.routing_key, InnovationSubmitted),
]
ANSWERS: list[Flow] = [
    (EVENTS_EXCHANGE, "intake.accepted.{source}", IntakeAnswer),
    (EVENTS_EXCHANGE, "intake.rejected.{source}", IntakeAnswer),
]


def _describing(model: type[BaseModel]) -> Callable[..., Coroutine[Any, Any, None]]:
    async def handler(body: model) -> None:  # type: ignore[valid-type]
        """Described only; never consumed here."""

    handler.__doc__ = model.__doc__
    return handler


def _app(service: str, queue: str, consumes: list[Flow], publishes: list[Flow]) -> FastStream:
    broker = RabbitBroker(description=f"Inovda {service} service")
    for exchange, routing_key, model in consumes:
        subscriber = broker.subscriber(
            RabbitQueue(queue, routing_key=routing_key), exchange, title=f"{queue}:{routing_key}"
        )
        subscriber(_describing(model))
    for exchange, routing_key, model in publishes:
        broker.publisher(
            exchange=exchange, routing_key=routing_key, schema=model, title=f"{exchange.name}:{routing_key}"
        )
    return FastStream(
        broker, specification=AsyncAPI(title=f"Inovda {service}", version="1.0.0", schema_version="3.0.0")
    )


submission = _app(
    "submission",
    SUBMISSION_QUEUE.name,
    [(INTAKE_EXCHANGE, key, model) for key, model in INTAKE_MODELS.items()],
    [*ANSWERS, *FACTS],
)
scoring = _app(
    "scoring",
    SCORING_QUEUE.name,
    FACTS,
    [
        (EVENTS_EXCHANGE, model.routing_key, model)
        for model in (InnovationScored, RegionIndexUpdated, UnitComplianceUpdated)
    ],
)
notification = _app(
    "notification",
    NOTIFICATION_QUEUE.name,
    [
        *ANSWERS,
        *(
            (EVENTS_EXCHANGE, model.routing_key, model)
            for model in (
                UnitRegistered,
                RegionProfileUpdated,
                InnovationScored,
                RegionIndexUpdated,
                UnitComplianceUpdated,
            )
        ),
    ],
    [(EVENTS_EXCHANGE, model.routing_key, model) for model in (NotificationSent, NotificationFailed)],
)
