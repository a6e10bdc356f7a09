"""The scoring service's read model.

- `innovations`: the latest scored revision of each innovation (its facts, score, placement, contribution).
- `regions`: one aggregate per region and year: SPD levels, the totals of eligible innovations, the few most
  improvable innovations (the path's candidates) and the journal of the last change (below).
- `compliance`: one document per region, year and unit, counting its innovations.
- `units`: the units of each region, from `unit.registered`.
- `locks`: everything of one region-year is changed under that region-year's lock (see `inovda_shared.locks`
  for why FerretDB needs it).

Without transactions, one innovation's change touches three documents: its own, its region's and its unit's.
The region's document is written first, in one write that applies the totals and records the whole change
as its `journal`, numbered by the region's `version`. The innovation and compliance documents then take the
journal, each remembering the number it applied (`applied_seq`), so applying it twice changes nothing. Every
change to a region first finishes the journal a crashed handler may have left, so a journal is never lost.

Each event reads and writes a fixed handful of documents, each by `_id` (FerretDB reads a whole collection for
any other filter), and no document grows with the innovations stored: the cost of an event is flat. Bulky
nested data the database never filters on is stored `packed` (compressed JSON): FerretDB spends its time
converting documents to and from JSON, about in proportion to their size and nesting.
"""

import hashlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING

from inovda_shared.locks import DocumentLocks
from inovda_shared.messaging import OutgoingEvent
from inovda_shared.mongo import AsyncDatabase, Document
from inovda_shared.outbox import Outbox


def packed(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 1)


def unpacked(value: bytes | None, default: Any = None) -> Any:
    return default if value is None else json.loads(zlib.decompress(value))


def member_id(source: str, external_id: str) -> str:
    """A short, field-name-safe id for an innovation inside its region's document."""
    return hashlib.sha1(f"{source}\0{external_id}".encode()).hexdigest()[:24]


def region_key(region_code: str, year: int) -> str:
    return f"{region_code}/{year}"


def compliance_key(region_code: str, year: int, unit_code: str) -> str:
    return f"{region_code}/{year}/{unit_code}"


@dataclass(frozen=True)
class Placement:
    """Where an innovation counts: its region, assessment year and unit (a revision may change the unit)."""

    region_code: str
    year: int
    unit_code: str

    @property
    def region(self) -> str:
        return region_key(self.region_code, self.year)

    @property
    def compliance(self) -> str:
        return compliance_key(self.region_code, self.year, self.unit_code)

    def to_document(self) -> Document:
        return {"region_code": self.region_code, "year": self.year, "unit_code": self.unit_code}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "Placement":
        return cls(document["region_code"], document["year"], document["unit_code"])


@dataclass(frozen=True)
class ComplianceChange:
    placement: Placement
    innovations: int
    eligible: int

    def to_document(self) -> Document:
        return {"placement": self.placement.to_document(), "innovations": self.innovations, "eligible": self.eligible}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "ComplianceChange":
        return cls(Placement.from_document(document["placement"]), document["innovations"], document["eligible"])


