"""Where a delivery came from, as far as the broker vouches for it, and the seal by which a dead letter keeps that.

A message published to an exchange carries its provenance in what the broker checks and sets: the exchange
and routing key it was delivered with, and its AMQP `user_id` (the broker refuses one that is not the
connection's own user). Every `x-inovda-*` header a sender set is dropped on receipt, so nothing a sender
writes can pass for what a service stamped.

Only the operator may publish through the default exchange (straight into a queue): to replay a dead letter, or
to send a command. Such a delivery has no routing key or sender of its own, so it keeps the ones its dead
letter recorded (`x-inovda-original-routing-key`, `x-inovda-original-user-id`) only when the dead letter bears
this service's seal for this very queue: an HMAC over the queue, the routing key, the sender and the body,
with a key each service keeps in its own database (every replica reads the same one; nobody without that
database can make one). A delivery through the default exchange without a valid seal keeps neither: it is
taken as the queue's own name (which no handler takes), unless its routing key is a command the queue takes
from the operator (`notification.email.resend`). So a replay goes back only to the queue its message died
in, as what it was there, and the operator's write to a queue cannot forge an event.

A message the broker itself dead-letters (its delivery limit: the consumer died on it every time) has no
seal; replayed, it arrives without its provenance.
"""

import contextlib
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aio_pika import IncomingMessage
from faststream.rabbit.annotations import RabbitMessage

from .messaging import ORIGINAL_ROUTING_KEY
from .mongo import AsyncDatabase, Document, DuplicateKeyError

INOVDA_HEADERS = "x-inovda-"
ORIGINAL_USER_ID = "x-inovda-original-user-id"
SEAL = "x-inovda-seal"
TRACE_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})
SEAL_KEY_ID = "dead-letter-seal"
KEYS_COLLECTION = "keys"


class DeadLetterSeal:
    """Seals a service's dead letters and checks the seal of a replay (the key: `load`, or given)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key

    @classmethod
    def random(cls) -> "DeadLetterSeal":
        """A key of this process alone: for a router that no other process's replays reach (tests)."""
        return cls(secrets.token_bytes(32))

    async def load(self, database: AsyncDatabase[Document]) -> None:
        """The service's key (in its database's `keys`), made by whichever replica starts first (an insert under
        a unique `_id` is atomic; FerretDB: see inovda_shared.mongo) and read by all: two commands per process."""
        keys = database[KEYS_COLLECTION]
        with contextlib.suppress(DuplicateKeyError):
            await keys.insert_one({"_id": SEAL_KEY_ID, "key": secrets.token_bytes(32)})
        stored = await keys.find_one({"_id": SEAL_KEY_ID})
        assert stored is not None
        self._key = bytes(stored["key"])

    def of(self, queue: str, routing_key: str, user: str | None, body: bytes) -> str:
        if self._key is None:
            raise RuntimeError("the dead-letter seal's key was never loaded")
        what = json.dumps([queue, routing_key, user or "", hashlib.sha256(body).hexdigest()]).encode()
        return hmac.new(self._key, what, hashlib.sha256).hexdigest()

    def verifies(self, queue: str, headers: dict[str, Any], body: bytes) -> bool:
        seal, routing_key, user = headers.get(SEAL), headers.get(ORIGINAL_ROUTING_KEY), headers.get(ORIGINAL_USER_ID)
        if self._key is None or not isinstance(seal, str) or not isinstance(routing_key, str):
            return False
        if user is not None and not isinstance(user, str):
            return False
        return hmac.compare_digest(seal, self.of(queue, routing_key, user, body))


UsualParse = Callable[[IncomingMessage], Awaitable[RabbitMessage]]
Parser = Callable[[IncomingMessage, UsualParse], Awaitable[RabbitMessage]]


def trusted_headers(queue: str, seal: DeadLetterSeal, commands: Collection[str] = ()) -> Parser:
    """The parser of a service queue: the headers a handler sees are the sender's own minus every `x-inovda-*`
    one, plus, on a delivery through the default exchange, the provenance its seal vouches for (or, unsealed,
    the routing key of one of `commands`).

    It also drops trace headers that are not text: the tracing middleware raises on those before the handler
    runs, and a delivery the handler never sees is never settled (a few such messages from a careless sender
    would take every prefetch slot and stall the queue)."""

    async def parse(message: IncomingMessage, parse_as_usual: UsualParse) -> RabbitMessage:
        parsed = await parse_as_usual(message)
        incoming = dict(parsed.headers)
        headers = {
            name: value
            for name, value in incoming.items()
            if not name.startswith(INOVDA_HEADERS) and (name not in TRACE_HEADERS or isinstance(value, str))
        }
        if not message.exchange:  # a replay, or an operator's command
            if seal.verifies(queue, incoming, message.body):
                kept = (SEAL, ORIGINAL_ROUTING_KEY, ORIGINAL_USER_ID)
                headers.update({name: incoming[name] for name in kept if incoming.get(name) is not None})
            elif isinstance(command := incoming.get(ORIGINAL_ROUTING_KEY), str) and command in commands:
                headers[ORIGINAL_ROUTING_KEY] = command
        parsed.headers = headers
        return parsed

    return parse


def unvouched(message: RabbitMessage) -> bool:
    """Written straight into the queue, and vouched for neither by a seal nor as an operator's command."""
    return not message.raw_message.exchange and ORIGINAL_ROUTING_KEY not in message.headers


def original_user_of(message: RabbitMessage) -> str | None:
    """The broker user that published the message: its `user_id`, which the broker checks, or on a sealed
    replay the `user_id` its dead letter recorded (None: it was published without one)."""
    raw = message.raw_message
    if not raw.exchange and SEAL in message.headers:
        user = message.headers.get(ORIGINAL_USER_ID)
        return str(user) if user else None
    return str(raw.user_id) if raw.user_id else None
