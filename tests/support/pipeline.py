"""The three services in-process, on databases of their own, against the real broker, database and an SMTP
sink: for tests that follow intake messages all the way to the emails."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient

from inovda_cli.mailsink import MailSink
from inovda_notification.app import create_app as create_notification_app
from inovda_notification.settings import NotificationSettings
from inovda_scoring.app import create_app as create_scoring_app
from inovda_scoring.settings import ScoringSettings
from inovda_submission.app import create_app as create_submission_app
from inovda_submission.settings import SubmissionSettings

SERVICES = ("submission", "scoring", "notification")


@asynccontextmanager
async def pipeline(
    amqp_url: str,
    mongodb_url: str,
    database_name: str,
    mail: MailSink,
    mongo: AsyncMongoClient[Any],
    relay_interval_seconds: float = 0.2,
    **notification: Any,
) -> AsyncIterator[dict[str, str]]:
    """Yields service -> its database; `notification`: settings of the notification service."""
    databases = {name: f"{database_name}_{name}" for name in SERVICES}
    common: dict[str, Any] = {"amqp_url": amqp_url, "mongodb_url": mongodb_url, "http_port": 0}
    relay: dict[str, Any] = {"outbox_relay_interval_seconds": relay_interval_seconds}
    apps = [
        create_submission_app(
            SubmissionSettings(mongodb_database=databases["submission"], intake_auth="off", **common, **relay)
        ),
        create_scoring_app(ScoringSettings(mongodb_database=databases["scoring"], **common, **relay)),
        create_notification_app(
            NotificationSettings(
                mongodb_database=databases["notification"], smtp_port=mail.port, **common, **{**relay, **notification}
            )
        ),
    ]
    for app in apps:
        await app.start()
    try:
        yield databases
    finally:
        for app in reversed(apps):
            await app.stop()
        for database in databases.values():
            await mongo.drop_database(database)


async def wait_for_mail(mail: MailSink, kinds: set[str], within: float = 30.0) -> None:
    """Until an email of each kind (the dedupe key's first part) has arrived."""
    for _ in range(int(within * 10)):
        if kinds <= {item.dedupe_key.split(":")[0] for item in mail.received}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"emails {kinds} never all arrived: {[item.dedupe_key for item in mail.received]}")
