"""The portal's own database (`inovda_portal`): its read model, its accounts, the reports it sent.

Every page reads a few documents by `_id` (FerretDB: see inovda_shared.mongo), so a document holds what a
page needs, as one compressed field (`state`): a region's units; a region-year's index, history, compliance
and innovations; one innovation's revisions and answers; one unit's emails. A change to one of them is made
under its lock (`inovda_shared.locks`), by the projection alone. A document read unchanged is not parsed
again (`_ParsedStates`).
"""

import datetime as dt
import zlib
from typing import Any, TypeVar

from cachetools import LRUCache
from pydantic import BaseModel

from inovda_shared.locks import DocumentLocks
from inovda_shared.mongo import AsyncDatabase, Document, DuplicateKeyError

from ..domain.access import Account
from ..domain.model import (
    InnovationRecord,
    RegionDirectory,
    RegionYear,
    UnitActivity,
    innovation_key,
    region_year_key,
    unit_key,
)

M = TypeVar("M", bound=BaseModel)

# What the kept models may weigh, counted as each one's JSON, its packed bytes and 1 KB for the entry itself. A
# model takes 3 (an innovation) to 8 (a region-year) times its JSON in memory (tracemalloc), so 5 MB keeps the
# portal's cache under about 40 MB. A region-year of 500 units and 1,000 innovations is about 550 KB of JSON
# (38 KB packed), parsed in about 40 ms.
PARSED_STATES_KEPT_BYTES = 5_000_000
ENTRY_BYTES = 1_000


def _packed(model: BaseModel) -> bytes:
    return zlib.compress(model.model_dump_json().encode(), 1)


class _ParsedStates:
    """The model last read from each document, kept with the exact bytes it was read from. A page reads its
    documents every time, but one unchanged since the last read (most are: the read model changes a few times
    a minute) is not parsed again; parsing a large region-year was most of a page's time. A document changed
    since is parsed again, whoever changed it. One model is shared by every page that reads those bytes: the
    read model's models are never changed in place (`domain.model._Frozen`)."""

    def __init__(self, max_bytes: int = PARSED_STATES_KEPT_BYTES) -> None:
        # (kind, _id) -> (the packed state, its JSON's length, the model)
        self._kept: LRUCache[tuple[str, Any], tuple[bytes, int, BaseModel]] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda entry: entry[1] + len(entry[0]) + ENTRY_BYTES
        )

    def unpacked(self, kind: type[M], document: Document | None) -> M | None:
        if document is None:
            return None
        key, state = (kind.__name__, document["_id"]), document["state"]
        kept = self._kept.get(key)
        if kept is not None and kept[0] == state and isinstance(kept[2], kind):
            return kept[2]
        text = zlib.decompress(state)
        model = kind.model_validate_json(text)
        entry = (state, len(text), model)
        if self._kept.getsizeof(entry) <= self._kept.maxsize:
            self._kept[key] = entry
        return model


def _account_of(document: Document) -> Account:
    fields = {key: value for key, value in document.items() if key not in ("_id", "password_hash", "created_at")}
    return Account.model_validate({"username": document["_id"], **fields})


class AccountExistsError(ValueError):
    pass


class PortalStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self._directories = database["regions"]
        self._region_years = database["region_years"]
        self._innovations = database["innovations"]
        self._activity = database["unit_activity"]
        self._accounts = database["accounts"]
        self._submissions = database["submissions"]
        self.locks = DocumentLocks(database["locks"])
        self._parsed = _ParsedStates()

    async def ensure_indexes(self) -> None:
        """No index to create: every read and write goes by `_id`."""
        await self.locks.forget_old_claims()

    # --- the read model --------------------------------------------------------------------------

    async def directory(self, region_code: str) -> RegionDirectory:
        found = self._parsed.unpacked(RegionDirectory, await self._directories.find_one({"_id": region_code}))
        return found or RegionDirectory(region_code=region_code)

    async def save_directory(self, directory: RegionDirectory) -> None:
        await self._save(self._directories, directory.region_code, directory)

    async def region_year(self, region_code: str, year: int) -> RegionYear:
        key = region_year_key(region_code, year)
        found = self._parsed.unpacked(RegionYear, await self._region_years.find_one({"_id": key}))
        return found or RegionYear(region_code=region_code, year=year)

    async def save_region_year(self, region: RegionYear) -> None:
        await self._save(self._region_years, region_year_key(region.region_code, region.year), region)

    async def innovation(self, source: str, external_id: str) -> InnovationRecord:
        key = innovation_key(source, external_id)
        found = self._parsed.unpacked(InnovationRecord, await self._innovations.find_one({"_id": key}))
        return found or InnovationRecord(source=source, external_id=external_id)

    async def save_innovation(self, record: InnovationRecord) -> None:
        await self._save(self._innovations, innovation_key(record.source, record.external_id), record)

    async def activity(self, region_code: str, unit_code: str) -> UnitActivity:
        found = self._parsed.unpacked(
            UnitActivity, await self._activity.find_one({"_id": unit_key(region_code, unit_code)})
        )
        return found or UnitActivity(region_code=region_code, unit_code=unit_code)

    async def save_activity(self, activity: UnitActivity) -> None:
        await self._save(self._activity, unit_key(activity.region_code, activity.unit_code), activity)

    @staticmethod
    async def _save(collection: Any, key: str, model: BaseModel) -> None:
        await collection.replace_one({"_id": key}, {"_id": key, "state": _packed(model)}, upsert=True)

    # --- accounts --------------------------------------------------------------------------------

    async def account(self, username: str) -> tuple[Account, str] | None:
        """The account and its password hash."""
        document = await self._accounts.find_one({"_id": username})
        return None if document is None else (_account_of(document), document["password_hash"])

    async def add_account(self, account: Account, password_hash: str, at: dt.datetime) -> None:
        document = {
            "_id": account.username,
            **account.model_dump(mode="json", exclude={"username"}),
            "password_hash": password_hash,
            "created_at": at,
        }
        try:
            await self._accounts.insert_one(document)
        except DuplicateKeyError:
            raise AccountExistsError(f"account {account.username!r} exists already") from None

    async def change_account(self, account: Account, password_hash: str | None = None) -> None:
        changes: Document = account.model_dump(mode="json", exclude={"username"})
        if password_hash is not None:
            changes["password_hash"] = password_hash
        await self._accounts.update_one({"_id": account.username}, {"$set": changes})

    async def accounts(self) -> list[Account]:
        """Every account (the operator's list; a few hundred at most, read in full)."""
        return [_account_of(document) async for document in self._accounts.find({}).sort("_id", 1)]

    # --- reports the portal sent to the intake ----------------------------------------------------

    async def record_submission(self, message_id: str, submission: Document) -> None:
        await self._submissions.insert_one({"_id": message_id, **submission})

    async def submission(self, message_id: str) -> Document | None:
        return await self._submissions.find_one({"_id": message_id})
