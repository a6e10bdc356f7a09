"""Versioned storage for units, region profiles, innovations and their review rounds.

Each kind has `<kind>_versions`: the history, one document per version, `_id` = `<entity>#<version>`, unique
also by the message that created it. Versions are only ever inserted, each right after its predecessor was
read, so an entity's versions are `#1..#N` without a gap, and everything on the hot path is read by `_id`
(FerretDB: see inovda_shared.mongo): of two concurrent writers of the same entity the loser meets the unique
`_id` and decides again on the newer version, and a redelivered message finds the version it created and
gets the same answer.

The latest version is found in constant time from `<kind>_heads`: one document per entity from its second
version on, a copy of its latest version, written after each new version. A head is a hint, never the truth:
two writers may write their heads in the wrong order, or a writer die before writing its head, so a reader
probes upward from it (`#head+1`, ...) to the first version missing. That is correct on FerretDB, whose
updates are not atomic, because the versions themselves are insert-only under unique ids: a head that lags
only costs a read or two. An entity's first version writes no head (most entities never get a second): no
head reads as "no version yet", and the first write of an entity that has one meets `#1`'s unique `_id`
and probes from there, a read or two more at its second version.
"""

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING

from inovda_shared.batching import BatchedInserts
from inovda_shared.mongo import AsyncDatabase, Document, DuplicateKeyError


@dataclass(frozen=True)
class Saved:
    version: int
    changed: bool


class VersionedCollection:
    def __init__(self, database: AsyncDatabase[Document], kind: str) -> None:
        self._versions = database[f"{kind}_versions"]
        self._heads = database[f"{kind}_heads"]
        self._inserts = BatchedInserts(self._versions)

    async def ensure_indexes(self) -> None:
        await self._versions.create_index([("entity_id", ASCENDING), ("version", DESCENDING)], unique=True)
        await self._versions.create_index("message_key", unique=True)

    async def head(self, entity: str) -> Document | None:
        """The version the entity's head names: its latest, or one a little older (see the module's text)."""
        return await self._heads.find_one({"_id": entity})

    async def latest_after(self, entity: str, known: Document | None) -> Document | None:
        """The latest version, probing upward from `known` (a version read before; None: from the first)."""
        latest, version = known, known["version"] if known else 0
        while (newer := await self._versions.find_one({"_id": f"{entity}#{version + 1}"})) is not None:
            latest, version = newer, version + 1
        return latest

    async def exists(self, entity: str) -> bool:
        """Whether the entity has a version (versions are never removed): a read or two."""
        if await self.head(entity) is not None:
            return True
        return await self._versions.find_one({"_id": f"{entity}#1"}, {"_id": 1}) is not None

    async def latest_version(self, entity: str) -> Document | None:
        """The latest version's document (its `data` is the entity), None when there is none."""
        return await self.latest_after(entity, await self.head(entity))

    async def insert_next(
        self, entity: str, data: dict[str, Any], content: str, message: str, after: Document | None
    ) -> Saved | Document:
        """Store `data` as the version after `after` (None: the first). When another writer stored that version
        first: that version, from which the caller reads the latest and decides again."""
        version = (after["version"] if after else 0) + 1
        document = {
            "_id": f"{entity}#{version}",
            "entity_id": entity,
            "version": version,
            "message_key": message,
            "content_hash": content,
            "data": data,
            "stored_at": dt.datetime.now(dt.UTC),
        }
        try:
            await self._inserts.insert_one(document)
        except DuplicateKeyError:
            if (met := await self._versions.find_one({"_id": document["_id"]})) is not None:
                return met
            # This message made a version before, since superseded: rare, so a full read is fine.
            created = await self._versions.find_one({"message_key": message}, {"version": 1})
            assert created is not None
            return Saved(created["version"], changed=True)
        # A head behind (a concurrent writer's, written after ours) or missing (two writes racing to create it)
        # only costs readers a probe; a first version writes none (see the module's text).
        if version > 1:
            with contextlib.suppress(DuplicateKeyError):
                await self._heads.replace_one({"_id": entity}, {**document, "_id": entity}, upsert=True)
        return Saved(version, changed=True)

    async def history(self, entity: str) -> list[Document]:
        cursor = self._versions.find({"entity_id": entity}).sort("version", ASCENDING)
        return [document async for document in cursor]


class SubmissionStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.units = VersionedCollection(database, "units")
        self.profiles = VersionedCollection(database, "region_profiles")
        self.innovations = VersionedCollection(database, "innovations")
        # Review rounds, per innovation: version n is its n-th round, kept as its history of decisions.
        self.verifications = VersionedCollection(database, "verifications")

    async def ensure_indexes(self) -> None:
        for collection in (self.units, self.profiles, self.innovations, self.verifications):
            await collection.ensure_indexes()
