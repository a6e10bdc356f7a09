"""The journal: one innovation's change to its region, recorded in the region's one write that counts it.

Without transactions, one change touches three documents: the innovation's, its region's and its unit's.
The region's write applies the totals and records the whole change as its journal, numbered by the region's
version; the unit counts and the innovation's document then take the journal, each remembering the number it
applied, so taking it twice changes nothing. Every change to a region first finishes the journal a crashed
handler may have left, so a journal is never lost.
"""

from dataclasses import dataclass

from inovda_shared.messaging import OutgoingEvent

from .compliance import ComplianceChange
from .revision import ScoredRevision


@dataclass(frozen=True)
class Journal:
    """What the innovation and compliance documents must become, and the events that announce the change."""

    region: str
    seq: int
    innovation: ScoredRevision
    compliance: tuple[ComplianceChange, ...]
    events: tuple[OutgoingEvent, ...]
    correlation_id: str

    @property
    def outbox_key(self) -> str:
        return f"journal:{self.region}:{self.seq}"