@dataclass(frozen=True)
class Journal:
    """One innovation's change to its region, recorded in the region's document with the totals it applied:
    what the innovation and compliance documents must become, and the events that announce it."""

    region: str
    seq: int
    innovation_key: str
    innovation: Document
    compliance: tuple[ComplianceChange, ...]
    events: tuple[OutgoingEvent, ...]
    correlation_id: str

    @property
    def outbox_key(self) -> str:
        return f"journal:{self.region}:{self.seq}"

    def to_document(self) -> Document:
        innovation = {key: value for key, value in self.innovation.items() if key != "scored_at"}
        return {
            "region": self.region,
            "seq": self.seq,
            "innovation_key": self.innovation_key,
            "scored_at": self.innovation["scored_at"],
            "correlation_id": self.correlation_id,
            "content": packed(
                {
                    "innovation": {**innovation, "detail": unpacked(innovation["detail"])},
                    "compliance": [change.to_document() for change in self.compliance],
                    "events": [event.to_document() for event in self.events],
                }
            ),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "Journal":
        content = unpacked(document["content"])
        innovation = content["innovation"]
        return cls(
            document["region"],
            document["seq"],
            document["innovation_key"],
            {**innovation, "detail": packed(innovation["detail"]), "scored_at": document["scored_at"]},
            tuple(ComplianceChange.from_document(change) for change in content["compliance"]),
            tuple(OutgoingEvent.from_document(event) for event in content["events"]),
            document["correlation_id"],
        )


def candidates_of(region: Mapping[str, Any]) -> dict[str, Document]:
    """The region's kept path candidates: member id -> {"potential", "facts"}."""
    candidates: dict[str, Document] = unpacked(region.get("candidates"), {})
    return candidates


def kept_candidates(
    candidates: Mapping[str, Document], member: str, entry: Document | None, keep: int
) -> dict[str, Document]:
    """The candidates after `member` changed to `entry` (None: gone): the `keep` with the most potential.

    Approximate by design: a member left out earlier is not reconsidered until it changes again.
    """
    updated = {key: value for key, value in candidates.items() if key != member}
    if entry is not None and entry["potential"] > 0:
        updated[member] = entry
    ranked = sorted(updated.items(), key=lambda item: (-item[1]["potential"], item[0]))
    return dict(ranked[:keep])


class ScoringStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.innovations = database["innovations"]
        self.units = database["units"]
        self.regions = database["regions"]
        self.compliance = database["compliance"]
        self.outbox = Outbox(database["outbox"])
        self.locks = DocumentLocks(database["locks"])

    async def ensure_indexes(self) -> None:
        # For reports and checks only; the event path reads by _id.
        await self.innovations.create_index([("placement.region_code", ASCENDING), ("placement.year", ASCENDING)])
        await self.units.create_index("region_code")
        await self.compliance.create_index([("region_code", ASCENDING), ("year", ASCENDING)])

    # --- innovations ------------------------------------------------------------------------------

    async def innovation(self, key: str) -> Document | None:
        return await self.innovations.find_one({"_id": key})

    # --- regions: the caller holds the region-year's lock -------------------------------------------

    async def region(self, key: str) -> Document | None:
        return await self.regions.find_one({"_id": key})

    async def change_region(
        self, key: str, base: Document, version: int, increments: Mapping[str, int], changes: Document, create: bool
    ) -> None:
        """Apply `increments` and `changes` to region `key` as its `version`, in one write."""
        update: dict[str, Any] = {"$set": {**changes, "version": version}}
        if increments:
            update["$inc"] = dict(increments)
        if create:
            update["$setOnInsert"] = base
        await self.regions.update_one({"_id": key}, update, upsert=create)

    async def applied_seq(self, innovation_key: str) -> int:
        """The journal number the innovation's document was last brought to (0: none)."""
        stored = await self.innovations.find_one({"_id": innovation_key}, {"applied_seq": 1})
        return int((stored or {}).get("applied_seq", 0))

    async def replace_innovation(self, key: str, document: Document, seq: int) -> None:
        await self.innovations.replace_one({"_id": key}, {**document, "applied_seq": seq}, upsert=True)

    async def set_spd(
        self, region: Document | None, key: str, base: Document, levels: Mapping[str, int], profile_version: int
    ) -> bool:
        """Store the profile's SPD levels unless a newer profile is stored."""
        if region is not None and region.get("profile_version", 0) >= profile_version:
            return False
        changes = {"spd_levels": dict(levels), "profile_version": profile_version}
        await self.change_region(key, base, (region or {}).get("version", 0) + 1, {}, changes, create=region is None)
        return True

    async def mark_region_announced(self, key: str, content: Document) -> None:
        await self.regions.update_one({"_id": key}, {"$set": {"last": packed(content)}})

    # --- compliance: the caller holds the region-year's lock -----------------------------------------

    async def compliance_summary(self, key: str) -> Document | None:
        return await self.compliance.find_one({"_id": key})

    async def apply_compliance(self, key: str, counted: Document, seq: int, create: Document | None) -> None:
        """Set the unit's counts (`counted`: innovations, eligible, version, last) as of journal `seq`."""
        update: dict[str, Any] = {"$set": {**counted, "applied_seq": seq}}
        if create is not None:
            update["$setOnInsert"] = create
        await self.compliance.update_one({"_id": key}, update, upsert=create is not None)

    async def compliance_of(self, region_code: str, year: int) -> list[Document]:
        return await self.compliance.find({"region_code": region_code, "year": year}).to_list(None)

    # --- units ---------------------------------------------------------------------------------------

    async def save_unit(self, region_code: str, unit_code: str, version: int, unit: Document) -> bool:
        """Store the unit unless a newer version is stored; the caller holds the unit's lock."""
        key = f"{region_code}/{unit_code}"
        stored = await self.units.find_one({"_id": key}, {"version": 1})
        if stored is not None and stored["version"] >= version:
            return False
        await self.units.replace_one({"_id": key}, {**unit, "version": version}, upsert=True)
        return True

    async def units_of(self, region_code: str) -> list[Document]:
        return [document async for document in self.units.find({"region_code": region_code}).sort("_id", 1)]
