"""Rendering the broker's definitions: the topology (exchanges, queues, bindings, and the policies that bound
the queues), and one user per service and per outside system with only the rights it needs
(deploy/rabbitmq/access.json), for `rabbitmqctl import_definitions` or RabbitMQ's `load_definitions`.

Each user's rights are its permissions (which exchanges and queues it may configure, write and read), its
topic permissions (which routing keys it may publish on, and bind from, each topic exchange: what
`inovda_shared.topology` says it publishes and consumes, nothing else) and its connection and channel limits.
There is no `guest` user: a broker that loads these definitions at boot creates none.

Passwords never live in the repository: each comes from `RABBITMQ_PASSWORD_<USER>` (user name upper-cased,
dashes as underscores) or the file named by `..._FILE`, or is generated once into the secrets folder.
"""

import base64
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inovda_shared.contracts.events import OPERATOR_SOURCE
from inovda_shared.topology import (
    DEAD_LETTER_EXCHANGE,
    EVENTS_EXCHANGE,
    EXCHANGES,
    INTAKE_EXCHANGE,
    OPERATOR_PUBLISHES,
    PUBLISHES,
    REPORTING_ROUTING_KEYS,
    SERVICE_QUEUES,
    SOURCE_WORD,
    SUBMISSION_QUEUE,
)

RESULTS_TTL_MS = 7 * 24 * 3600 * 1000
MIB = 1024 * 1024


@dataclass(frozen=True)
class QueueBound:
    """At most this many messages, or bytes of bodies; past either, what `overflow` says happens."""

    max_length: int
    max_bytes: int
    overflow: str


# The intake: about half an hour of messages at the rate it answers (50 a second, README "Performance") and
# twice a year's reports of every region in the country, so no real batch meets it, while a flood cannot fill
# the broker's disk. Past it the publisher's confirm is a nack: the sender is told, and sends again later.
INTAKE_BOUND = QueueBound(100_000, 512 * MIB, "reject-publish")
# An outside system's unread answers: as many as the intake holds messages. Past it the oldest answer goes
# (`drop-head`), not the newest: the queue's reader is behind, not the submission service, which shares each
# answer's publication with the other services' queues, so a nack there would hold everyone's events back
# (the outbox would publish them again and again) for one system that does not read.
RESULTS_BOUND = QueueBound(100_000, 256 * MIB, "drop-head")


def results_queue(source: str) -> str:
    return f"results.{source}"


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def password_for(user: str, secrets_folder: Path) -> str:
    variable = "RABBITMQ_PASSWORD_" + user.upper().replace("-", "_")
    if value := os.environ.get(variable):
        return value
    if path := os.environ.get(f"{variable}_FILE"):
        return Path(path).read_text(encoding="utf-8").strip()
    stored = secrets_folder / f"rabbitmq-{user}"
    if not stored.exists():
        secrets_folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        stored.write_text(secrets.token_urlsafe(24))
        stored.chmod(0o600)
    return stored.read_text().strip()


def intake_sources(access: Mapping[str, Any]) -> dict[str, str]:
    """Broker user -> the intake source it publishes for (the submission service's `SOURCE_USERS`): every
    outside system, and a service that reports as one (the portal) or sends the operator's commands."""
    services = {
        user: rights["intake_source"] for user, rights in access["services"].items() if "intake_source" in rights
    }
    return {**access["outside_systems"], **services}


def routing_key_pattern(keys: Iterable[str]) -> str:
    """A regular expression matching exactly these routing keys (binding keys: their `*` and `#` literally;
    `{source}`: any one word); with none, nothing."""
    alternatives = sorted({re.escape(key).replace(re.escape(SOURCE_WORD), "[^.]+") for key in keys})
    return f"^({'|'.join(alternatives)})$" if alternatives else "^$"


def topic_rights(access: Mapping[str, Any], user: str) -> dict[str, tuple[set[str], set[str]]]:
    """Per topic exchange, the routing keys `user` may publish and the binding keys it may bind with: an
    outside system publishes intake messages (not review rounds); a service (`inovda-<service>`) what
    `PUBLISHES` says and binds what its queues do, and any service user the `binds` its entry in access.json
    names; anyone else nothing."""
    rights: dict[str, tuple[set[str], set[str]]] = {
        exchange.name: (set(), set()) for exchange in EXCHANGES if exchange.type.value == "topic"
    }
    if user in access["outside_systems"]:
        rights[INTAKE_EXCHANGE.name][0].update(REPORTING_ROUTING_KEYS)
        return rights
    service = user.removeprefix("inovda-")
    published = OPERATOR_PUBLISHES if service == OPERATOR_SOURCE else PUBLISHES.get(service, {})
    for exchange, keys in published.items():
        rights[exchange][0].update(keys)
    for spec in SERVICE_QUEUES:
        if spec.service == service:
            rights[spec.exchange.name][1].update(spec.binding_keys)
    for exchange, keys in access["services"][user].get("binds", {}).items():
        rights[exchange][1].update(keys)
    return rights


