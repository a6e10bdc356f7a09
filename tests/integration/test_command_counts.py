"""The database commands one innovation costs in each service, counted, not timed: the three services run
in-process against the real broker, database and SMTP server, a PyMongo `CommandListener` on their clients
counts what each issues from the moment an outside system publishes one innovation report until every
service is quiet again (its answer, its score, the region's index, the unit's compliance, the receipt and
the score email).

Only the work the innovation causes is counted: the services' periodic passes (outbox relays, notification's
delivery and schedule loops, its replicas' heartbeats) run rarely here, and the office's index email is not
due within the count (its quiet period): those are costs per region and per minute, not per innovation
(`make bench` counts everything).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from inovda_cli import samples
from inovda_cli.mailsink import MailSink
from inovda_cli.processes import free_port
from inovda_cli.publish import IntakeMessage, publish_messages
from inovda_notification.app import create_app as create_notification_app
from inovda_notification.settings import NotificationSettings
from inovda_scoring.app import create_app as create_scoring_app
from inovda_scoring.settings import ScoringSettings
from inovda_submission.app import create_app as create_submission_app
from inovda_submission.settings import SubmissionSettings
from tests.support.commands import CommandCounter, counting, process_counter
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration

# The targets (issue 15), per innovation. Notification's holds now; scoring's and submission's are
# the other services' work: set them to True when those land.
NOTIFICATION_MAX_PER_INNOVATION = 8
SCORING_MAX_PER_INNOVATION = 8
SUBMISSION_MAX_PER_MESSAGE = 4
CHECK_SCORING = False
CHECK_SUBMISSION = False

QUIET_SECONDS = 2.0


@pytest.fixture
def mail() -> Iterator[MailSink]:
    with MailSink(port=free_port()) as sink:
        yield sink


@pytest.fixture
async def pipeline(
    clean_broker: str, mongodb_url: str, database_name: str, mail: MailSink, mongo: AsyncMongoClient[Any]
) -> AsyncIterator[dict[str, str]]:
    """The three services in-process, on databases of their own; returns service -> database."""
    process_counter()  # before any client exists: the listener is given to every client made from now on
    databases = {name: f"{database_name}_{name}" for name in ("submission", "scoring", "notification")}
    rarely = 3600.0
    apps = [
        create_submission_app(
            SubmissionSettings(
                amqp_url=clean_broker,
                mongodb_url=mongodb_url,
                mongodb_database=databases["submission"],
                outbox_relay_interval_seconds=rarely,
                http_port=0,
            )
        ),
        create_scoring_app(
            ScoringSettings(
                amqp_url=clean_broker,
                mongodb_url=mongodb_url,
                mongodb_database=databases["scoring"],
                outbox_relay_interval_seconds=rarely,
                http_port=0,
            )
        ),
        create_notification_app(
            NotificationSettings(
                amqp_url=clean_broker,
                mongodb_url=mongodb_url,
                mongodb_database=databases["notification"],
                smtp_port=mail.port,
                outbox_relay_interval_seconds=rarely,
                delivery_interval_seconds=rarely,
                schedule_interval_seconds=rarely,
                heartbeat_interval_seconds=rarely,
                score_email_window_seconds=1.0,
                http_port=0,
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


async def quiet(counter: CommandCounter, seconds: float = QUIET_SECONDS, within: float = 60.0) -> None:
    """Until no service has issued a command for `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last, since = counter.total(), loop.time()
    while loop.time() - since < seconds:
        if loop.time() > deadline:
            raise AssertionError(f"the services never went quiet: {counter.commands}")
        await asyncio.sleep(0.1)
        if (now := counter.total()) != last:
            last, since = now, loop.time()


async def wait_for_mail(mail: MailSink, kinds: set[str], within: float = 30.0) -> None:
    for _ in range(int(within * 10)):
        if kinds <= {item.dedupe_key.split(":")[0] for item in mail.received}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"emails {kinds} never all arrived: {[item.dedupe_key for item in mail.received]}")


async def test_one_innovation_costs_each_service_a_bounded_number_of_database_commands(
    pipeline: dict[str, str], clean_broker: str, mail: MailSink
) -> None:
    async with EventProbe(clean_broker) as events:
        with counting() as counter:
            await publish_messages(
                clean_broker,
                [
                    IntakeMessage.of("region.profile.v1", samples.profile(), uuid.uuid4().hex),
                    IntakeMessage.of("unit.upsert.v1", samples.unit("DINKES"), uuid.uuid4().hex),
                    IntakeMessage.of(
                        "unit.upsert.v1", samples.unit("DISDIK", name="Dinas Pendidikan"), uuid.uuid4().hex
                    ),
                ],
            )
            await events.wait_for("intake.accepted.*", count=3)
            await events.wait_for("region.index.updated")
            await quiet(counter)
        # The region and its units are known everywhere: now one innovation, alone.
        with counting() as counter:
            await publish_messages(
                clean_broker, [IntakeMessage.of("innovation.report.v1", samples.innovation(), "one")]
            )
            await events.wait_for("innovation.scored")
            await wait_for_mail(mail, {"receipt", "score"})
            await quiet(counter)
            counts = {service: counter.of(database) for service, database in pipeline.items()}
            breakdown = {service: counter.breakdown(database) for service, database in pipeline.items()}

    report = "; ".join(f"{service} {count}: {breakdown[service]}" for service, count in counts.items())
    print(f"\ndatabase commands for one innovation: {report}")
    assert [item.dedupe_key.split(":")[0] for item in mail.received].count("score") == 1
    assert counts["notification"] <= NOTIFICATION_MAX_PER_INNOVATION, report
    if CHECK_SCORING:
        assert counts["scoring"] <= SCORING_MAX_PER_INNOVATION, report
    if CHECK_SUBMISSION:
        assert counts["submission"] <= SUBMISSION_MAX_PER_MESSAGE, report
