"""The database does what the services' cost model assumes: a lookup by `_id` uses the `_id` index.

FerretDB 1.24 (SQLite) as published looks documents up with an expression its `_id` index does not match, so
every find, update and delete by `_id` read the whole collection; `deploy/ferretdb/patches` fixes that. Its
`explain` shows SQLite's own query plan. Against a real MongoDB there is nothing to check.
"""

from typing import Any

import pytest
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration


async def plan(mongo: AsyncMongoClient[Any], database: str, command: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = await mongo[database].command("explain", command, verbosity="queryPlanner")
    return result


async def test_lookups_by_id_search_the_id_index(mongo: AsyncMongoClient[Any], drop_database: str) -> None:
    collection = mongo[drop_database]["documents"]
    await collection.insert_many([{"_id": f"key-{number}", "number": number} for number in range(50)])
    by_id = await plan(mongo, drop_database, {"find": "documents", "filter": {"_id": "key-7"}})
    if "ferretdbVersion" not in by_id.get("serverInfo", {}):
        pytest.skip("not FerretDB: MongoDB uses its _id index by itself")

    assert by_id["filterPushdown"] is True
    assert any("USING INDEX" in line and "_id_" in line for line in by_id["queryPlanner"]["Plan"]), by_id

    # (`explain` covers queries only; updates and deletes by _id go through the same patched expression.)
    # Any other filter reads every document: why the services' hot paths name documents by _id alone.
    other = await plan(mongo, drop_database, {"find": "documents", "filter": {"_id": "key-7", "number": 7}})
    assert not any("USING INDEX" in line for line in other["queryPlanner"]["Plan"]), other
    assert await collection.find_one({"_id": "key-7"}) == {"_id": "key-7", "number": 7}
