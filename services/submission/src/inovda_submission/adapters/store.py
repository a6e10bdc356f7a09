"""Versioned storage for units, region profiles and innovations.

Each kind has one collection, `<kind>_versions`: the history, one document per version, unique by entity
and version, and by the message that created it. The latest version is the one with the highest number.
Versions are only ever inserted: an insert under a unique index is the one write FerretDB makes atomic
(see `inovda_shared.locks`). A save is idempotent by the message key (a redelivered message finds the
version it created and gets the same answer), and of two concurrent writers of the same entity the
loser meets the unique index and retries with the next version number.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING

from inovda_shared.mongo import AsyncDatabase, Document, DuplicateKeyError


@dataclass(frozen=True)
class Saved:
    version: int
    changed: bool


class VersionedCollection:
    def __init__(self, database: AsyncDatabase[Document], kind: str) -> None:
        self._versions = database[f"{kind}_versions"]

    async def ensure_indexes(self) -> None:
        await self._versions.create_index([("entity_id", ASCENDING), ("version", DESCENDING)], unique=True)
        await self._versions.create_index("message_key", unique=True)

    async def save(self, entity: str, data: dict[str, Any], content: str, message: str) -> Saved:
        """Store `data` as the next version of `entity` unless it equals the latest one."""
        created = await self._versions.find_one({"message_key": message}, {"version": 1})
        if created is not None:
            return Saved(created["version"], changed=True)
        while True:
            latest = await self._latest_version(entity)
            if latest is not None and latest["content_hash"] == content:
                return Saved(latest["version"], changed=False)
            version = (latest["version"] if latest else 0) + 1
            try:
                await self._versions.insert_one(
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
                continue  # another writer took this version number (or this message): look again
            return Saved(version, changed=True)

    async def latest(self, entity: str) -> Document | None:
        document = await self._latest_version(entity)
        return document["data"] if document else None

    async def history(self, entity: str) -> list[Document]:
        cursor = self._versions.find({"entity_id": entity}).sort("version", ASCENDING)
        return [document async for document in cursor]

    async def _latest_version(self, entity: str) -> Document | None:
        cursor = self._versions.find({"entity_id": entity}).sort("version", DESCENDING).limit(1)
        return next(iter(await cursor.to_list(1)), None)


class SubmissionStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.units = VersionedCollection(database, "units")
        self.profiles = VersionedCollection(database, "region_profiles")
        self.innovations = VersionedCollection(database, "innovations")

    async def ensure_indexes(self) -> None:
        for collection in (self.units, self.profiles, self.innovations):
            await collection.ensure_indexes()
