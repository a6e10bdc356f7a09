"""The notification service's own database: contacts, what it knows of compliance and the index, and
the sent log.

The sent log (`emails`) is keyed by each email's dedupe key: recording an email is an insert under a
unique `_id` (atomic, also on FerretDB: see inovda_shared.mongo), so a redelivered event, a second replica
running the same schedule, or a restart can record an email only once. An email's later changes (its states:
`domain.email_state`) are made under its lock (`inovda_shared.locks`), as are changes to one contact.

The sending limits' tickets (`domain.quotas`) are blocks inserted under unique ids in `tickets`.

The emails still to send have a key in `emails_due` (with their next attempt's time), written before the
email and deleted once it is sent or failed: the delivery loop reads that small set instead of the whole
sent log (any filter but `{"_id": ...}` reads it all; FerretDB: see inovda_shared.mongo).
"""

import contextlib
import datetime as dt

from pymongo import ASCENDING, MongoClient

from inovda_shared.locks import DocumentLocks
from inovda_shared.mongo import AsyncDatabase, Document, DuplicateKeyError
from inovda_shared.outbox import Outbox

from ..domain import EmailChange, EmailMessage, EmailStatus, RegionContact, StoredEmail, UnitContact


class NotificationStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.units = database["units"]
        self.regions = database["regions"]
        self.compliance = database["compliance"]
        self.index_history = database["index_history"]
        self.receipts = database["receipts"]
        self.reminder_stages = database["reminder_stages"]
        self.emails = database["emails"]
        self.emails_due = database["emails_due"]
        self.tickets = database["tickets"]
        self.outbox = Outbox(database["outbox"])
        self.locks = DocumentLocks(database["locks"])

    async def ensure_indexes(self) -> None:
        await self.units.create_index("region_code")
        await self.compliance.create_index([("region_code", ASCENDING), ("year", ASCENDING)])
        await self.index_history.create_index([("region_code", ASCENDING), ("year", ASCENDING), ("at", ASCENDING)])
        await self.receipts.create_index([("region_code", ASCENDING), ("year", ASCENDING), ("at", ASCENDING)])
        await self.outbox.ensure_indexes()

    # --- contacts and facts ------------------------------------------------------------------------

    async def save_versioned(self, collection: str, key: str, version: int, document: Document) -> bool:
        """Store `document` as `key` unless a newer version is stored."""
        target = getattr(self, collection)
        async with self.locks.hold(f"{collection}:{key}"):
            stored = await target.find_one({"_id": key}, {"version": 1})
            if stored is not None and stored.get("version", 0) >= version:
                return False
            await target.replace_one({"_id": key}, {**document, "version": version}, upsert=True)
        return True

    async def unit(self, region_code: str, unit_code: str) -> UnitContact | None:
        document = await self.units.find_one({"_id": f"{region_code}/{unit_code}"})
        return _unit(document) if document else None

    async def units_of(self, region_code: str) -> list[UnitContact]:
        return [_unit(document) async for document in self.units.find({"region_code": region_code}).sort("_id", 1)]

    async def region(self, region_code: str, year: int) -> RegionContact | None:
        document = await self.regions.find_one({"_id": f"{region_code}/{year}"})
        if document is None:
            return None
        return RegionContact(document["region_code"], document["year"], tuple(document["admin_emails"]))

    async def all_regions(self) -> list[RegionContact]:
        return [
            RegionContact(document["region_code"], document["year"], tuple(document["admin_emails"]))
            async for document in self.regions.find({})
        ]

    async def compliant_units(self, region_code: str, year: int) -> set[str]:
        cursor = self.compliance.find({"region_code": region_code, "year": year, "innovations": {"$gt": 0}})
        return {document["unit_code"] async for document in cursor}

    async def record_index(self, region_code: str, year: int, version: int, iid: float, at: dt.datetime) -> None:
        document = {"region_code": region_code, "year": year, "version": version, "iid": iid, "at": at}
        with contextlib.suppress(DuplicateKeyError):  # a redelivered announcement
            await self.index_history.insert_one({"_id": f"{region_code}/{year}/v{version}", **document})

    async def index_trend(self, region_code: str, year: int, since: dt.datetime) -> list[tuple[dt.date, float]]:
        cursor = self.index_history.find({"region_code": region_code, "year": year, "at": {"$gte": since}})
        latest_per_day: dict[dt.date, tuple[int, float]] = {}
        async for document in cursor:
            day = document["at"].date()
            if day not in latest_per_day or document["version"] > latest_per_day[day][0]:
                latest_per_day[day] = (document["version"], document["iid"])
        return [(day, iid) for day, (_, iid) in sorted(latest_per_day.items())]

    async def record_receipt(self, key: str, region_code: str, year: int, title: str, at: dt.datetime) -> None:
        with contextlib.suppress(DuplicateKeyError):  # a redelivered answer
            await self.receipts.insert_one(
                {"_id": key, "region_code": region_code, "year": year, "title": title, "at": at}
            )

    async def new_innovation_titles(self, region_code: str, year: int, since: dt.datetime) -> list[str]:
        cursor = self.receipts.find({"region_code": region_code, "year": year, "at": {"$gte": since}}).sort("at", 1)
        return [document["title"] async for document in cursor]

    async def last_reminder_stage(self, region_code: str, year: int, unit_code: str) -> str | None:
        document = await self.reminder_stages.find_one({"_id": f"{region_code}/{year}/{unit_code}"})
        return document["stage"] if document else None

    async def set_reminder_stage(self, region_code: str, year: int, unit_code: str, stage: str) -> None:
        await self.reminder_stages.replace_one(
            {"_id": f"{region_code}/{year}/{unit_code}"}, {"stage": stage}, upsert=True
        )

    # --- the sent log ------------------------------------------------------------------------------

    async def record_email(self, message: EmailMessage, correlation_id: str, now: dt.datetime) -> bool:
        """Record an email to send; False when this dedupe key was recorded before (never send it twice)."""
        # Due first: a crash between the two writes leaves a due key without its email (skipped), never an
        # email nobody sends. A due key left for an email recorded or sent before is dropped when found.
        with contextlib.suppress(DuplicateKeyError):
            await self.emails_due.insert_one({"_id": message.dedupe_key, "next_attempt_at": now})
        try:
            await self.emails.insert_one(
                {
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
            )
        except DuplicateKeyError:
            return False
        return True

    async def email(self, key: str) -> StoredEmail | None:
        document = await self.emails.find_one({"_id": key})
        return _stored_email(document) if document else None

    async def due_emails(self, now: dt.datetime, limit: int = 50) -> list[str]:
        cursor = self.emails_due.find({"next_attempt_at": {"$lte": now}}, {"_id": 1}).limit(limit)
        return [document["_id"] async for document in cursor]

    async def update_email(self, key: str, change: EmailChange) -> None:
        """Set the fields `change` names (under the email's lock), keeping its due key in step."""
        fields = {name: _stored(value) for name, value in vars(change).items() if value is not None}
        await self.emails.update_one({"_id": key}, {"$set": fields})
        if change.status is not None and change.status.settled:
            await self.forget_due(key)
        elif change.next_attempt_at is not None:
            await self.emails_due.update_one(
                {"_id": key}, {"$set": {"next_attempt_at": change.next_attempt_at}}, upsert=True
            )

    async def due_since(self, key: str) -> dt.datetime:
        """When the email under `key` became due (the far future if it is not)."""
        document = await self.emails_due.find_one({"_id": key})
        return document["next_attempt_at"] if document else dt.datetime.max.replace(tzinfo=dt.UTC)

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


def _stored(value: object) -> object:
    return value.value if isinstance(value, EmailStatus) else value


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

    def __init__(self, url: str, database: str, instance: str) -> None:
        self._instance = instance  # which replica sent it, for whoever reads the sent log
        # No timeout on the write itself: a write given up on by the client may still be applied later, after
        # the mark was undone, and leave an email marked committing that nobody sent. Finding no server, or
        # no connection, fails within seconds, before anything is written.
        self._client: MongoClient[Document] = MongoClient(
            url, serverSelectionTimeoutMS=5_000, connectTimeoutMS=5_000, tz_aware=True
        )
        self._emails = self._client[database]["emails"]

    def mark(self, key: str, attempts: int, at: dt.datetime) -> None:
        changes = {
            "status": EmailStatus.COMMITTING.value,
            "attempts": attempts,
            "committing_at": at,
            "committed_by": self._instance,
        }
        self._emails.update_one({"_id": key}, {"$set": changes})

    def close(self) -> None:
        self._client.close()
