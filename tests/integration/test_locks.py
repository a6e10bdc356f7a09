"""The document locks against a real MongoDB-protocol server: one holder at a time, also when contenders
(each its own client, like replicas) race to take over the lock of a holder that died."""

import asyncio
import datetime as dt
import time
import uuid
from typing import Any, cast

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import AutoReconnect
from pymongo.monitoring import CommandListener, CommandStartedEvent
from pymongo.results import InsertManyResult

from inovda_shared.locks import DocumentLocks, LockTimeoutError
from inovda_shared.mongo import Document, connect

pytestmark = pytest.mark.integration


async def test_contenders_taking_over_a_dead_holders_lock_hold_it_one_at_a_time(
    mongodb_url: str, drop_database: str
) -> None:
    clients = [connect(mongodb_url) for _ in range(6)]
    try:
        collection = clients[0][drop_database]["locks"]
        for round_number in range(10):
            key = f"email:{uuid.uuid4().hex}"
            expired = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            await collection.insert_one({"_id": key, "token": f"dead-{round_number}", "expires_at": expired})
            holding, most = 0, 0

            async def contend(client_number: int, key: str) -> None:
                nonlocal holding, most
                locks = DocumentLocks(clients[client_number][drop_database]["locks"])
                async with locks.hold(key, wait=dt.timedelta(seconds=30)):
                    holding += 1
                    most = max(most, holding)
                    await asyncio.sleep(0.05)
                    holding -= 1

            await asyncio.gather(*(contend(number, key) for number in range(len(clients))))
            assert most == 1, f"round {round_number}: {most} contenders held the lock at once"
    finally:
        for client in clients:
            await client.close()


async def test_a_takeover_whose_claimant_died_is_claimed_again_after_the_ttl(
    mongodb_url: str, drop_database: str
) -> None:
    client = connect(mongodb_url)
    try:
        collection = client[drop_database]["locks"]
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        await collection.insert_one({"_id": "email:k", "token": "dead", "expires_at": long_ago})
        # A contender claimed the dead lock, then died before removing it.
        await client[drop_database]["locks_claims"].insert_one({"_id": "takeover:email:k:dead:1", "at": long_ago})
        locks = DocumentLocks(collection)
        async with locks.hold("email:k", wait=dt.timedelta(seconds=5)):
            held = await collection.find_one({"_id": "email:k"})
            assert held is not None
            assert held["token"] != "dead"
    finally:
        await client.close()


class InsertAnswerLostOnce:
    """A lock collection whose first insert is stored and its answer lost (the connection dropped before it)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection
        self.lost = 1

    async def insert_many(self, documents: list[Document], ordered: bool = True) -> InsertManyResult:
        inserted = await self._collection.insert_many(documents, ordered=ordered)
        if self.lost:
            self.lost -= 1
            raise AutoReconnect("connection closed before the answer came")
        return inserted

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)


async def test_a_lock_stored_though_its_answer_was_lost_is_taken_at_once_when_its_handler_tries_again(
    mongodb_url: str, drop_database: str
) -> None:
    """Not after the 30 s time-to-live: nobody else holds it. Another replica's lock is still waited for."""
    client = connect(mongodb_url)
    try:
        collection = client[drop_database]["locks"]
        locks = DocumentLocks(cast(AsyncCollection[Document], InsertAnswerLostOnce(collection)))
        with pytest.raises(AutoReconnect):
            async with locks.hold("email:k"):
                pytest.fail("held though its insert failed")
        started = time.monotonic()
        async with locks.hold("email:k", wait=dt.timedelta(seconds=5)):
            assert time.monotonic() - started < 1
        assert await collection.find_one({"_id": "email:k"}) is None, "released"

        async with DocumentLocks(collection).hold("email:k"):
            with pytest.raises(LockTimeoutError):
                async with locks.hold("email:k", wait=dt.timedelta(seconds=0.5)):
                    pytest.fail("held while another replica holds it")
    finally:
        await client.close()


class LockCommands(CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name in ("insert", "delete", "find"):
            self.names.append(event.command_name)

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


async def test_holders_of_different_keys_take_and_release_their_locks_together(
    mongodb_url: str, drop_database: str
) -> None:
    """Their inserts go out as one command and their deletes as another; each releases only its own lock."""
    commands = LockCommands()
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongodb_url, event_listeners=[commands], tz_aware=True)
    try:
        collection = client[drop_database]["locks"]
        other = {"_id": "region:other", "token": "another-replica", "expires_at": dt.datetime.now(dt.UTC)}
        await collection.insert_one(other)
        locks = DocumentLocks(collection)
        commands.names.clear()
        held: list[str] = []

        async def hold(key: str) -> None:
            async with locks.hold(key):
                held.append(key)
                await asyncio.sleep(0.05)

        keys = [f"region:{number}" for number in range(8)]
        await asyncio.gather(*(hold(key) for key in keys))
        assert sorted(held) == sorted(keys)
        assert commands.names == ["insert", "delete"]
        left = await collection.find().to_list(None)
        assert [(lock["_id"], lock["token"]) for lock in left] == [("region:other", "another-replica")]
    finally:
        await client.close()


async def test_a_takeover_leaves_its_claim_apart_from_the_locks(mongodb_url: str, drop_database: str) -> None:
    """The lock collection keeps only locks: its deletes read all of it (FerretDB: see inovda_shared.mongo)."""
    client = connect(mongodb_url)
    try:
        collection = client[drop_database]["locks"]
        expired = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        await collection.insert_one({"_id": "email:k", "token": "dead", "expires_at": expired})
        async with DocumentLocks(collection).hold("email:k", wait=dt.timedelta(seconds=5)):
            pass
        assert await collection.count_documents({}) == 0
        claims = await client[drop_database]["locks_claims"].find().to_list(None)
        assert [claim["_id"] for claim in claims] == ["takeover:email:k:dead:1"]
    finally:
        await client.close()


async def test_claims_an_earlier_version_left_among_the_locks_are_removed_once_old(
    mongodb_url: str, drop_database: str
) -> None:
    client = connect(mongodb_url)
    try:
        collection = client[drop_database]["locks"]
        now = dt.datetime.now(dt.UTC)
        await collection.insert_many(
            [
                {"_id": "takeover:email:a:dead:1", "at": now - dt.timedelta(minutes=5)},
                {"_id": "takeover:email:b:dead:1", "at": now},  # a claimant may still count on it
                {"_id": "email:c", "token": "live", "expires_at": now + dt.timedelta(seconds=30)},
            ]
        )
        await DocumentLocks(collection).forget_old_claims()
        left = sorted(lock["_id"] for lock in await collection.find().to_list(None))
        assert left == ["email:c", "takeover:email:b:dead:1"]
    finally:
        await client.close()
