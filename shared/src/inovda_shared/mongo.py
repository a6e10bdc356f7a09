"""MongoDB connection through PyMongo's AsyncMongoClient (the official successor of motor)."""

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure

Document = dict[str, Any]

__all__ = ["AsyncDatabase", "Document", "DuplicateKeyError", "connect"]


def connect(url: str) -> AsyncMongoClient[Document]:
    # Fail an operation within seconds when the server is gone, so the handler's retry loop decides
    # what to do instead of every call hanging for pymongo's 30 s default.
    return AsyncMongoClient(url, serverSelectionTimeoutMS=5_000, connectTimeoutMS=5_000, tz_aware=True)


def is_transient(exc: BaseException) -> bool:
    """A failure that a retry can cure: the server unreachable, or FerretDB's SQLite busy with another write."""
    if isinstance(exc, ConnectionFailure):
        return True
    return isinstance(exc, OperationFailure) and "SQLITE_BUSY" in str(exc)
