"""The broker topology, defined once: the broker's definitions (`inovda broker-definitions`) create it, and
every service, the CLI and the tests declare what they use of it.

Every service queue is a durable quorum queue whose rejected or over-delivered messages go to the
dead-letter exchange, routed by the queue's own name to `<queue>.dead`.

The exchanges are shared, so no service's broker user may configure (and so delete or redeclare) them: they
come from the definitions, and everyone else only looks them up (`declare=False`: a passive declaration).
"""

from dataclasses import dataclass

from aio_pika.abc import AbstractRobustConnection
from aio_pika.exceptions import ChannelNotFoundEntity
from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue

from .contracts import commands, events, intake

INTAKE_EXCHANGE = RabbitExchange("inovda.intake", type=ExchangeType.TOPIC, durable=True, declare=False)
EVENTS_EXCHANGE = RabbitExchange("inovda.events", type=ExchangeType.TOPIC, durable=True, declare=False)
DEAD_LETTER_EXCHANGE = RabbitExchange("inovda.dead-letter", type=ExchangeType.DIRECT, durable=True, declare=False)
EXCHANGES = (INTAKE_EXCHANGE, EVENTS_EXCHANGE, DEAD_LETTER_EXCHANGE)

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

    @property
    def service(self) -> str:
        """The service that consumes it (`submission.intake`: `submission`), whose broker user is `inovda-<service>`."""
        return self.name.split(".", 1)[0]

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


# Where a routing key names the sender's source: any one word.
SOURCE_WORD = "{source}"
# What may be published on `inovda.intake`: the intake messages, and nothing else.
INTAKE_ROUTING_KEYS: tuple[str, ...] = tuple(intake.INTAKE_MODELS)
# What the outside systems report: every intake message but a review round, which only a verifier source (the
# portal) sends; the intake refuses one from anyone else too (`not_a_verifier`).
REPORTING_ROUTING_KEYS: tuple[str, ...] = tuple(
    key for key in INTAKE_ROUTING_KEYS if key != intake.InnovationVerification.routing_key
)
# What each service publishes, by exchange. Its broker user (`inovda-<service>`) may publish these routing keys
# and no other (topic permissions, `inovda broker-definitions`); the services declare the same ones for
# their AsyncAPI documents (their `app.py`), and tests/unit/contracts keeps the two in step.
PUBLISHES: dict[str, dict[str, tuple[str, ...]]] = {
    "submission": {
        EVENTS_EXCHANGE.name: (
            f"{events.INTAKE_ACCEPTED}.{SOURCE_WORD}",
            f"{events.INTAKE_REJECTED}.{SOURCE_WORD}",
            events.UnitRegistered.routing_key,
            events.RegionProfileUpdated.routing_key,
            events.InnovationSubmitted.routing_key,
            events.InnovationVerified.routing_key,
        )
    },
    "scoring": {
        EVENTS_EXCHANGE.name: (
            events.InnovationScored.routing_key,
            events.RegionIndexUpdated.routing_key,
            events.UnitComplianceUpdated.routing_key,
        )
    },
    "notification": {
        EVENTS_EXCHANGE.name: (events.NotificationSent.routing_key, events.NotificationFailed.routing_key)
    },
    # The portal sends what people enter as one more outside system (source `portal`): reports and review rounds.
    "portal": {INTAKE_EXCHANGE.name: (intake.InnovationReport.routing_key, intake.InnovationVerification.routing_key)},
}
# The operator's commands (`inovda units transfer`), published on `inovda.intake` as the source `operator`; its
# answers come back on `results.operator`.
OPERATOR_PUBLISHES: dict[str, tuple[str, ...]] = {INTAKE_EXCHANGE.name: (commands.OwnershipTransfer.routing_key,)}


async def declare_topology(broker: RabbitBroker, queues: tuple[ServiceQueue, ...] = SERVICE_QUEUES) -> None:
    """Declare the given queues, their bindings and dead-letter queues (idempotent; a service's broker user may
    configure nothing else), after looking up Inovda's exchanges."""
    connection = await broker.connect()
    for exchange in EXCHANGES:
        await _look_up_or_create(connection, exchange)
    dead_letter_exchange = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    for spec in queues:
        declared_exchange = await broker.declare_exchange(spec.exchange)
        queue = await broker.declare_queue(spec.queue())
        for key in spec.binding_keys:
            await queue.bind(declared_exchange, routing_key=key)
        dead = await broker.declare_queue(spec.dead_letter_queue())
        await dead.bind(dead_letter_exchange, routing_key=spec.name)


async def _look_up_or_create(connection: AbstractRobustConnection, exchange: RabbitExchange) -> None:
    """The definitions create the exchanges, so a lookup finds them. Only a development broker without the
    definitions lacks one: it is declared then, which the guest user may (a service's own user may not, and
    is refused). On a channel of its own: a failed lookup closes its channel."""
    kind, durable = exchange.type.value, exchange.durable
    lookup = await connection.channel()
    try:
        await lookup.declare_exchange(exchange.name, kind, durable=durable, passive=True)
        return
    except ChannelNotFoundEntity:
        pass  # a development broker: declared below
    finally:
        await lookup.close()
    creator = await connection.channel()
    try:
        await creator.declare_exchange(exchange.name, kind, durable=durable)
    finally:
        await creator.close()
