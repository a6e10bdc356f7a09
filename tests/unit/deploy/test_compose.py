"""docker-compose.yml and its helpers under deploy/compose (RabbitMQ configuration and users, MongoDB users,
the example .env)."""

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from inovda_cli.broker_access import intake_sources, source_regions

from . import tools
from .checks import Document, compose_problems, duration_seconds
from .project import COMPOSE_FILE, COMPOSE_HELPERS, DRAIN, REPO, services

ACCESS = REPO / "deploy" / "rabbitmq" / "access.json"


def compose() -> Document:
    document: Document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return document


def interpolated_variables(text: str) -> set[str]:
    return set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))


def example_env() -> dict[str, str]:
    values = {}
    for line in (COMPOSE_HELPERS / "example.env").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_compose_file_matches_the_compose_specification() -> None:
    outcome = tools.check_compose(COMPOSE_FILE)
    assert outcome.ok, outcome.output


def test_compose_specification_check_fails_a_broken_file(tmp_path: Path) -> None:
    broken = compose()
    broken["services"]["submission"]["depends_on"]["rabbitmq"]["condition"] = "healthy"
    broken["services"]["scoring"]["deploy"]["replicas"] = "three"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    outcome = tools.check_compose(path)
    assert not outcome.ok
    assert "healthy" in outcome.output


def test_compose_services_are_healthchecked_ordered_restarted_and_scalable() -> None:
    assert compose_problems(compose(), services(), DRAIN) == []


def test_infrastructure_images() -> None:
    defined = compose()["services"]
    assert defined["rabbitmq"]["image"] == "rabbitmq:3.13-management"
    assert defined["mongodb"]["image"] == "mongo:7"
    assert defined["mailpit"]["image"].split(":", 1)[0] == "axllent/mailpit"
    assert {port.rsplit(":", 1)[-1] for port in defined["mailpit"]["ports"]} == {"1025", "8025"}
    notification = defined["notification"]
    assert notification["environment"]["SMTP_HOST"] == "mailpit"
    assert notification["environment"]["SMTP_PORT"] == "1025"
    assert notification["depends_on"]["mailpit"]["condition"] == "service_healthy"


def break_compose(change: Callable[[Document], None]) -> Document:
    broken = copy.deepcopy(compose())
    change(broken)
    return broken


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda c: c["services"]["scoring"].__setitem__("container_name", "scoring"), "container_name"),
        (lambda c: c["services"]["mongodb"].pop("healthcheck"), "mongodb: no healthcheck"),
        (lambda c: c["services"]["submission"].pop("restart"), "submission: restart is None"),
        (
            lambda c: c["services"]["scoring"]["depends_on"]["mongodb"].__setitem__("condition", "service_started"),
            "scoring: depends on mongodb with condition 'service_started'",
        ),
        (lambda c: c["services"]["notification"].__setitem__("depends_on", ["rabbitmq"]), "must map"),
        (lambda c: c["services"]["submission"].pop("deploy"), "deploy.replicas is not set"),
        (lambda c: c["services"]["scoring"].__setitem__("ports", ["8082:8082"]), "publishes host ports"),
        (lambda c: c["services"]["scoring"].__setitem__("stop_grace_period", "30s"), "stop_grace_period"),
        (
            lambda c: c["services"]["submission"]["environment"].__setitem__("HTTP_PORT", "9000"),
            "HTTP_PORT is '9000'",
        ),
        (
            lambda c: c["services"]["submission"]["environment"].__setitem__(
                "AMQP_URL", "amqp://inovda-submission:hunter2@rabbitmq:5672/"
            ),
            "AMQP_URL is written in the compose file",
        ),
        (
            lambda c: c["services"]["mongodb"]["environment"].__setitem__("MONGO_INITDB_ROOT_PASSWORD", "hunter2"),
            "MONGO_INITDB_ROOT_PASSWORD is written",
        ),
        (lambda c: c["services"].pop("notification"), "notification: missing"),
        (
            lambda c: c["services"]["rabbitmq"]["depends_on"]["rabbitmq-definitions"].__setitem__(
                "condition", "service_started"
            ),
            "rabbitmq: depends on rabbitmq-definitions without condition service_completed_successfully",
        ),
        (
            lambda c: c["services"]["rabbitmq"].pop("depends_on"),
            "rabbitmq-definitions: runs once, but nothing waits for it",
        ),
        (
            lambda c: c["services"]["rabbitmq-definitions"].__setitem__("restart", "unless-stopped"),
            "rabbitmq-definitions: no healthcheck",
        ),
    ],
)
def test_compose_check_catches_a_broken_file(change: Callable[[Document], None], problem: str) -> None:
    problems = compose_problems(break_compose(change), services(), DRAIN)
    assert any(problem in found for found in problems), problems


