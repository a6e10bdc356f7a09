"""Fixtures shared by the integration and end-to-end tests, and the Hypothesis settings of every test."""

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest
from hypothesis import HealthCheck, settings
from pymongo import AsyncMongoClient

from inovda_shared.mongo import connect
from inovda_shared.topology import SERVICE_QUEUES
from tests.support import infra

# Property tests generate pydantic models, which is slow on a loaded machine: no deadline and no "too slow"
# health check (a timing failure says nothing about the property). On CI Hypothesis's own `ci` profile
# already does this, derandomized.
settings.register_profile("inovda", deadline=None, suppress_health_check=[HealthCheck.too_slow])
if not os.environ.get("CI"):
    settings.load_profile("inovda")


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    with infra.rabbitmq_url() as url:
        yield url


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    with infra.mongodb_url() as url:
        yield url


async def delete_service_queues(amqp_url: str) -> None:
    """The service queues gone, with whatever earlier tests left in them (re-declared by whoever starts first)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for spec in SERVICE_QUEUES:
            await channel.queue_delete(spec.name)
            await channel.queue_delete(spec.dead_letter_name)


@pytest.fixture
async def clean_broker(amqp_url: str) -> str:
    """Every test starts with the service queues gone."""
    await delete_service_queues(amqp_url)
    return amqp_url


@pytest.fixture
def database_name() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def mongo(mongodb_url: str) -> AsyncIterator[AsyncMongoClient[dict[str, object]]]:
    client = connect(mongodb_url)
    yield client
    await client.close()


@pytest.fixture
async def drop_database(mongo: AsyncMongoClient[dict[str, object]], database_name: str) -> AsyncIterator[str]:
    yield database_name
    await mongo.drop_database(database_name)
