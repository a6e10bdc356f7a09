"""Shows what FerretDB 1.x (SQLite) makes atomic and what it makes cheap, the facts Inovda's storage is
designed around: concurrent updates of one document lose writes (so writes to one document happen under
a lock that is an insert under a unique `_id`), and an update by `_id` costs more the larger its collection
(reads and inserts by `_id` do not).

Runs against MONGODB_URL (default the local FerretDB) in a scratch database:

    .venv/bin/python scripts/ferretdb_atomicity_probe.py
"""

import asyncio
import os
import time
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

CONCURRENT = 100


async def main() -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    )
    collection = client["atomicity_probe"]["probe"]
    await collection.drop()

    await collection.insert_one({"_id": "counter", "n": 0})
    await asyncio.gather(*(collection.update_one({"_id": "counter"}, {"$inc": {"n": 1}}) for _ in range(CONCURRENT)))
    counter = await collection.find_one({"_id": "counter"})
    print(f"{CONCURRENT} concurrent $inc of one field: n = {counter['n'] if counter else None}")

    await collection.insert_one({"_id": "versioned", "version": 0})
    wins = 0

    async def compare_and_set() -> None:
        nonlocal wins
        while True:
            current = await collection.find_one({"_id": "versioned"})
            assert current is not None
            result = await collection.update_one(
                {"_id": "versioned", "version": current["version"]}, {"$set": {"version": current["version"] + 1}}
            )
            if result.matched_count:
                wins += 1
                return

    await asyncio.gather(*(compare_and_set() for _ in range(CONCURRENT // 2)))
    versioned = await collection.find_one({"_id": "versioned"})
    version = versioned["version"] if versioned else None
    print(f"{CONCURRENT // 2} compare-and-set loops: {wins} succeeded, version = {version}")

    inserted = 0

    async def insert_lock() -> None:
        nonlocal inserted
        try:
            await collection.insert_one({"_id": "lock"})
            inserted += 1
        except DuplicateKeyError:
            pass

    await asyncio.gather(*(insert_lock() for _ in range(CONCURRENT)))
    print(f"{CONCURRENT} concurrent inserts of one _id: {inserted} succeeded")

    # What an operation by _id costs as the collection grows: reads and inserts stay flat, updates do not.
    for size in (1_000, 10_000):
        await collection.drop()
        await collection.insert_many([{"_id": f"d{n}", "payload": "x" * 800} for n in range(size)])
        timings = {}
        for name, operation in (
            ("find_one", lambda n: collection.find_one({"_id": f"d{n}"})),
            ("update_one", lambda n: collection.update_one({"_id": f"d{n}"}, {"$set": {"seen": n}})),
            ("insert_one", lambda n: collection.insert_one({"_id": f"new{n}"})),
        ):
            started = time.perf_counter()
            for n in range(10):
                await operation(n)
            timings[name] = (time.perf_counter() - started) / 10 * 1000
        print(f"{size} documents, ms per operation by _id: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    await client.drop_database("atomicity_probe")
    await client.close()


if __name__ == "__main__":
    asyncio.run(main())
