"""`inovda-submission` as a real process: an outside system publishes, reads answers and events."""

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from inovda_cli import samples
from inovda_cli.processes import ServiceProcess
from inovda_cli.publish import IntakeMessage, publish_messages
from tests.support.probe import EventProbe

pytestmark = pytest.mark.e2e


@pytest.fixture
async def submission_process(clean_broker: str, mongodb_url: str, drop_database: str) -> AsyncIterator[ServiceProcess]:
    env = {
        "AMQP_URL": clean_broker,
        "MONGODB_URL": mongodb_url,
        "MONGODB_DATABASE": drop_database,
        "INTAKE_AUTH": "off",
    }
    async with ServiceProcess("inovda-submission", env) as process:
        yield process


async def test_outside_system_gets_answers_and_inovda_publishes_facts(
    clean_broker: str, submission_process: ServiceProcess
) -> None:
    async with EventProbe(clean_broker) as events:
        ids = {name: uuid.uuid4().hex for name in ("unit", "profile", "innovation", "broken")}
        # Units are registered (and answered) before their innovations are reported: messages in
        # flight together may be handled in any order.
        await publish_messages(
            clean_broker,
            [
                IntakeMessage.of("unit.upsert.v1", samples.unit(), ids["unit"]),
                IntakeMessage.of("region.profile.v1", samples.profile(), ids["profile"]),
            ],
        )
        await events.wait_for("intake.*.*", count=2)
        await publish_messages(
            clean_broker,
            [
                IntakeMessage.of("innovation.report.v1", samples.innovation(), ids["innovation"]),
                IntakeMessage.of("innovation.report.v1", samples.innovation(stage="selesai"), ids["broken"]),
            ],
        )
        answers = await events.wait_for("intake.*.*", count=4)
        by_id = {event.body["message_id"]: event for event in answers}
        assert by_id[ids["unit"]].routing_key == "intake.accepted.simpeg"
        assert by_id[ids["profile"]].routing_key == "intake.accepted.bappeda"
        assert by_id[ids["innovation"]].routing_key == "intake.accepted.e-inovasi"
        assert by_id[ids["innovation"]].body["revision"] == 1
        rejected = by_id[ids["broken"]]
        assert rejected.routing_key == "intake.rejected.e-inovasi"
        assert [(r["field"], r["code"]) for r in rejected.body["reasons"]] == [("stage", "unknown_value")]

        for routing_key in ("unit.registered", "region.profile.updated", "innovation.submitted"):
            assert len(await events.wait_for(routing_key)) == 1
        submitted = events.matching("innovation.submitted")[0]
        assert submitted.body["innovation"]["external_id"] == "INV-001"
        assert submitted.correlation_id == by_id[ids["innovation"]].correlation_id

    assert submission_process.stop() == 0, submission_process.log()
    log_lines = [json.loads(line) for line in submission_process.log().splitlines() if line.startswith("{")]
    assert log_lines, "the service logs JSON lines"
    assert {"time", "level", "service", "message"} <= set(log_lines[0])
