"""Rendering the broker's definitions: the topology, and one user per service and per outside system
with only the rights it needs (deploy/rabbitmq/access.json), for `rabbitmqctl import_definitions` or
RabbitMQ's `load_definitions`.

Passwords never live in the repository: each comes from `RABBITMQ_PASSWORD_<USER>` (user name upper-cased,
dashes as underscores) or the file named by `..._FILE`, or is generated once into the secrets folder.
"""

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inovda_shared.topology import DEAD_LETTER_EXCHANGE, EVENTS_EXCHANGE, INTAKE_EXCHANGE, SERVICE_QUEUES

RESULTS_TTL_MS = 7 * 24 * 3600 * 1000


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


def source_regions(access: Mapping[str, Any]) -> dict[str, list[str]]:
    """Source -> the region codes it may write, `*` for every region (the submission service's `SOURCE_REGIONS`)."""
    return {source: list(regions) for source, regions in access["source_regions"].items()}


def render(access: Mapping[str, Any], passwords: Mapping[str, str]) -> dict[str, Any]:
    vhost = access["vhost"]
    systems: Mapping[str, str] = access["outside_systems"]
    permissions = [
        {"user": user, "vhost": vhost, **{name: rights[name] for name in ("configure", "write", "read")}}
        for user, rights in access["services"].items()
    ]
    permissions += [
        {"user": user, "vhost": vhost, "configure": "^$", "write": r"^inovda\.intake$", "read": f"^results\\.{source}$"}
        for user, source in systems.items()
    ]
    queues = []
    bindings = []
    for spec in SERVICE_QUEUES:
        queues.append(_queue(spec.name, vhost, spec.queue().arguments))
        queues.append(_queue(spec.dead_letter_name, vhost, spec.dead_letter_queue().arguments))
        bindings += [_binding(spec.exchange.name, spec.name, key, vhost) for key in spec.binding_keys]
        bindings.append(_binding(DEAD_LETTER_EXCHANGE.name, spec.dead_letter_name, spec.name, vhost))
    for source in systems.values():
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
            }
            for user in [*access["services"], *systems]
        ],
        "permissions": permissions,
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
            for exchange in (INTAKE_EXCHANGE, EVENTS_EXCHANGE, DEAD_LETTER_EXCHANGE)
        ],
        "queues": queues,
        "bindings": bindings,
        "policies": [
            {
                "vhost": vhost,
                "name": "unread-results-expire",
                "pattern": r"^results\.",
                "apply-to": "queues",
                "priority": 0,
                "definition": {"message-ttl": RESULTS_TTL_MS},
            }
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


def _binding(source: str, destination: str, routing_key: str, vhost: str) -> dict[str, Any]:
    return {
        "source": source,
        "vhost": vhost,
        "destination": destination,
        "destination_type": "queue",
        "routing_key": routing_key,
        "arguments": {},
    }