def source_regions(access: Mapping[str, Any]) -> dict[str, list[str]]:
    """Source -> the region codes it may write, `*` for every region (the submission service's `SOURCE_REGIONS`)."""
    return {source: list(regions) for source, regions in access["source_regions"].items()}


def render(access: Mapping[str, Any], passwords: Mapping[str, str]) -> dict[str, Any]:
    vhost = access["vhost"]
    systems: Mapping[str, str] = access["outside_systems"]
    users = [*access["services"], *systems]
    permissions = [
        {"user": user, "vhost": vhost, **{name: rights[name] for name in ("configure", "write", "read")}}
        for user, rights in access["services"].items()
    ]
    permissions += [
        {"user": user, "vhost": vhost, "configure": "^$", "write": r"^inovda\.intake$", "read": f"^results\\.{source}$"}
        for user, source in systems.items()
    ]
    topic_permissions = [
        {
            "user": user,
            "vhost": vhost,
            "exchange": exchange,
            "write": routing_key_pattern(publishes),
            "read": routing_key_pattern(binds),
        }
        for user in users
        for exchange, (publishes, binds) in topic_rights(access, user).items()
    ]
    limits = access["user_limits"]
    queues = []
    bindings = []
    for spec in SERVICE_QUEUES:
        queues.append(_queue(spec.name, vhost, spec.queue().arguments))
        queues.append(_queue(spec.dead_letter_name, vhost, spec.dead_letter_queue().arguments))
        bindings += [_binding(spec.exchange.name, spec.name, key, vhost) for key in spec.binding_keys]
        bindings.append(_binding(DEAD_LETTER_EXCHANGE.name, spec.dead_letter_name, spec.name, vhost))
    for source in [*systems.values(), OPERATOR_SOURCE]:  # the operator reads the answers to its commands
        queues.append(_queue(results_queue(source), vhost, {"x-queue-type": "quorum"}))
        bindings += [
            _binding(EVENTS_EXCHANGE.name, results_queue(source), f"intake.{status}.{source}", vhost)
            for status in ("accepted", "rejected")
        ]
    return {
        "vhosts": [{"name": vhost}],
        "users": [
            {
                "name": user,
                "password_hash": password_hash(passwords[user]),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
                "limits": limits["outside_systems" if user in systems else "services"],
            }
            for user in users
        ],
        "permissions": permissions,
        "topic_permissions": topic_permissions,
        "exchanges": [
            {
                "name": exchange.name,
                "vhost": vhost,
                "type": exchange.type.value,
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for exchange in EXCHANGES
        ],
        "queues": queues,
        "bindings": bindings,
        "policies": [
            _policy("intake-bounded", rf"^{re.escape(SUBMISSION_QUEUE.name)}$", vhost, INTAKE_BOUND),
            _policy("results-bounded", r"^results\.", vhost, RESULTS_BOUND, {"message-ttl": RESULTS_TTL_MS}),
        ],
    }


def render_file(access_path: Path, secrets_folder: Path, out: Path) -> Path:
    access = json.loads(access_path.read_text())
    users = [*access["services"], *access["outside_systems"]]
    passwords = {user: password_for(user, secrets_folder) for user in users}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(render(access, passwords), indent=2))
    out.chmod(0o644)  # the broker's own user reads it; it holds hashes, not passwords
    return out


def _queue(name: str, vhost: str, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"name": name, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": dict(arguments or {})}


def _policy(
    name: str, pattern: str, vhost: str, bound: QueueBound, more: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    # Policies, not queue arguments: a quorum queue's arguments cannot change once it exists, and a service
    # declaring its queue with other arguments than the broker holds would be refused. Priority 1 wins over
    # any older policy of priority 0 that still matches (`unread-results-expire` of earlier definitions).
    definition = {"max-length": bound.max_length, "max-length-bytes": bound.max_bytes, "overflow": bound.overflow}
    return {
        "vhost": vhost,
        "name": name,
        "pattern": pattern,
        "apply-to": "queues",
        "priority": 1,
        "definition": {**definition, **(more or {})},
    }


def _binding(source: str, destination: str, routing_key: str, vhost: str) -> dict[str, Any]:
    return {
        "source": source,
        "vhost": vhost,
        "destination": destination,
        "destination_type": "queue",
        "routing_key": routing_key,
        "arguments": {},
    }
