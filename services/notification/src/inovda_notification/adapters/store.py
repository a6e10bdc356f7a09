"""The notification service's own database: contacts, what it knows of compliance and the index, the
emails it holds back, and the sent log. Every hot write is one insert or one update by `_id` (FerretDB: see
inovda_shared.mongo); what must be scanned is scanned rarely (a replica's death, an email to the office, the
schedule's passes).

- The sent log (`emails`) is keyed by each email's dedupe key. An email's first attempt inserts its record,
  `committing`, right before the final "." (`CommitMarks.commit_new`): a unique insert, so of two attempts
  at one email (a redelivered event, two replicas) one only can send it. Its later changes (its states:
  `domain.email_state`) are made under its lock (`inovda_shared.locks`), as are changes to one contact.
- The emails to try again have a key in `emails_due` (with their next attempt's time), written with the
  record and deleted once the email is sent or failed: the delivery loop reads that small set instead of the
  whole sent log.
- `held`: what waits: a score email for its window (one per revision scored), an index version for the
  office's email; each names the replica that holds it (`owner`). Kept a week past (the weekly digest reads
  the week's new innovations and the index trend there), then dropped.
- `index_emails`: per region-year, what the office was last emailed; `replicas`: each replica's heartbeat.
- `tickets`: the sending limits' blocks of tickets (`domain.quotas`), inserted under unique ids.
- `compliance`: insert-only, one document per unit and version; the latest version of a unit counts.
- Contacts are cached for a short while (`contact_cache_seconds`): a unit's or region's addresses change
  rarely, and every email needs them.
"""

import contextlib
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from cachetools import TTLCache
from pymongo import ASCENDING, MongoClient, monitoring

from inovda_shared.locks import DocumentLocks
from inovda_shared.mongo import AsyncDatabase, Document, DuplicateKeyError, packed, unpacked
from inovda_shared.outbox import Outbox

from ..domain import (
    EmailChange,
    EmailMessage,
    EmailStatus,
    IndexMoves,
    RegionContact,
    StoredEmail,
    UnitContact,
)

CACHED_CONTACTS = 20_000
NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)  # the due time of an email that is not due


