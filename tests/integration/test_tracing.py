"""One trace from an intake message to the email it causes, across the three services."""

import asyncio
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # the process-wide provider FastStream's middleware reports to
    return exporter


async def test_an_intake_message_and_the_email_it_causes_share_one_trace(
    spans: InMemorySpanExporter,
    submission_settings: SubmissionSettings,
    scoring_settings: ScoringSettings,
    events: EventProbe,
) -> None:
    with MailSink(port=free_port()) as mail:
        notification_settings = NotificationSettings(
            amqp_url=submission_settings.amqp_url,
            mongodb_url=submission_settings.mongodb_url,
            mongodb_database=f"{submission_settings.mongodb_database}_n",
            smtp_port=mail.port,
            http_port=0,
        )
        apps = [
            create_submission_app(submission_settings),
            create_scoring_app(scoring_settings),
            create_notification_app(notification_settings),
        ]
        for app in apps:
            await app.start()
        try:
            await publish_messages(
                submission_settings.amqp_url,
                [
                    IntakeMessage.of("unit.upsert.v1", samples.unit()),
                    IntakeMessage.of("region.profile.v1", samples.profile()),
                ],
            )
            await events.wait_for("intake.accepted.*", count=2)
            await asyncio.sleep(0.5)  # the unit reaches the notification service's contacts
            spans.clear()
            report_id = uuid.uuid4().hex
            await publish_messages(
                submission_settings.amqp_url,
                [IntakeMessage.of("innovation.report.v1", samples.innovation(), report_id)],
            )
            for _ in range(150):
                if any(item.dedupe_key.startswith("score:") for item in mail.received):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
        finally:
            for app in reversed(apps):
                await app.stop()

    finished = spans.get_finished_spans()
    # FastStream names a span "<exchange>.<routing key> <operation>".
    intake = [span for span in finished if span.name == "inovda.intake.innovation.report.v1 process"]
    assert intake, [span.name for span in finished]
    trace_id = intake[0].context.trace_id
    names = {span.name for span in finished if span.context.trace_id == trace_id}
    assert "inovda.events.innovation.submitted process" in names, names  # scoring
    assert "inovda.events.innovation.scored process" in names, names  # notification
    assert "smtp send" in names, "the email's sending belongs to the intake message's trace"
