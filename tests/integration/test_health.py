"""Health, readiness and metrics over HTTP, with a real broker that drops the service's connection."""

import asyncio
import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

from inovda_cli import samples
from inovda_cli.publish import IntakeMessage, publish_messages
from inovda_shared.http import HttpServer
from inovda_submission.app import create_app
from inovda_submission.settings import SubmissionSettings
from tests.support import broker_node
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


async def status(port: int, path: str) -> tuple[int, str]:
    return await asyncio.to_thread(get, port, path)


async def until_status(port: int, path: str, expected: int, within_seconds: float = 30) -> dict[str, object]:
    for _ in range(int(within_seconds * 5)):
        code, body = await status(port, path)
        if code == expected:
            return dict(json.loads(body))
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path} never answered {expected}; last {code} {body}")


def close_connections_of(app_name: str) -> int:
    """Close the broker connections a service opened (as a broker restart or a network cut would)."""
    listed = broker_node.rabbitmqctl("list_connections", "pid", "client_properties")
    pids = [line.split("\t")[0] for line in listed.splitlines() if app_name in line]
    for pid in pids:
        broker_node.rabbitmqctl("close_connection", pid, "closed by the health test")
    return len(pids)


async def test_live_ready_and_metrics(submission_settings: SubmissionSettings, events: EventProbe) -> None:
    app = create_app(submission_settings)
    await app.start()
    port = app.context.get("http").port
    try:
        assert (await status(port, "/health/live"))[0] == 200
        ready = await until_status(port, "/health/ready", 200)
        assert ready == {"ready": True, "broker": True, "consuming": True, "mongodb": True}
        await publish_messages(submission_settings.amqp_url, [IntakeMessage.of("unit.upsert.v1", samples.unit(), "m1")])
        await events.wait_for("intake.accepted.*")
        code, text = await status(port, "/metrics")
        assert code == 200
        answered = re.search(
            r'inovda_intake_answers_total\{routing_key="unit.upsert.v1",status="accepted"\} (\S+)', text
        )
        assert answered is not None
        assert float(answered.group(1)) >= 1
        assert "faststream_received_messages_total" in text
        assert (await status(port, "/nothing"))[0] == 404
    finally:
        await app.stop()


@pytest.mark.skipif(broker_node.why_not_controllable() is not None, reason=str(broker_node.why_not_controllable()))
async def test_readiness_follows_the_broker_connection(submission_settings: SubmissionSettings) -> None:
    name = f"health-test-{uuid.uuid4().hex[:8]}"
    settings = submission_settings.model_copy(update={"instance_name": name})
    app = create_app(settings)
    await app.start()
    port = app.context.get("http").port
    try:
        await until_status(port, "/health/ready", 200)
        assert await asyncio.to_thread(close_connections_of, name) >= 1
        lost = await until_status(port, "/health/ready", 503, within_seconds=10)
        assert lost["broker"] is False or lost["consuming"] is False
        back = await until_status(port, "/health/ready", 200, within_seconds=30)
        assert back["consuming"] is True, "ready again only once the consumer is restored"
    finally:
        await app.stop()


async def test_a_server_answers_only_get() -> None:
    server = HttpServer("127.0.0.1", 0, {})
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /health/live HTTP/1.1\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 405")
        writer.close()
    finally:
        await server.stop()