class NotificationStore:
    def __init__(self, database: AsyncDatabase[Document], contact_cache_seconds: float = 0.0) -> None:
        self.units = database["units"]
        self.regions = database["regions"]
        self.compliance = database["compliance"]
        self.reminder_stages = database["reminder_stages"]
        self.emails = database["emails"]
        self.emails_due = database["emails_due"]
        self.tickets = database["tickets"]
        self.held = database["held"]
        self.index_emails = database["index_emails"]
        self.replicas = database["replicas"]
        self.outbox = Outbox(database["outbox"])
        self.locks = DocumentLocks(database["locks"])
        self._contacts: TTLCache[str, Document] | None = (
            TTLCache(CACHED_CONTACTS, contact_cache_seconds) if contact_cache_seconds > 0 else None
        )

    async def ensure_indexes(self) -> None:
        await self.units.create_index("region_code")
        await self.compliance.create_index([("region_code", ASCENDING), ("year", ASCENDING)])
        await self.outbox.ensure_indexes()
        await self.locks.forget_old_claims()

    # --- contacts and facts ------------------------------------------------------------------------

    async def save_versioned(self, collection: str, key: str, version: int, document: Document) -> bool:
        """Store `document` as `key` unless a newer version is stored."""
        target = getattr(self, collection)
        async with self.locks.hold(f"{collection}:{key}"):
            stored = await target.find_one({"_id": key}, {"version": 1})
            if stored is not None and stored.get("version", 0) >= version:
                self._forget_contact(collection, key)  # a newer one is stored: read it when next asked
                return False
            replacement = {**document, "version": version}
            await target.replace_one({"_id": key}, replacement, upsert=True)
        self._cache_contact(collection, key, {"_id": key, **replacement})
        return True

    async def unit(self, region_code: str, unit_code: str) -> UnitContact | None:
        document = await self._contact(self.units, f"{region_code}/{unit_code}")
        return _unit(document) if document else None

    async def units_of(self, region_code: str) -> list[UnitContact]:
        return [_unit(document) async for document in self.units.find({"region_code": region_code}).sort("_id", 1)]

    async def region(self, region_code: str, year: int) -> RegionContact | None:
        document = await self._contact(self.regions, f"{region_code}/{year}")
        if document is None:
            return None
        return RegionContact(document["region_code"], document["year"], tuple(document["admin_emails"]))

    async def _contact(self, collection: Any, key: str) -> Document | None:
        cache_key = f"{collection.name}:{key}"
        if self._contacts is not None and (cached := self._contacts.get(cache_key)) is not None:
            return cached
        document: Document | None = await collection.find_one({"_id": key})
        if document is not None:  # one not known yet is asked again: its registration is on its way
            self._cache_contact(collection.name, key, document)
        return document

    def _cache_contact(self, collection: str, key: str, document: Document) -> None:
        if self._contacts is not None and collection in ("units", "regions"):
            self._contacts[f"{collection}:{key}"] = document

    def _forget_contact(self, collection: str, key: str) -> None:
        if self._contacts is not None:
            self._contacts.pop(f"{collection}:{key}", None)

    async def all_regions(self) -> list[RegionContact]:
        return [
            RegionContact(document["region_code"], document["year"], tuple(document["admin_emails"]))
            async for document in self.regions.find({})
        ]

    async def record_compliance(self, document: Document) -> None:
        """One unit's counts as of their version: an insert of its own, whatever arrives before or after it."""
        key = f"{document['region_code']}/{document['year']}/{document['unit_code']}:v{document['version']}"
        with contextlib.suppress(DuplicateKeyError):  # a redelivered announcement
            await self.compliance.insert_one({"_id": key, **document})

    async def compliant_units(self, region_code: str, year: int) -> set[str]:
        """The units whose latest counts for the year have an innovation."""
        latest = _latest_per_unit(await self.compliance.find({"region_code": region_code, "year": year}).to_list(None))
        return {unit for unit, document in latest.items() if document.get("innovations", 0) > 0}

    async def prune_compliance(self) -> int:
        """Drop the counts a later version of the same unit replaced; returns how many."""
        documents = await self.compliance.find({}, {"region_code": 1, "year": 1, "unit_code": 1, "version": 1}).to_list(
            None
        )
        kept = {document["_id"] for document in _latest_per_unit(documents, by_region=True).values()}
        replaced = [document["_id"] for document in documents if document["_id"] not in kept]
        if replaced:
            await self.compliance.delete_many({"_id": {"$in": replaced}})
        return len(replaced)

    # --- what waits: held score emails, index versions for the office ------------------------------------

    async def hold(self, document: Document) -> bool:
        """Keep `document` (its `_id` once); False when it is held already (a redelivered event)."""
        try:
            await self.held.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def held_document(self, key: str) -> Document | None:
        return await self.held.find_one({"_id": key})

    async def is_held(self, key: str) -> bool:
        return await self.held.find_one({"_id": key}, {"_id": 1}) is not None

    async def held_by(self, owner: str, due_from: dt.datetime) -> list[Document]:
        """What a replica held that may not be settled: due at `due_from` or later (a replica's death only)."""
        return await self.held.find({"owner": owner, "due_at": {"$gte": due_from}}).to_list(None)

    async def index_moves(self, region_code: str, year: int, since: dt.datetime | None) -> IndexMoves:
        """Innovations scored for the first time, and revisions scored, since `since` (an email to the office)."""
        query: Document = {"email_kind": "score", "region_code": region_code, "year": year}
        if since is not None:
            query["created_at"] = {"$gt": since}
        revisions = [document["revision"] async for document in self.held.find(query, {"revision": 1})]
        first = sum(1 for revision in revisions if revision == 1)
        return IndexMoves(new_innovations=first, revisions=len(revisions) - first)

    async def index_trend(self, region_code: str, year: int, since: dt.datetime) -> list[tuple[dt.date, float]]:
        query = {"kind": "index", "region_code": region_code, "year": year, "created_at": {"$gte": since}}
        latest_per_day: dict[dt.date, tuple[int, float]] = {}
        async for document in self.held.find(query, {"created_at": 1, "version": 1, "iid": 1}):
            day = document["created_at"].date()
            if day not in latest_per_day or document["version"] > latest_per_day[day][0]:
                latest_per_day[day] = (document["version"], document["iid"])
        return [(day, iid) for day, (_, iid) in sorted(latest_per_day.items())]

    async def new_innovation_titles(self, region_code: str, year: int, since: dt.datetime) -> list[str]:
        """Innovations scored for the first time since `since` (their first revision's score email)."""
        query = {
            "email_kind": "score",
            "revision": 1,
            "region_code": region_code,
            "year": year,
            "created_at": {"$gte": since},
        }
        cursor = self.held.find(query, {"title": 1, "created_at": 1}).sort("created_at", 1)
        return [document["title"] async for document in cursor]

    async def prune_held(self, before: dt.datetime) -> None:
        await self.held.delete_many({"created_at": {"$lt": before}})

    async def index_email_state(self, region_code: str, year: int) -> Document | None:
        return await self.index_emails.find_one({"_id": f"{region_code}/{year}"})

    async def save_index_email_state(self, region_code: str, year: int, state: Document) -> None:
        """Under the region-year's index lock: only the one holding it writes this document."""
        await self.index_emails.replace_one({"_id": f"{region_code}/{year}"}, state, upsert=True)

    # --- replicas ---------------------------------------------------------------------------------

    async def beat(self, owner: str, heartbeat: Document) -> None:
        """A replica's own heartbeat: only it writes it (its survivors delete it)."""
        await self.replicas.replace_one({"_id": owner}, heartbeat, upsert=True)

    async def heartbeats(self) -> list[Document]:
        return await self.replicas.find({}).to_list(None)

    async def forget_replica(self, owner: str) -> None:
        await self.replicas.delete_one({"_id": owner})

    async def last_reminder_stage(self, region_code: str, year: int, unit_code: str) -> str | None:
        document = await self.reminder_stages.find_one({"_id": f"{region_code}/{year}/{unit_code}"})
        return document["stage"] if document else None

    async def set_reminder_stage(self, region_code: str, year: int, unit_code: str, stage: str) -> None:
        await self.reminder_stages.replace_one(
            {"_id": f"{region_code}/{year}/{unit_code}"}, {"stage": stage}, upsert=True
        )

    # --- the sent log ------------------------------------------------------------------------------

    async def record_email(
        self, message: EmailMessage, correlation_id: str, now: dt.datetime, change: EmailChange | None = None
    ) -> bool:
        """Record an email to send (as `change` leaves it: a first attempt that failed before its commit mark);
        False when this dedupe key was recorded before (never send it twice)."""
        record = email_document(message, correlation_id, now) | _fields(change or EmailChange())
        if record["status"] == EmailStatus.PENDING.value:
            # Due first: a crash between the two writes leaves a due key without its email (skipped), never an
            # email nobody sends. A due key left for an email recorded or sent before is dropped when found.
            with contextlib.suppress(DuplicateKeyError):
                await self.emails_due.insert_one(
                    {"_id": message.dedupe_key, "next_attempt_at": record["next_attempt_at"]}
                )
        try:
            await self.emails.insert_one(record)
        except DuplicateKeyError:
            return False
        return True

    async def undo_first_mark(self, message: EmailMessage, correlation_id: str, now: dt.datetime, mark: str) -> None:
        """A first attempt whose commit mark failed: nothing was sent (the final "." never went), but the mark may
        have been stored all the same (its answer lost). Make the email pending and due now, for the delivery
        loop: the mark, if this attempt's (`mark`) and still committing, is made pending; no record, one is
        inserted pending. Another attempt's record is left to it. Due key first, as in `record_email`."""
        key = message.dedupe_key
        await self.look_again(key, now)
        stored = await self.emails.find_one({"_id": key}, {"mark": 1, "status": 1})
        if stored is None:
            await self.record_email(message, correlation_id, now)
        elif stored.get("mark") == mark and stored["status"] == EmailStatus.COMMITTING.value:
            # By `_id` alone, then (FerretDB: see inovda_shared.mongo); no other attempt changes a first
            # attempt's mark while it is in flight (`domain.email_state.in_flight`). Its due key is written.
            pending = EmailChange(status=EmailStatus.PENDING, attempts=0, next_attempt_at=now)
            await self.update_email(key, pending, due_in_step=False)

    async def look_again(self, key: str, at: dt.datetime) -> None:
        """Have the delivery loop look at an email at `at`: one another attempt may have left half-done."""
        await self.emails_due.update_one({"_id": key}, {"$set": {"next_attempt_at": at}}, upsert=True)

    async def email(self, key: str) -> StoredEmail | None:
        document = await self.emails.find_one({"_id": key})
        return _stored_email(document) if document else None

    async def due_emails(self, now: dt.datetime, limit: int = 50) -> list[str]:
        cursor = self.emails_due.find({"next_attempt_at": {"$lte": now}}, {"_id": 1}).limit(limit)
        return [document["_id"] async for document in cursor]

    async def update_email(self, key: str, change: EmailChange, due_in_step: bool = True) -> None:
        """Set the fields `change` names (under the email's lock, or by the first attempt that committed it),
        keeping its due key in step (`due_in_step=False`: a first attempt's success, which wrote none; one left
        by another attempt is dropped by the delivery loop when it finds the email sent)."""
        await self.emails.update_one({"_id": key}, {"$set": _fields(change)})
        if not due_in_step:
            return
        if change.status is not None and change.status.settled:
            await self.forget_due(key)
        elif change.next_attempt_at is not None:
            await self.emails_due.update_one(
                {"_id": key}, {"$set": {"next_attempt_at": change.next_attempt_at}}, upsert=True
            )

    async def due_since(self, key: str) -> dt.datetime:
        """When the email under `key` became due (the far future if it is not)."""
        document = await self.emails_due.find_one({"_id": key})
        return document["next_attempt_at"] if document else NEVER

    async def forget_due(self, key: str) -> None:
        await self.emails_due.delete_one({"_id": key})

    # --- the tickets of the sending limits (domain.quotas) -----------------------------------------

    async def take_block(self, block_id: str, until: dt.datetime) -> bool:
        """Take a block of tickets (an insert under a unique `_id`: one replica gets it); False: another has it."""
        try:
            await self.tickets.insert_one({"_id": block_id, "until": until})
        except DuplicateKeyError:
            return False
        return True

    async def forget_tickets(self, ended_before: dt.datetime) -> None:
        """Blocks of windows long over (a small collection: a filter other than `_id` reads it all)."""
        await self.tickets.delete_many({"until": {"$lt": ended_before}})


