"""The document locks against a real MongoDB-protocol server: one holder at a time, also when contenders
(each its own client, like replicas) race to take over the lock of a holder that died."""

import asyncio
import datetime as dt
import uuid

import pytest

from inovda_shared.locks import DocumentLocks
from inovda_shared.mongo import connect

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
        await collection.insert_one({"_id": "takeover:email:k:dead:1", "at": long_ago})
        locks = DocumentLocks(collection)
        async with locks.hold("email:k", wait=dt.timedelta(seconds=5)):
            held = await collection.find_one({"_id": "email:k"})
            assert held is not None
            assert held["token"] != "dead"
    finally:
        await client.close()
