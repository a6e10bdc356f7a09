"""The compose broker's configuration on a RabbitMQ node of the test's own: Inovda's bounds
(deploy/rabbitmq/limits.conf) and deploy/compose/rabbitmq.conf, with its certificate files (compose secrets)
made by deploy/compose/make-tls.sh and the definitions rendered by `inovda broker-definitions`, each at a path of
the test's own, and its ports free ones.

An outside system connects over amqps://, verifying the server's certificate against the CA, and publishes as
itself; a client that trusts another CA is refused; the node, booting from the definitions, has no guest user.
"""

import json
import re
import secrets
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import pytest
import yaml
from aiormq.exceptions import AMQPConnectionError

from inovda_cli.broker_access import render_file
from inovda_cli.chaos.infra import RABBITMQ_BIN, RabbitNode
from inovda_cli.processes import free_port
from inovda_shared.topology import INTAKE_EXCHANGE

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (RABBITMQ_BIN / "rabbitmq-server").exists(), reason=f"no RabbitMQ in {RABBITMQ_BIN}"),
]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_CONFIG = ROOT / "deploy/compose/rabbitmq.conf"
SYSTEM = "sys-e-inovasi"
# Settings of plugins this node does not run (the management UI, Prometheus).
PLUGIN_SETTINGS = re.compile(r"^(management|prometheus)\.")


@dataclass
class TlsBroker:
    node: RabbitNode
    tls_port: int
    ca: Path
    other_ca: Path
    passwords: dict[str, str]

    def url(self, user: str) -> str:
        return f"amqps://{user}:{self.passwords[user]}@localhost:{self.tls_port}/"


def make_tls(folder: Path) -> Path:
    subprocess.run(["sh", str(ROOT / "deploy/compose/make-tls.sh"), str(folder)], check=True, capture_output=True)
    return folder


def secret_files(folder: Path) -> dict[str, Path]:
    """Each compose secret's path inside the container -> the file of that name in `folder`."""
    declared = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["secrets"]
    return {f"/run/secrets/{name}": folder / Path(secret["file"]).name for name, secret in declared.items()}


def compose_config(paths: dict[str, Path], definitions: Path, tls_port: int) -> str:
    """deploy/compose/rabbitmq.conf as this node runs it: the container's paths and the TLS port replaced."""
    lines = []
    for line in COMPOSE_CONFIG.read_text(encoding="utf-8").splitlines():
        key, equals, value = (part.strip() for part in line.partition("="))
        if not equals or key.startswith("#") or PLUGIN_SETTINGS.match(key):
            continue
        if key == "load_definitions":
            value = str(definitions)
        elif key == "listeners.ssl.default":
            value = f"127.0.0.1:{tls_port}"  # this machine's loopback only
        elif value.startswith("/run/secrets/"):
            value = str(paths[value])
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
async def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TlsBroker]:
    base = tmp_path_factory.mktemp("tls-broker")
    certificates = make_tls(base / "tls")
    other = make_tls(base / "other-tls")
    access = json.loads((ROOT / "deploy/rabbitmq/access.json").read_text())
    passwords = {user: secrets.token_urlsafe(16) for user in [*access["services"], *access["outside_systems"]]}
    folder = base / "secrets"
    folder.mkdir()
    for user, password in passwords.items():
        (folder / f"rabbitmq-{user}").write_text(password)
    definitions = render_file(ROOT / "deploy/rabbitmq/access.json", folder, base / "definitions.json")
    tls_port = free_port()
    limits = (ROOT / "deploy/rabbitmq/limits.conf").read_text(encoding="utf-8")
    config = limits + compose_config(secret_files(certificates), definitions, tls_port)
    node = RabbitNode(base / "node", config=config, name="tls")
    await node.start()
    try:
        yield TlsBroker(node, tls_port, certificates / "ca.crt", other / "ca.crt", passwords)
    finally:
        await node.stop()


def verifying(ca: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))  # checks the chain and the host name
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


async def test_an_outside_system_publishes_over_amqps_verifying_the_broker_s_certificate(tls_broker: TlsBroker) -> None:
    connection = await aio_pika.connect(tls_broker.url(SYSTEM), ssl_context=verifying(tls_broker.ca))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        intake = await channel.get_exchange(INTAKE_EXCHANGE.name, ensure=False)
        message = aio_pika.Message(b'{"source": "e-inovasi"}', user_id=SYSTEM, message_id="over-tls")
        await intake.publish(message, routing_key="unit.upsert.v1")  # confirmed
        answers = await channel.get_queue("results.e-inovasi", ensure=False)  # and it reads its own results
        assert await answers.get(fail=False) is None
    # It reached the intake queue as that system's (the submission service, on the compose network, reads it
    # over plain AMQP).
    service = await aio_pika.connect(
        tls_broker.node.url("inovda-submission", tls_broker.passwords["inovda-submission"])
    )
    async with service:
        intake_queue = await (await service.channel()).get_queue("submission.intake", ensure=False)
        delivered = await intake_queue.get(timeout=10)
        assert (delivered.message_id, delivered.user_id) == ("over-tls", SYSTEM)
        await delivered.ack()


async def test_a_client_that_trusts_another_ca_is_refused(tls_broker: TlsBroker) -> None:
    with pytest.raises(AMQPConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        await aio_pika.connect(tls_broker.url(SYSTEM), ssl_context=verifying(tls_broker.other_ca), timeout=20)


async def test_a_node_booting_from_the_definitions_has_no_guest_user(tls_broker: TlsBroker) -> None:
    users = (await tls_broker.node.ctl("list_users", "--no-table-headers")).split()
    assert "guest" not in users
    assert SYSTEM in users
    with pytest.raises(aio_pika.exceptions.ProbableAuthenticationError):
        await aio_pika.connect(tls_broker.node.url(), timeout=20)  # guest:guest on plain AMQP


async def test_the_node_runs_inovda_s_bounds(tls_broker: TlsBroker) -> None:
    size = await tls_broker.node.ctl("eval", "application:get_env(rabbit, max_message_size).")
    assert size.strip() == "{ok,2097152}"