def email_document(message: EmailMessage, correlation_id: str, now: dt.datetime) -> Document:
    """An email's record as first written: pending, no attempt yet."""
    return {
        "_id": message.dedupe_key,
        "kind": message.kind,
        "to": message.to,
        "cc": message.cc,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "status": EmailStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "correlation_id": correlation_id,
        "about": list(message.about) if message.about else None,
        "source": message.source,
    }


def committing_document(message: EmailMessage, correlation_id: str, now: dt.datetime, by: str) -> Document:
    """The record a first attempt inserts as its commit mark; `mark` tells this attempt's from another's."""
    return email_document(message, correlation_id, now) | {
        "status": EmailStatus.COMMITTING.value,
        "attempts": 1,
        "committing_at": now,
        "committed_by": by,
        "first_attempt": True,
        "mark": uuid.uuid4().hex,
    }


def _fields(change: EmailChange) -> Document:
    return {name: _stored(value) for name, value in vars(change).items() if value is not None}


def _stored(value: object) -> object:
    return value.value if isinstance(value, EmailStatus) else value


def message_document(message: EmailMessage) -> bytes:
    return packed(
        {
            "kind": message.kind,
            "dedupe_key": message.dedupe_key,
            "to": message.to,
            "cc": message.cc,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "about": list(message.about) if message.about else None,
            "source": message.source,
        }
    )


