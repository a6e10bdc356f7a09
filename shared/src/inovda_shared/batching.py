"""Group commit: single-document inserts and deletes from concurrent handlers, sent as one command.

A handler awaits `insert_one` or `delete_one` as usual and gets that document's own outcome (a
`DuplicateKeyError` for a taken `_id` or unique key). Meanwhile the writes of every handler that reached
the same point in the same moment go out together: 32 documents in one `insert_many` cost FerretDB about
what two single inserts do (it writes one at a time: see inovda_shared.mongo). Alone, a write waits for
nothing but the next turn of the event loop.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import DeleteOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, WriteError

from .mongo import Document, DuplicateKeyError

DUPLICATE_KEY = 11000


@dataclass
class _Batch:
    documents: list[Any] = field(default_factory=list)
    outcomes: list[asyncio.Future[None]] = field(default_factory=list)


class _Gatherer:
    """Collects items until the event loop has run every handler that was ready, then flushes them."""

    def __init__(self, max_batch: int) -> None:
        self._max_batch = max_batch
        self._batch: _Batch | None = None

    async def _submit(self, item: Any) -> None:
        batch = self._batch
        if batch is None:
            batch = self._batch = _Batch()
            asyncio.get_running_loop().call_soon(self._start, batch)
        outcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        batch.documents.append(item)
        batch.outcomes.append(outcome)
        if len(batch.documents) >= self._max_batch:
            self._start(batch)
        await outcome

    def _start(self, batch: _Batch) -> None:
        if self._batch is batch:
            self._batch = None
            asyncio.get_running_loop().create_task(self._flush(batch))

    async def _flush(self, batch: _Batch) -> None:
        try:
            errors = await self._write(batch.documents)
        except Exception as exc:  # the command as a whole failed: every caller gets the error
            errors = dict.fromkeys(range(len(batch.documents)), exc)
        for index, outcome in enumerate(batch.outcomes):
            if outcome.done():  # its caller was cancelled
                continue
            if index in errors:
                outcome.set_exception(errors[index])
            else:
                outcome.set_result(None)

    async def _write(self, items: Sequence[Any]) -> dict[int, Exception]:
        raise NotImplementedError


class _OnCollection(_Gatherer):
    def __init__(self, collection: AsyncCollection[Document], max_batch: int = 64) -> None:
        super().__init__(max_batch)
        self._collection = collection


class BatchedInserts(_OnCollection):
    async def insert_one(self, document: Document) -> None:
        await self._submit(document)

    async def _write(self, items: Sequence[Any]) -> dict[int, Exception]:
        try:
            await self._collection.insert_many(list(items), ordered=False)
        except BulkWriteError as exc:
            errors: dict[int, Exception] = {}
            for error in exc.details.get("writeErrors", []):
                kind = DuplicateKeyError if error.get("code") == DUPLICATE_KEY else WriteError
                errors[error["index"]] = kind(error.get("errmsg", "write error"), error.get("code"), error)
            return errors
        return {}


class BatchedDeletes(_OnCollection):
    """Deletes by `_id`; meant for small collections (`$in` reads the whole collection: see inovda_shared.mongo)."""

    async def delete_one(self, document_id: Any) -> None:
        await self._submit(document_id)

    async def _write(self, items: Sequence[Any]) -> dict[int, Exception]:
        if len(items) == 1:
            await self._collection.delete_one({"_id": items[0]})
        else:
            await self._collection.delete_many({"_id": {"$in": list(items)}})
        return {}


class BatchedFilteredDeletes(_OnCollection):
    """Deletes of one document each by a filter on `_id` and more (a lock's token): one `delete` command with a
    statement for each."""

    async def delete_one(self, query: Document) -> None:
        await self._submit(query)

    async def _write(self, items: Sequence[Any]) -> dict[int, Exception]:
        if len(items) == 1:
            await self._collection.delete_one(items[0])
        else:
            await self._collection.bulk_write([DeleteOne(query) for query in items], ordered=False)
        return {}
