"""The scoring service's read model.

- `innovations`: the latest scored revision of each innovation (its facts, score, placement, contribution).
- `regions`: one aggregate per region and year: SPD levels, the totals of eligible innovations, and, per
  innovation, the contribution it made (`members.<id>`, with its revision), so that a redelivered event
  changes nothing twice and a late, older revision changes nothing at all.
- `compliance`: one document per region, year and unit, built the same way, counting its innovations.
- `units`: the units of each region, from `unit.registered`.
- `locks`: everything of one region-year is changed under that region-year's lock (see `inovda_shared.locks`
  for why FerretDB needs it); each change is then a single-document write, so a crash leaves no half-change.
"""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from inovda_shared.locks import DocumentLocks
from inovda_shared.mongo import AsyncDatabase, Document
from inovda_shared.outbox import Outbox

Increments = Callable[[Document | None, Document | None], dict[str, int]]


def member_id(source: str, external_id: str) -> str:
    """A field-name-safe id for an innovation inside a region or compliance document."""
    return hashlib.sha1(f"{source}\0{external_id}".encode()).hexdigest()[:24]


def region_key(region_code: str, year: int) -> str:
    return f"{region_code}/{year}"


def compliance_key(region_code: str, year: int, unit_code: str) -> str:
    return f"{region_code}/{year}/{unit_code}"


@dataclass(frozen=True)
class Placement:
    """Where an innovation counts: its region, assessment year and unit (a revision may change them)."""

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


class MemberAggregates:
    """Documents that aggregate members by increments, each member marked with the revision it came from.

    Callers hold the lock of the document's region-year: a read-then-write here is not raced.
    """

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def put(
        self, key: str, base: Document, member: str, revision: int, entry: Document | None, increments: Increments
    ) -> bool:
        """Make `entry` (None: nothing) the member's contribution to document `key`, as of `revision`.

        Returns whether the document changed. A member already there from the same or a newer revision wins.
        """
        field = f"members.{member}"
        document = await self.collection.find_one({"_id": key}, {field: 1})
        current = ((document or {}).get("members") or {}).get(member)
        if (current is not None and current["revision"] >= revision) or (current is None and entry is None):
            return False
        update: dict[str, Any] = {"$inc": {**increments(current, entry), "version": 1}}
        if entry is not None:
            update["$set"] = {field: {**entry, "revision": revision}}
        else:
            update["$unset"] = {field: ""}
        if document is None:
            update["$setOnInsert"] = base
        await self.collection.update_one({"_id": key}, update, upsert=document is None)
        return True

    async def document(self, key: str) -> Document | None:
        return await self.collection.find_one({"_id": key})

    async def summary(self, key: str) -> Document | None:
        """The document without its members (their count can be large; summaries stay small)."""
        return await self.collection.find_one({"_id": key}, {"members": 0})

    async def mark_announced(self, key: str, version: int, content: Document) -> None:
        await self.collection.update_one({"_id": key}, {"$set": {"announced_version": version, "last": content}})


class ScoringStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.innovations = database["innovations"]
        self.units = database["units"]
        self.regions = MemberAggregates(database["regions"])
        self.compliance = MemberAggregates(database["compliance"])
        self.outbox = Outbox(database["outbox"])
        self.locks = DocumentLocks(database["locks"])

    async def ensure_indexes(self) -> None:
        await self.innovations.create_index([("placement.region_code", ASCENDING), ("placement.year", ASCENDING)])
        await self.units.create_index("region_code")
        await self.compliance.collection.create_index([("region_code", ASCENDING), ("year", ASCENDING)])
        await self.outbox.ensure_indexes()

    async def innovation(self, key: str) -> Document | None:
        return await self.innovations.find_one({"_id": key})

    async def save_innovation(self, key: str, document: Document) -> None:
        await self.innovations.replace_one({"_id": key}, document, upsert=True)

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

    async def set_spd(self, region_code: str, year: int, levels: Mapping[str, int], version: int) -> bool:
        """Store the profile's SPD levels unless a newer profile is stored; the caller holds the region's lock."""
        key = region_key(region_code, year)
        stored = await self.regions.collection.find_one({"_id": key}, {"profile_version": 1})
        if stored is not None and stored.get("profile_version", 0) >= version:
            return False
        await self.regions.collection.update_one(
            {"_id": key},
            {
                "$set": {"spd_levels": dict(levels), "profile_version": version},
                "$inc": {"version": 1},
                "$setOnInsert": {"region_code": region_code, "year": year},
            },
            upsert=True,
        )
        return True

    async def compliance_of(self, region_code: str, year: int) -> list[Document]:
        cursor = self.compliance.collection.find({"region_code": region_code, "year": year}, {"members": 0})
        return [document async for document in cursor]
