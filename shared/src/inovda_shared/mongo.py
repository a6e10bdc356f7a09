"""MongoDB connection through PyMongo's AsyncMongoClient (the official successor of motor), and what the storage
of every service is designed around: the one place that explains it (elsewhere: "FerretDB: see inovda_shared.mongo").

Here the MongoDB-protocol server is FerretDB 1.24 on SQLite, which differs from MongoDB in four ways that shape
every collection (measured by `scripts/ferretdb_atomicity_probe.py`; the README's "How it stays right and cheap"):

1. **No transactions, no atomic update.** An update reads the document, changes it and writes it back, and a
   concurrent update in between is lost (100 concurrent `$inc` of one field leave it near 10; conditional updates
   on a version field all "succeed"; a delete by `{"_id": k, "token": t}` finds by the whole filter, then deletes
   by `_id` alone). **Only an insert under a unique index is atomic.** So: versions and records are insert-only
   under unique keys; a document several writers change is changed under a lock (`locks`); a change spanning
   documents is written as a journal first and finished idempotently.
2. **Only `{"_id": ...}` is cheap.** A find, update or delete by exactly `{"_id": ...}` uses the index (with the
   project's patch, `deploy/ferretdb/patches/`); any other filter, `$in` included, reads the whole collection.
   So hot paths read and write by `_id` only, and what must be scanned is kept in small sets (pending keys).
3. **Every write costs a round trip of its own** (SQLite writes one at a time): concurrent single inserts and
   deletes are grouped into one command (`batching`).
4. **Documents cost in proportion to their size and nesting** (converted to and from JSON inside SQLite): bulky
   fields nobody filters on are stored compressed.

On MongoDB the same code is correct too; the locks and journals only cost a few small writes.
"""

import zlib
from typing import Any

import pydantic_core
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure

Document = dict[str, Any]

__all__ = ["AsyncDatabase", "Document", "DuplicateKeyError", "connect", "packed", "unpacked"]


def connect(url: str) -> AsyncMongoClient[Document]:
    from .observability import COMMAND_COUNTER  # imported here: observability imports this module

    # Fail an operation within seconds when the server is gone, so the handler's retry loop decides
    # what to do instead of every call hanging for pymongo's 30 s default.
    return AsyncMongoClient(
        url, serverSelectionTimeoutMS=5_000, connectTimeoutMS=5_000, tz_aware=True, event_listeners=[COMMAND_COUNTER]
    )


def packed(value: Any) -> bytes:
    """A bulky field nobody filters on, as it is stored: compressed JSON (point 4 above). pydantic-core's JSON
    (Rust): the same compact JSON as `json.dumps`, in a fraction of the time (scoring packs and unpacks a
    region's candidates on every event)."""
    return zlib.compress(pydantic_core.to_json(value), 1)


def unpacked(value: bytes | None, default: Any = None) -> Any:
    return default if value is None else pydantic_core.from_json(zlib.decompress(value))


def is_transient(exc: BaseException) -> bool:
    """A failure that a retry can cure: the server unreachable, or FerretDB's SQLite busy with another write."""
    if isinstance(exc, ConnectionFailure):
        return True
    return isinstance(exc, OperationFailure) and "SQLITE_BUSY" in str(exc)