def test_durations() -> None:
    assert duration_seconds("45s") == 45
    assert duration_seconds("1m30s") == 90
    assert duration_seconds(45) == 45
    with pytest.raises(ValueError, match="not a duration"):
        duration_seconds("45 seconds")


def test_every_bind_mount_exists_and_is_read_only() -> None:
    for name, service in compose()["services"].items():
        for volume in service.get("volumes") or []:
            source, target, *options = volume.split(":")
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts {source}, which does not exist"
                assert options == ["ro"], f"{name} mounts {source} writable"
                assert target.startswith("/")


def access() -> Document:
    document: Document = json.loads(ACCESS.read_text(encoding="utf-8"))
    return document


def broker_users() -> list[str]:
    return [*access()["services"], *access()["outside_systems"]]


def password_variable(user: str) -> str:
    return "RABBITMQ_PASSWORD_" + user.upper().replace("-", "_")


def volume_mounts(service: Document) -> dict[str, str]:
    return dict(volume.split(":")[:2] for volume in service.get("volumes") or [])


def test_rabbitmq_imports_the_definitions_rendered_before_it_starts() -> None:
    defined = compose()["services"]
    renderer, rabbitmq = defined["rabbitmq-definitions"], defined["rabbitmq"]
    assert rabbitmq["depends_on"]["rabbitmq-definitions"]["condition"] == "service_completed_successfully"
    assert renderer["command"][:2] == ["inovda", "broker-definitions"]
    options = dict(argument.split("=", 1) for argument in renderer["command"][2:])
    assert volume_mounts(renderer)["./deploy/rabbitmq/access.json"] == options["--access"]
    out = Path(options["--out"])
    assert volume_mounts(renderer)["rabbitmq-definitions"] == str(out.parent)
    settings: dict[str, str] = {}
    for line in (COMPOSE_HELPERS / "rabbitmq.conf").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    assert settings["load_definitions"] == f"{volume_mounts(rabbitmq)['rabbitmq-definitions']}/{out.name}"
    assert "rabbitmq-definitions:/etc/rabbitmq/inovda:ro" in rabbitmq["volumes"]
    assert volume_mounts(rabbitmq)["./deploy/compose/rabbitmq.conf"].startswith("/etc/rabbitmq/conf.d/")
    plugins = (COMPOSE_HELPERS / "enabled_plugins").read_text(encoding="utf-8")
    assert re.fullmatch(r"\[[a-z_,]+\]\.\n", plugins), plugins
    assert "rabbitmq_management" in plugins


def test_every_broker_user_gets_its_password_from_env() -> None:
    environment = compose()["services"]["rabbitmq-definitions"]["environment"]
    assert set(environment) == {password_variable(user) for user in broker_users()}
    for name, value in environment.items():
        assert value.startswith(f"${{{name}:?"), f"{name} must be required from .env"


def test_services_connect_as_their_broker_users_and_submission_knows_the_sources_and_their_regions() -> None:
    defined = compose()["services"]
    users = set(access()["services"])
    for name in [spec.name for spec in services()] + ["cli"]:
        url = defined[name]["environment"]["AMQP_URL"]
        user = re.match(r"amqp://([^:]+):\$\{(\w+):\?", url)
        assert user is not None, url
        assert user.group(1) in users
        assert user.group(2) == password_variable(user.group(1))
    source_users = json.loads(defined["submission"]["environment"]["SOURCE_USERS"])
    assert source_users == intake_sources(access())
    source_regions_ = json.loads(defined["submission"]["environment"]["SOURCE_REGIONS"])
    assert source_regions_ == source_regions(access())


def test_rendered_definitions_declare_the_vhost_every_user_and_the_service_queues() -> None:
    """A node that imports definitions at boot creates neither the default vhost nor a default user."""
    from inovda_cli.broker_access import render as render_definitions

    definitions = render_definitions(access(), dict.fromkeys(broker_users(), "x"))
    assert {vhost["name"] for vhost in definitions["vhosts"]} == {"/"}
    assert {user["name"] for user in definitions["users"]} == set(broker_users())
    assert {entry["user"] for entry in definitions["permissions"]} == set(broker_users())
    queues = {queue["name"]: queue for queue in definitions["queues"]}
    for spec in services():
        assert queues[spec.queue]["arguments"]["x-queue-type"] == "quorum"
        assert f"{spec.queue}.dead" in queues


def test_shell_scripts_pass_shellcheck() -> None:
    outcome = tools.shellcheck(*sorted(COMPOSE_HELPERS.glob("*.sh")))
    assert outcome.ok, outcome.output


