"""Versioned storage for units, region profiles, innovations and their review rounds.

Each kind has `<kind>_versions`: the history, one document per version, `_id` = `<entity>#<version>`, unique
also by the message that created it. Versions are only ever inserted, and everything on the hot path is read
by `_id` (FerretDB: see inovda_shared.mongo): of two concurrent writers of the same entity the loser meets the
unique `_id` and retries with the next number, and a redelivered message finds the version it created and
gets the same answer. The latest version is found by reading `<entity>#1`, `#2`, ... until one is missing: a
few reads for an entity with a few versions, whatever else is stored.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING

from inovda_shared.batching import BatchedInserts
from inovda_shared.mongo import AsyncDatabase, Document, DuplicateKeyError


class Unread:
    """Not read yet (None would say there is none)."""


UNREAD = Unread()


@dataclass(frozen=True)
class Saved:
    version: int
    changed: bool


class VersionedCollection:
    def __init__(self, database: AsyncDatabase[Document], kind: str) -> None:
        self._versions = database[f"{kind}_versions"]
        self._inserts = BatchedInserts(self._versions)

    async def ensure_indexes(self) -> None:
        await self._versions.create_index([("entity_id", ASCENDING), ("version", DESCENDING)], unique=True)
        await self._versions.create_index("message_key", unique=True)

    async def save(
        self, entity: str, data: dict[str, Any], content: str, message: str, latest: Document | Unread | None = UNREAD
    ) -> Saved:
        """Store `data` as the next version of `entity` unless it equals the latest one (`latest`, when the
        caller has just read it)."""
        while True:
            if isinstance(latest, Unread):
                latest = await self.latest_version(entity)
            if latest is not None and latest["content_hash"] == content:
                # Unchanged, or made by this very message (redelivered after it was stored).
                return Saved(latest["version"], changed=latest["message_key"] == message)
            version = (latest["version"] if latest else 0) + 1
            try:
                await self._inserts.insert_one(
                    {
                        "_id": f"{entity}#{version}",
                        "entity_id": entity,
                        "version": version,
                        "message_key": message,
                        "content_hash": content,
                        "data": data,
                        "stored_at": dt.datetime.now(dt.UTC),
                    }
                )
            except DuplicateKeyError:
                if await self._versions.find_one({"_id": f"{entity}#{version}"}, {"_id": 1}) is not None:
                    latest = UNREAD
                    continue  # another writer took this version number: look again
                # This message made a version before, since superseded: rare, so a full read is fine.
                created = await self._versions.find_one({"message_key": message}, {"version": 1})
                assert created is not None
                return Saved(created["version"], changed=True)
            return Saved(version, changed=True)

    async def history(self, entity: str) -> list[Document]:
        cursor = self._versions.find({"entity_id": entity}).sort("version", ASCENDING)
        return [document async for document in cursor]

    async def latest_version(self, entity: str) -> Document | None:
        """The latest version's document (its `data` is the entity), None when there is none."""
        latest, version = None, 0
        while (newer := await self._versions.find_one({"_id": f"{entity}#{version + 1}"})) is not None:
            latest, version = newer, version + 1
        return latest


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