def message_of(value: bytes) -> EmailMessage:
    fields = unpacked(value)
    about = fields.pop("about")
    return EmailMessage(**fields, about=tuple(about) if about else None)


def _latest_per_unit(documents: Sequence[Document], by_region: bool = False) -> dict[Any, Document]:
    latest: dict[Any, Document] = {}
    for document in documents:
        unit = (
            (document["region_code"], document["year"], document["unit_code"]) if by_region else document["unit_code"]
        )
        if unit not in latest or document.get("version", 0) > latest[unit].get("version", 0):
            latest[unit] = document
    return latest


def _stored_email(document: Document) -> StoredEmail:
    message = EmailMessage(
        kind=document["kind"],
        dedupe_key=document["_id"],
        to=list(document["to"]),
        cc=list(document["cc"]),
        subject=document["subject"],
        text=document["text"],
        html=document["html"],
        about=tuple(document["about"]) if document.get("about") else None,
        source=document.get("source"),
    )
    return StoredEmail(
        message=message,
        status=EmailStatus(document["status"]),
        attempts=document["attempts"],
        next_attempt_at=document["next_attempt_at"],
        correlation_id=document.get("correlation_id") or message.dedupe_key,
        created_at=document.get("created_at"),
        confirmed=document.get("confirmed"),
        sent_at=document.get("sent_at"),
        last_error=document.get("last_error"),
        committing_at=document.get("committing_at"),
        committed_by=document.get("committed_by"),
        first_attempt=document.get("first_attempt", False),
    )


