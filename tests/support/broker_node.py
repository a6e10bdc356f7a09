"""`rabbitmqctl` on the node the tests' broker runs on, for the tests that change its users and policies.

The local node (`make infra`, reached at LOCAL_AMQP_URL) through Debian's `rabbitmqctl` wrapper; or, when
`AMQP_URL` names another broker, the node named by `RABBITMQ_NODENAME` (a private one, whose Erlang cookie is
under `HOME`) through RabbitMQ's own script, which keeps that environment. A broker named by `AMQP_URL`
without `RABBITMQ_NODENAME` may be anyone's: no test changes it.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from inovda_cli.chaos.infra import RABBITMQ_BIN
from tests.support.infra import LOCAL_AMQP_URL

NODE = os.environ.get("RABBITMQ_NODENAME")


def why_not_controllable() -> str | None:
    """Why the tests may not change the broker's node, or None."""
    if NODE is None and os.environ.get("AMQP_URL", LOCAL_AMQP_URL) != LOCAL_AMQP_URL:
        return "AMQP_URL names another broker and RABBITMQ_NODENAME does not name its node"
    if NODE is None and shutil.which("rabbitmqctl") is None:
        return "no rabbitmqctl for the local node"
    if NODE is not None and not (RABBITMQ_BIN / "rabbitmqctl").exists():
        return f"no rabbitmqctl in {RABBITMQ_BIN}"
    return None


def rabbitmqctl(*arguments: str) -> str:
    command = ["rabbitmqctl"] if NODE is None else [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", NODE]
    return subprocess.run([*command, "-q", *arguments], check=True, capture_output=True, text=True).stdout


def import_definitions(definitions: Path) -> None:
    # Debian's rabbitmqctl runs as the broker's own user, who cannot read a root-only temporary folder: hand
    # it a readable copy (password hashes, not passwords), then remove it.
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as readable:
        readable.write(definitions.read_bytes())
    Path(readable.name).chmod(0o644)
    try:
        rabbitmqctl("import_definitions", readable.name)
    finally:
        Path(readable.name).unlink()


def queue_policies() -> dict[str, str]:
    """Queue name -> the policy that applies to it (empty: none)."""
    policies = {}
    for line in rabbitmqctl("list_queues", "--no-table-headers", "name", "policy").splitlines():
        name, _, policy = line.partition("\t")
        policies[name] = policy.strip()
    return policies
