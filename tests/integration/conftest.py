"""Runs services in-process against the real broker and database."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker
from pymongo import AsyncMongoClient

from inovda_cli.mailsink import MailSink
from inovda_cli.processes import free_port
from inovda_scoring.app import create_app as create_scoring_app
from inovda_scoring.settings import ScoringSettings
from inovda_shared.topology import declare_topology
from inovda_submission.app import create_app
from inovda_submission.settings import SubmissionSettings
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration


@pytest.fixture
def mail() -> Iterator[MailSink]:
    """A real SMTP server (aiosmtpd) on a free port, keeping every email it accepts."""
    with MailSink(port=free_port()) as sink:
        yield sink


@pytest.fixture
def submission_settings(clean_broker: str, mongodb_url: str, drop_database: str) -> SubmissionSettings:
    return SubmissionSettings(
        amqp_url=clean_broker,
        mongodb_url=mongodb_url,
        mongodb_database=drop_database,
        outbox_relay_interval_seconds=0.2,
        http_port=0,
        intake_auth="off",
    )


@pytest.fixture
async def publisher(clean_broker: str) -> AsyncIterator[RabbitBroker]:
    """A connected broker with the topology declared, to publish as the other services would."""
    broker = RabbitBroker(clean_broker, logger=None)
    await broker.connect()
    await declare_topology(broker)
    yield broker
    await broker.stop()


@pytest.fixture
async def events(clean_broker: str) -> AsyncIterator[EventProbe]:
    async with EventProbe(clean_broker) as probe:
        yield probe


@pytest.fixture
async def submission(submission_settings: SubmissionSettings, events: EventProbe) -> AsyncIterator[SubmissionSettings]:
    app = create_app(submission_settings)
    await app.start()
    yield submission_settings
    await app.stop()


@pytest.fixture
def scoring_settings(clean_broker: str, mongodb_url: str, drop_database: str) -> ScoringSettings:
    return ScoringSettings(
        amqp_url=clean_broker,
        mongodb_url=mongodb_url,
        mongodb_database=f"{drop_database}_scoring",
        outbox_relay_interval_seconds=0.2,
        http_port=0,
    )


@pytest.fixture
async def scoring(
    scoring_settings: ScoringSettings, events: EventProbe, mongo: AsyncMongoClient[Any]
) -> AsyncIterator[ScoringSettings]:
    app = create_scoring_app(scoring_settings)
    await app.start()
    yield scoring_settings
    await app.stop()
    await mongo.drop_database(scoring_settings.mongodb_database)
