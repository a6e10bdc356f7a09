"""docker-compose.local.yml: the override of docker-compose.yml for a Docker host without a registry (the
images `make images` builds). It uses compose's `!override` / `!reset` tags, which the compose-spec schema
tools cannot parse, so it is checked here as YAML with those tags read as plain values, and, where the docker
compose plugin is installed, merged with docker-compose.yml by compose itself and the result validated
against the Compose Specification."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import tools
from .checks import scalable_port
from .project import COMPOSE_FILE, COMPOSE_HELPERS, REPO, services
from .test_compose import example_env, interpolated_variables

LOCAL_FILE = REPO / "docker-compose.local.yml"


class TaggedLoader(yaml.SafeLoader):
    """Reads `!override X` and `!reset X` as X, noting which keys carried which tag."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return {"__tag__": suffix, "value": loader.construct_mapping(node, deep=True)}
    if isinstance(node, yaml.SequenceNode):
        return {"__tag__": suffix, "value": loader.construct_sequence(node, deep=True)}
    return {"__tag__": suffix, "value": loader.construct_scalar(node)}  # type: ignore[arg-type]


TaggedLoader.add_multi_constructor("!", _tagged)


def local() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(LOCAL_FILE.read_text(encoding="utf-8"), Loader=TaggedLoader)
    return document


def plain(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and "__tag__" in value else value


def test_every_image_is_a_local_one_and_never_pulled() -> None:
    base = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]
    override = local()["services"]
    for name, service in base.items():
        if name in override and "profiles" in override[name] and "image" not in override[name]:
            continue  # not started here
        merged = {**service, **override.get(name, {})}
        assert merged.get("pull_policy") == "never", f"{name} may be pulled"
        assert str(merged["image"]).startswith("${INOVDA_IMAGE_PREFIX:-inovda}-"), f"{name}: {merged['image']}"
    for name, service in override.items():
        if name not in base:
            assert service.get("pull_policy") == "never", name


def test_mailpit_is_replaced_by_the_local_smtp_sink() -> None:
    override = local()["services"]
    assert override["mailpit"]["profiles"], "Mailpit's image comes from a registry: not started here"
    notification = override["notification"]
    depends = plain(notification["depends_on"])
    assert notification["depends_on"]["__tag__"] == "override", "depends_on must replace the one on mailpit"
    assert set(depends) == {"rabbitmq", "mongodb", "mailsink"}
    assert all(condition == {"condition": "service_healthy"} for condition in depends.values())
    assert notification["environment"]["SMTP_HOST"] == "mailsink"
    assert override["mailsink"]["healthcheck"]["test"]


def test_every_published_port_is_on_loopback_and_configurable() -> None:
    override = local()["services"]
    published = [port for service in override.values() for port in plain(service.get("ports") or [])]
    assert published
    for port in published:
        # One port, or (the portal's, which scales) a range of them.
        assert re.fullmatch(r"127\.0\.0\.1:\$\{LOCAL_[A-Z_]+_PORTS?:-4\d{4}(-4\d{4})?\}:\d+", port), port
    for name in ("rabbitmq", "mongodb"):
        assert override[name]["ports"]["__tag__"] == "override", f"{name}'s ports replace docker-compose.yml's"


def test_the_infrastructure_runs_read_only_and_unprivileged() -> None:
    override = local()["services"]
    for name in ("rabbitmq", "mongodb", "mailsink"):
        service = override[name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


def test_the_services_reach_ferretdb_without_credentials_and_otherwise_keep_their_settings() -> None:
    override = local()["services"]
    for spec in services():
        environment = override[spec.name].get("environment") or {}
        assert environment.get("MONGODB_URL") == "mongodb://mongodb:27017/", spec.name
        assert not {"AMQP_URL", "HTTP_PORT", "MONGODB_DATABASE"} & set(environment), spec.name
        ports = override[spec.name].get("ports") or {}
        published = ports.get("value", []) if isinstance(ports, dict) else ports  # `!override` keeps its list
        assert all(scalable_port(port) for port in published), f"{spec.name} must stay scalable"


def test_example_env_names_every_variable_of_the_override() -> None:
    text = LOCAL_FILE.read_text(encoding="utf-8")
    assert interpolated_variables(text) <= set(example_env()), interpolated_variables(text) - set(example_env())


def compose_plugin() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    found = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30, check=False)
    return docker if found.returncode == 0 else None


def test_compose_merges_the_override_into_a_valid_file(tmp_path: Path) -> None:
    docker = compose_plugin()
    if docker is None:
        pytest.skip("the docker compose plugin is not installed (scripts/docker-engine.sh install)")
    env_file = tmp_path / "test.env"
    subprocess.run(["sh", str(COMPOSE_HELPERS / "make-env.sh"), str(env_file)], check=True, capture_output=True)
    merged = subprocess.run(
        [docker, "compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "-f", str(LOCAL_FILE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert merged.returncode == 0, merged.stderr
    path = tmp_path / "merged.yml"
    path.write_text(merged.stdout)
    outcome = tools.check_compose(path)
    assert outcome.ok, outcome.output
    document = yaml.safe_load(merged.stdout)["services"]
    assert "mailpit" not in document
    assert set(document["notification"]["depends_on"]) == {"rabbitmq", "mongodb", "mailsink"}
    # The broker (AMQP, AMQPS, Prometheus), FerretDB, the SMTP sink and the portal.
    assert [port["host_ip"] for s in document.values() for port in s.get("ports") or []] == ["127.0.0.1"] * 6
    assert not document["mongodb"].get("environment"), "mongo's root and user passwords mean nothing to FerretDB"


def test_the_container_scripts_pass_shellcheck() -> None:
    scripts = [REPO / "scripts" / name for name in ("images.sh", "docker-engine.sh", "compose.sh")]
    outcome = tools.shellcheck(*scripts, shell="bash")
    assert outcome.ok, outcome.output
