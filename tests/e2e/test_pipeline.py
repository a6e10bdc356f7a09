"""The whole pipeline: the three services as real processes, RabbitMQ, FerretDB and an SMTP server.

An outside system registers units and reports innovations; the test reads the answers, the index event
and the emails the SMTP server received.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from inovda_cli import samples
from inovda_cli.mailsink import MailSink
from inovda_cli.processes import ServiceProcess, free_port
from inovda_cli.publish import IntakeMessage, publish_messages
from tests.support.probe import EventProbe

pytestmark = pytest.mark.e2e


@pytest.fixture
def mail() -> Iterator[MailSink]:
    with MailSink(port=free_port()) as sink:
        yield sink


@pytest.fixture
async def services(
    clean_broker: str, mongodb_url: str, drop_database: str, mail: MailSink
) -> AsyncIterator[list[ServiceProcess]]:
    common = {"AMQP_URL": clean_broker, "MONGODB_URL": mongodb_url}
    processes = [
        ServiceProcess("inovda-submission", {**common, "MONGODB_DATABASE": drop_database, "INTAKE_AUTH": "off"}),
        ServiceProcess("inovda-scoring", {**common, "MONGODB_DATABASE": f"{drop_database}_s"}),
        ServiceProcess(
            "inovda-notification",
            {
                **common,
                "MONGODB_DATABASE": f"{drop_database}_n",
                "SMTP_PORT": str(mail.port),
                # Windows short enough for a test: the score email and the office's second index email.
                "SCORE_EMAIL_WINDOW_SECONDS": "0.5",
                "INDEX_PREDICATE_SETTLE_SECONDS": "0",
                "INDEX_QUIET_SECONDS": "1",
                "INDEX_MIN_GAP_SECONDS": "0",
            },
        ),
    ]
    async with processes[0], processes[1], processes[2]:
        yield processes


async def wait_for_mail(mail: MailSink, count: int, seconds: float = 30) -> None:
    for _ in range(int(seconds * 10)):
        if len(mail.received) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(mail.received)} emails, expected {count}: {[m.subject for m in mail.received]}")


async def test_an_outside_system_reports_and_units_and_office_get_their_emails(
    clean_broker: str, services: list[ServiceProcess], mail: MailSink
) -> None:
    async with EventProbe(clean_broker) as events:
        await publish_messages(
            clean_broker,
            [
                IntakeMessage.of("unit.upsert.v1", samples.unit("DINKES"), uuid.uuid4().hex),
                IntakeMessage.of("region.profile.v1", samples.profile(), uuid.uuid4().hex),
            ],
        )
        await events.wait_for("intake.accepted.*", count=2)
        # The office's first index of the year (the profile alone) out before any innovation moves it: sooner,
        # a slow machine could let both versions rest together, and the office rightly get one email.
        await wait_for_mail(mail, 1)
        await publish_messages(
            clean_broker,
            [
                IntakeMessage.of("innovation.report.v1", samples.innovation(), "report-1"),
                IntakeMessage.of("innovation.report.v1", samples.innovation("INV-002", stage="selesai"), "report-2"),
            ],
        )
        answers = {event.body["message_id"]: event.body for event in await events.wait_for("intake.*.*", count=4)}
        assert answers["report-1"]["status"] == "accepted"
        assert answers["report-2"]["status"] == "rejected"
        index = (await events.wait_for("region.index.updated", lambda body: body["n"] == 1, timeout=30))[0].body
        assert index["iid"] == 9.47

        # Receipt, rejection and score to the unit; to the office, the first index of the year (the
        # profile alone) and, once it has rested, the IID the innovation moved.
        await wait_for_mail(mail, 5)
        sent = await events.wait_for("notification.sent", count=5, timeout=30)

    keys = sorted(item.dedupe_key.split(":")[0] for item in mail.received)
    assert keys == ["predicate", "predicate", "receipt", "rejection", "score"]
    by_kind = {item.dedupe_key.split(":")[0]: item for item in mail.received}
    assert by_kind["receipt"].envelope_to == ["dinkes@kukarkab.example"]
    assert "Posyandu Digital Kukar" in by_kind["receipt"].part("plain")
    assert "stage" in by_kind["rejection"].part("plain")
    assert "26" in by_kind["score"].part("plain")
    to_office = [item for item in mail.received if item.dedupe_key.startswith("predicate:")]
    assert all(item.envelope_to == ["brida@kukarkab.example"] for item in to_office)
    assert any("9,47" in item.part("plain") for item in to_office)
    correlation = {event.correlation_id for event in sent if event.body["kind"] == "receipt"}
    assert correlation, "the emails' events carry the correlation id of the intake message"
    for process in services:
        assert process.stop() == 0, process.log()