def test_shellcheck_fails_a_bad_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\nrm -rf $1/*\n")
    assert not tools.shellcheck(bad).ok


MONGO_HARNESS = """
const fs = require("fs");
const vm = require("vm");
const [script, existing] = process.argv.slice(2);
const calls = [];
const database = (name) => ({
  getUser: (user) => (existing.split(",").includes(user) ? { user } : null),
  createUser: (spec) => calls.push(["createUser", name, spec]),
  updateUser: (user, spec) => calls.push(["updateUser", name, user, spec]),
});
const context = { db: { getSiblingDB: database }, print: () => {}, process: { env: process.env } };
try {
  vm.runInNewContext(fs.readFileSync(script, "utf8"), context);
} catch (error) {
  console.log(JSON.stringify({ error: String(error.message) }));
  process.exit(0);
}
console.log(JSON.stringify({ calls }));
"""


def run_mongo_init(tmp_path: Path, environment: dict[str, str], existing: str = "") -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot run deploy/compose/mongo-init.js (mongosh runs it in compose)")
    harness = tmp_path / "harness.js"
    harness.write_text(MONGO_HARNESS)
    result = subprocess.run(
        [node, str(harness), str(COMPOSE_HELPERS / "mongo-init.js"), existing],
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


MONGO_PASSWORDS = {
    "MONGODB_PASSWORD_INOVDA_SUBMISSION": "s-secret",
    "MONGODB_PASSWORD_INOVDA_SCORING": "c-secret",
    "MONGODB_PASSWORD_INOVDA_NOTIFICATION": "n-secret",
    "MONGODB_PASSWORD_INOVDA_PORTAL": "p-secret",
}


def test_mongo_init_creates_one_user_per_service_database(tmp_path: Path) -> None:
    result = run_mongo_init(tmp_path, MONGO_PASSWORDS)
    created = {call[1]: call[2] for call in result["calls"] if call[0] == "createUser"}
    assert created == {
        f"inovda_{spec.name}": {
            "user": f"inovda-{spec.name}",
            "pwd": MONGO_PASSWORDS[f"MONGODB_PASSWORD_INOVDA_{spec.name.upper()}"],
            "roles": [{"role": "readWrite", "db": f"inovda_{spec.name}"}],
        }
        for spec in services()
    }


def test_mongo_init_updates_existing_users(tmp_path: Path) -> None:
    result = run_mongo_init(tmp_path, MONGO_PASSWORDS, existing="inovda-scoring")
    updated = [call for call in result["calls"] if call[0] == "updateUser"]
    assert updated == [
        [
            "updateUser",
            "inovda_scoring",
            "inovda-scoring",
            {"pwd": "c-secret", "roles": [{"role": "readWrite", "db": "inovda_scoring"}]},
        ]
    ]


def test_mongo_init_stops_without_a_password(tmp_path: Path) -> None:
    result = run_mongo_init(tmp_path, {k: v for k, v in MONGO_PASSWORDS.items() if "SCORING" not in k})
    assert result["error"].startswith("MONGODB_PASSWORD_INOVDA_SCORING is not set")


def test_each_service_connects_with_its_own_users() -> None:
    defined = compose()["services"]
    for spec in services():
        environment = defined[spec.name]["environment"]
        assert environment["AMQP_URL"].startswith(
            f"amqp://inovda-{spec.name}:${{RABBITMQ_PASSWORD_INOVDA_{spec.name.upper()}:?"
        )
        assert environment["MONGODB_URL"].startswith(
            f"mongodb://inovda-{spec.name}:${{MONGODB_PASSWORD_INOVDA_{spec.name.upper()}:?"
        )
        assert environment["MONGODB_URL"].endswith(f"?authSource=inovda_{spec.name}")
        assert environment["MONGODB_DATABASE"] == f"inovda_{spec.name}"


def test_example_env_names_every_required_variable_and_holds_no_secret() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?", text))
    example = example_env()
    assert required <= set(example), required - set(example)
    assert interpolated_variables(text) <= set(example), interpolated_variables(text) - set(example)
    assert {name: value for name, value in example.items() if "PASSWORD" in name and value} == {}
    assert {name for name in required if "PASSWORD" in name} == {name for name in example if "PASSWORD" in name}


def test_make_env_writes_random_passwords_and_keeps_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    script = COMPOSE_HELPERS / "make-env.sh"
    subprocess.run(["sh", str(script), str(target)], check=True, capture_output=True, timeout=30)
    written = dict(line.split("=", 1) for line in target.read_text().splitlines() if line and line[0] != "#")
    passwords = {name: value for name, value in written.items() if "_PASSWORD" in name}
    assert passwords.keys() == {name for name in example_env() if "_PASSWORD" in name}
    assert all(re.fullmatch(r"[0-9a-f]{48}", value) for value in passwords.values())
    assert len(set(passwords.values())) == len(passwords)
    assert target.stat().st_mode & 0o077 == 0
    again = subprocess.run(["sh", str(script), str(target)], capture_output=True, timeout=30, check=False)
    assert again.returncode != 0


def test_dot_env_is_not_committed() -> None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        [git, "ls-files", "--", ".env", "*.env"], cwd=REPO, capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    assert [path for path in tracked if Path(path).name == ".env"] == []
