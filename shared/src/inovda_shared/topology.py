"""The broker topology, defined once and declared by every service, the CLI and the tests.

Every service queue is a durable quorum queue whose rejected or over-delivered messages go to the
dead-letter exchange, routed by the queue's own name to `<queue>.dead`.
"""

from dataclasses import dataclass

from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue

INTAKE_EXCHANGE = RabbitExchange("inovda.intake", type=ExchangeType.TOPIC, durable=True)
EVENTS_EXCHANGE = RabbitExchange("inovda.events", type=ExchangeType.TOPIC, durable=True)
DEAD_LETTER_EXCHANGE = RabbitExchange("inovda.dead-letter", type=ExchangeType.DIRECT, durable=True)

# Deliveries a service attempts itself before it dead-letters a message with the error as its reason.
MAX_DELIVERY_ATTEMPTS = 5
# The broker's own limit sits above it: it only acts when a message kills the consumer every time.
BROKER_DELIVERY_LIMIT = MAX_DELIVERY_ATTEMPTS + 2


@dataclass(frozen=True)
class ServiceQueue:
    name: str
    exchange: RabbitExchange
    binding_keys: tuple[str, ...]

    @property
    def dead_letter_name(self) -> str:
        return f"{self.name}.dead"

    def queue(self) -> RabbitQueue:
        return RabbitQueue(
            self.name,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=self.binding_keys[0],
            arguments={
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
                "x-dead-letter-routing-key": self.name,
                "x-delivery-limit": BROKER_DELIVERY_LIMIT,
            },
        )

    def dead_letter_queue(self) -> RabbitQueue:
        return RabbitQueue(self.dead_letter_name, queue_type=QueueType.QUORUM, durable=True, routing_key=self.name)


SUBMISSION_QUEUE = ServiceQueue("submission.intake", INTAKE_EXCHANGE, ("#",))
SCORING_QUEUE = ServiceQueue(
    "scoring.events",
    EVENTS_EXCHANGE,
    ("innovation.submitted", "unit.registered", "region.profile.updated", "innovation.verified"),
)
NOTIFICATION_QUEUE = ServiceQueue(
    "notification.events",
    EVENTS_EXCHANGE,
    (
        "intake.accepted.*",
        "intake.rejected.*",
        "unit.registered",
        "region.profile.updated",
        "innovation.scored",
        "region.index.updated",
        "unit.compliance.updated",
    ),
)
# The portal's read model: everything people look at in the browser.
PORTAL_QUEUE = ServiceQueue(
    "portal.events",
    EVENTS_EXCHANGE,
    (
        "unit.registered",
        "region.profile.updated",
        "intake.accepted.*",
        "intake.rejected.*",
        "innovation.submitted",
        "innovation.verified",
        "innovation.scored",
        "region.index.updated",
        "unit.compliance.updated",
        "notification.sent",
        "notification.failed",
    ),
)
SERVICE_QUEUES: tuple[ServiceQueue, ...] = (SUBMISSION_QUEUE, SCORING_QUEUE, NOTIFICATION_QUEUE, PORTAL_QUEUE)


async def declare_topology(broker: RabbitBroker, queues: tuple[ServiceQueue, ...] = SERVICE_QUEUES) -> None:
    """Declare the given queues, their bindings and dead-letter queues, and the exchanges they need:
    their own, `inovda.events` (every service publishes there) and the dead-letter one (idempotent; a
    service's broker user may configure nothing else)."""
    await broker.declare_exchange(EVENTS_EXCHANGE)
    dead_letter_exchange = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    for spec in queues:
        declared_exchange = await broker.declare_exchange(spec.exchange)
        queue = await broker.declare_queue(spec.queue())
        for key in spec.binding_keys:
            await queue.bind(declared_exchange, routing_key=key)
        dead = await broker.declare_queue(spec.dead_letter_queue())
        await dead.bind(dead_letter_exchange, routing_key=spec.name)
