"""Group commit against the real database: each caller gets its own document's outcome."""

import asyncio
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandListener, CommandStartedEvent, CommandSucceededEvent

from inovda_shared.batching import BatchedDeletes, BatchedInserts
from inovda_shared.mongo import DuplicateKeyError

pytestmark = pytest.mark.integration


class Commands(CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name in ("insert", "delete"):
            self.names.append(event.command_name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


async def test_concurrent_inserts_go_together_and_each_gets_its_outcome(mongodb_url: str, database_name: str) -> None:
    commands = Commands()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[commands])
    collection = client[database_name]["things"]
    try:
        await collection.insert_one({"_id": "taken"})
        await collection.create_index("code", unique=True)
        commands.names.clear()
        inserts = BatchedInserts(collection)

        async def insert(document: dict[str, Any]) -> str:
            try:
                await inserts.insert_one(document)
            except DuplicateKeyError:
                return "duplicate"
            return "inserted"

        documents = [{"_id": f"new-{number}", "code": number} for number in range(40)]
        documents += [{"_id": "taken", "code": 100}, {"_id": "new-3", "code": 101}, {"_id": "other", "code": 7}]
        outcomes = await asyncio.gather(*(insert(document) for document in documents))

        assert outcomes == ["inserted"] * 40 + ["duplicate"] * 3
        assert commands.names == ["insert"], "one command for all of them"
        stored = {doc["_id"]: doc.get("code") for doc in await collection.find().to_list(None)}
        assert stored == {"taken": None, **{f"new-{number}": number for number in range(40)}}

        # Alone, an insert still goes at once and fails on its own.
        with pytest.raises(DuplicateKeyError):
            await inserts.insert_one({"_id": "new-1"})

        commands.names.clear()
        deletes = BatchedDeletes(collection)
        await asyncio.gather(*(deletes.delete_one(f"new-{number}") for number in range(0, 40, 2)))
        assert commands.names == ["delete"]
        assert await collection.count_documents({}) == 21
    finally:
        await client.drop_database(database_name)
        await client.close()
