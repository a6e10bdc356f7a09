"""The broker's access model and configuration, without a broker: the definitions `inovda broker-definitions`
renders from deploy/rabbitmq/access.json, Inovda's bounds (deploy/rabbitmq/limits.conf) and the compose broker's
AMQPS listener. tests/integration/test_access.py and test_tls.py check the same on a real node."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from inovda_cli.broker_access import INTAKE_BOUND, RESULTS_BOUND, render, routing_key_pattern
from inovda_shared.contracts.intake import INTAKE_MODELS
from inovda_shared.topology import EXCHANGES, PUBLISHES, SERVICE_QUEUES

from . import tools
from .project import COMPOSE_FILE, COMPOSE_HELPERS, REPO

ACCESS = REPO / "deploy" / "rabbitmq" / "access.json"
LIMITS = REPO / "deploy" / "rabbitmq" / "limits.conf"
SHARED_EXCHANGES = [exchange.name for exchange in EXCHANGES]


def access() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ACCESS.read_text(encoding="utf-8"))
    return document


def users() -> list[str]:
    return [*access()["services"], *access()["outside_systems"]]


def definitions(model: dict[str, Any] | None = None) -> dict[str, Any]:
    model = model or access()
    return render(model, dict.fromkeys([*model["services"], *model["outside_systems"]], "x"))


def settings(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, equals, value = (part.strip() for part in line.partition("="))
        if equals and not key.startswith("#"):
            found[key] = value
    return found


def topic_permissions(user: str) -> dict[str, dict[str, str]]:
    return {entry["exchange"]: entry for entry in definitions()["topic_permissions"] if entry["user"] == user}


def matches(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None  # as RabbitMQ matches: unanchored, so the pattern anchors


def test_there_is_no_guest_user_and_every_user_has_its_limits() -> None:
    rendered = definitions()
    assert "guest" not in {user["name"] for user in rendered["users"]}
    assert "guest" not in {entry["user"] for entry in rendered["permissions"]}
    limits = access()["user_limits"]
    for user in rendered["users"]:
        kind = "outside_systems" if user["name"] in access()["outside_systems"] else "services"
        assert user["limits"] == limits[kind], user["name"]
        assert set(user["limits"]) == {"max-connections", "max-channels"}
        assert all(isinstance(value, int) and value > 0 for value in user["limits"].values())


def test_no_user_may_configure_a_shared_exchange_and_only_the_operator_writes_to_the_default_one() -> None:
    for entry in definitions()["permissions"]:
        for exchange in SHARED_EXCHANGES:
            assert not matches(entry["configure"], exchange), (entry["user"], exchange)
        assert matches(entry["write"], "amq.default") == (entry["user"] == "inovda-operator"), entry["user"]


def test_every_user_has_topic_permissions_on_every_topic_exchange() -> None:
    topic_exchanges = {exchange.name for exchange in EXCHANGES if exchange.type.value == "topic"}
    for user in users():
        assert set(topic_permissions(user)) == topic_exchanges, user


def test_an_outside_system_may_publish_the_intake_routing_keys_and_nothing_else() -> None:
    for user in access()["outside_systems"]:
        rights = topic_permissions(user)
        intake = rights["inovda.intake"]
        for routing_key in INTAKE_MODELS:
            may = routing_key != "innovation.verification.v1"  # review rounds come from the portal only
            assert matches(intake["write"], routing_key) == may, (user, routing_key)
        for other in ("innovation.report.v2", "unit.upsert.v1.x", "x.unit.upsert.v1", "#", "", "innovation.scored"):
            assert not matches(intake["write"], other), (user, other)
        assert rights["inovda.events"]["write"] == "^$"
        assert rights["inovda.intake"]["read"] == rights["inovda.events"]["read"] == "^$"


def test_each_service_may_publish_its_own_events_and_bind_its_own_keys_only() -> None:
    for service, published in PUBLISHES.items():
        rights = topic_permissions(f"inovda-{service}")
        for exchange, keys in published.items():
            for key in keys:
                assert matches(rights[exchange]["write"], key.replace("{source}", "simpeg")), (service, key)
        others = {
            key for other, mine in PUBLISHES.items() if other != service for keys in mine.values() for key in keys
        }
        for exchange in rights:
            for key in others - set(published.get(exchange, ())):
                assert not matches(rights[exchange]["write"], key.replace("{source}", "simpeg")), (service, key)
    for spec in SERVICE_QUEUES:
        read = topic_permissions(f"inovda-{spec.service}")[spec.exchange.name]["read"]
        assert all(matches(read, key) for key in spec.binding_keys), spec.name
        assert not matches(read, "#") or spec.binding_keys == ("#",), spec.name
    submission_events = topic_permissions("inovda-submission")["inovda.events"]["write"]
    assert matches(submission_events, "intake.rejected.unknown")
    assert not matches(submission_events, "intake.rejected.a.b")


def test_a_user_with_queues_of_its_own_binds_what_its_entry_names_and_nothing_by_default() -> None:
    model = access()
    model["services"]["inovda-observer"] = {"configure": "^o$", "write": "^o$", "read": "^(o|inovda\\.events)$"}
    rendered = [entry for entry in definitions(model)["topic_permissions"] if entry["user"] == "inovda-observer"]
    assert {(entry["exchange"], entry["write"], entry["read"]) for entry in rendered} == {
        ("inovda.intake", "^$", "^$"),
        ("inovda.events", "^$", "^$"),
    }
    model["services"]["inovda-observer"]["binds"] = {"inovda.events": ["#"]}
    rendered = [entry for entry in definitions(model)["topic_permissions"] if entry["user"] == "inovda-observer"]
    assert {entry["exchange"]: entry["read"] for entry in rendered} == {
        "inovda.intake": "^$",
        "inovda.events": r"^(\#)$",
    }


def test_routing_key_patterns_match_exactly_the_keys_given() -> None:
    pattern = routing_key_pattern(["intake.accepted.{source}", "unit.registered", "intake.accepted.*"])
    assert matches(pattern, "intake.accepted.e-inovasi")
    assert matches(pattern, "intake.accepted.*")  # a binding key, literally
    assert not matches(pattern, "intake.accepted.")
    assert not matches(pattern, "unitXregistered")
    assert not matches(pattern, "unit.registered.v2")
    assert routing_key_pattern([]) == "^$"


def test_the_intake_and_the_results_queues_are_bounded_by_policies() -> None:
    policies = {policy["name"]: policy for policy in definitions()["policies"]}
    intake, results = policies["intake-bounded"], policies["results-bounded"]
    assert matches(intake["pattern"], "submission.intake")
    assert not matches(intake["pattern"], "submission.intake.dead")
    assert intake["definition"]["overflow"] == "reject-publish"
    assert intake["definition"]["max-length"] == INTAKE_BOUND.max_length
    assert matches(results["pattern"], "results.e-inovasi")
    assert results["definition"]["overflow"] == "drop-head"
    assert results["definition"]["max-length"] == RESULTS_BOUND.max_length
    assert results["definition"]["message-ttl"] == 7 * 24 * 3600 * 1000
    for policy in policies.values():
        assert policy["apply-to"] == "queues"
        assert policy["priority"] > 0  # over the older `unread-results-expire` of priority 0
    # Policies, not queue arguments: a quorum queue's arguments cannot change once it exists.
    for queue in definitions()["queues"]:
        assert not {"x-max-length", "x-max-length-bytes", "x-overflow"} & set(queue["arguments"]), queue["name"]


def test_every_broker_node_takes_messages_up_to_2_mib() -> None:
    assert settings(LIMITS) == {"max_message_size": str(2 * 1024 * 1024)}
    rabbitmq = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]["rabbitmq"]
    mounts = dict(volume.split(":")[:2] for volume in rabbitmq["volumes"])
    limits_at = mounts["./deploy/rabbitmq/limits.conf"]
    config_at = mounts["./deploy/compose/rabbitmq.conf"]
    assert limits_at.startswith("/etc/rabbitmq/conf.d/")
    assert config_at.startswith("/etc/rabbitmq/conf.d/")
    assert Path(limits_at).name < Path(config_at).name  # read in this order: the compose file may say more
    infra = (REPO / "scripts" / "infra.sh").read_text(encoding="utf-8")
    assert "deploy/rabbitmq/limits.conf" in infra
    assert "RABBITMQ_CONFIG_FILE=" in infra
    chaos = (REPO / "cli" / "src" / "inovda_cli" / "chaos" / "forms.py").read_text(encoding="utf-8")
    assert '"deploy/rabbitmq/limits.conf"' in chaos


def test_the_compose_broker_listens_for_amqps_with_certificates_from_outside_the_repository() -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    config = settings(COMPOSE_HELPERS / "rabbitmq.conf")
    assert config["listeners.ssl.default"] == "5671"
    assert config["ssl_options.versions.1"] == "tlsv1.3"
    rabbitmq = compose["services"]["rabbitmq"]
    declared = compose["secrets"]
    assert set(rabbitmq["secrets"]) == set(declared)
    for key in ("ssl_options.cacertfile", "ssl_options.certfile", "ssl_options.keyfile"):
        name = config[key].removeprefix("/run/secrets/")
        assert name in declared, key
        assert declared[name]["file"].startswith("${RABBITMQ_TLS_DIR:-./var/"), declared[name]
    assert any(
        port.endswith(":5671") and port.startswith("127.0.0.1:${RABBITMQ_TLS_PORT") for port in rabbitmq["ports"]
    )
    gitignore = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "var/" in gitignore, "var/ (the certificates among it) is never committed"
    build_context = [line for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines() if line]
    assert next(line for line in build_context if not line.startswith("#")) == "*", (
        "nothing reaches an image unless named"
    )
    assert not [line for line in build_context if line.startswith("!var")], "var/ never reaches an image"


def test_make_tls_writes_a_ca_and_a_server_certificate_for_the_broker_s_names(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    subprocess.run(["sh", str(COMPOSE_HELPERS / "make-tls.sh"), str(folder), "broker.kukarkab.example"], check=True)
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(folder / "ca.crt"), str(folder / "server.crt")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert verified.stdout.strip().endswith("OK")
    names = subprocess.run(
        ["openssl", "x509", "-in", str(folder / "server.crt"), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("DNS:rabbitmq", "DNS:localhost", "IP Address:127.0.0.1", "DNS:broker.kukarkab.example"):
        assert name in names
    assert folder.stat().st_mode & 0o077 == 0
    assert (folder / "ca.key").stat().st_mode & 0o077 == 0
    before = (folder / "server.crt").read_bytes()
    subprocess.run(["sh", str(COMPOSE_HELPERS / "make-tls.sh"), str(folder)], check=True, capture_output=True)
    assert (folder / "server.crt").read_bytes() == before, "an existing certificate is kept"


def test_the_infra_script_passes_shellcheck() -> None:
    outcome = tools.shellcheck(REPO / "scripts" / "infra.sh", shell="bash")
    assert outcome.ok, outcome.output


def test_the_readme_says_who_may_do_what_for_every_broker_user() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Who may do what") :]
    table = section[: section.index("\n\n", section.index("| broker user |"))]
    for user in users():
        assert f"`{user}`" in table, f"README's 'Who may do what' does not name {user}"
    assert "Onboarding a new region's system" in section
    assert "amqps://" in section