def _unit(document: Document) -> UnitContact:
    return UnitContact(
        region_code=document["region_code"],
        unit_code=document["unit_code"],
        name=document["name"],
        kind=document["kind"],
        emails=tuple(document["emails"]),
        mentor_emails=tuple(document.get("mentor_emails") or ()),
        active=document.get("active", True),
    )


class CommitMarks:
    """Marks an email committing with a blocking write, from the SMTP sender's thread, so that nothing but
    this write's reply stands between the record and the final "." (see adapters.smtp)."""

    def __init__(
        self, url: str, database: str, instance: str, listeners: Sequence[monitoring.CommandListener] = ()
    ) -> None:
        self.instance = instance  # which replica sent it, for whoever reads the sent log
        # No timeout on the write itself: a write given up on by the client may still be applied later, after
        # the mark was undone, and leave an email marked committing that nobody sent. Finding no server, or
        # no connection, fails within seconds, before anything is written.
        self._client: MongoClient[Document] = MongoClient(
            url, serverSelectionTimeoutMS=5_000, connectTimeoutMS=5_000, tz_aware=True, event_listeners=listeners
        )
        self._emails = self._client[database]["emails"]

    def mark(self, key: str, attempts: int, at: dt.datetime) -> None:
        """A later attempt's mark, under the email's lock."""
        changes = {
            "status": EmailStatus.COMMITTING.value,
            "attempts": attempts,
            "committing_at": at,
            "committed_by": self.instance,
            "first_attempt": False,
        }
        self._emails.update_one({"_id": key}, {"$set": changes})

    def commit_new(self, record: Document) -> None:
        """A first attempt's mark: the email's record itself. Raises DuplicateKeyError when another attempt (or
        this email's earlier record) has it: that attempt, not this one, may send it."""
        self._emails.insert_one(record)

    def close(self) -> None:
        self._client.close()
