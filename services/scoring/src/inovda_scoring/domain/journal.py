"""The journal: one innovation's change to its region, recorded in the region's one write that counts it.

Without transactions, one change touches two documents: its region's and the innovation's. The region's
write applies the totals and its units' counts and records the whole change as its journal, numbered by the
region's version; the events are recorded in the outbox, then the innovation's document takes the journal,
remembering the number it applied, so taking it twice changes nothing. Every change to a region first
finishes the journal a crashed handler may have left, so a journal is never lost.
"""

from dataclasses import dataclass

from inovda_shared.messaging import OutgoingEvent

from .revision import ScoredRevision


def journal_outbox_key(message_key: str) -> str:
    """The outbox record of the change the message `message_key` made: its redelivery reads it there."""
    return f"journal:{message_key}"


@dataclass(frozen=True)
class Journal:
    """What the innovation's document must become, and the events that announce the change; `message_key`:
    the idempotency key of the message that made it (None: a journal written before it was kept)."""

    region: str
    seq: int
    innovation: ScoredRevision
    events: tuple[OutgoingEvent, ...]
    correlation_id: str
    message_key: str | None

    @property
    def outbox_key(self) -> str:
        if self.message_key is None:
            return f"journal:{self.region}:{self.seq}"
        return journal_outbox_key(self.message_key)
