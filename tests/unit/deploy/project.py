"""What the code says the deployment artefacts must agree with: each service's console script (its
`pyproject.toml`), HTTP port (its settings), queue (the shared topology) and the drain time on SIGTERM."""

import functools
import importlib
import tomllib
from pathlib import Path

from inovda_shared.runtime import DRAIN_SECONDS
from inovda_shared.settings import ServiceSettings
from inovda_shared.topology import SERVICE_QUEUES

from .checks import ServiceSpec

REPO = Path(__file__).resolve().parents[3]
SERVICE_NAMES = ("submission", "scoring", "notification", "portal")
DOCKER = REPO / "deploy" / "docker"
COMPOSE_FILE = REPO / "docker-compose.yml"
COMPOSE_HELPERS = REPO / "deploy" / "compose"
K8S = REPO / "deploy" / "k8s"
DRAIN = DRAIN_SECONDS


def console_script(service: str) -> str:
    pyproject = tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text(encoding="utf-8"))
    scripts: list[str] = list(pyproject["project"]["scripts"])
    if len(scripts) != 1:
        raise AssertionError(f"services/{service} declares {scripts} as console scripts; expected exactly one")
    return scripts[0]


def http_port(service: str) -> int:
    module = importlib.import_module(f"inovda_{service}.settings")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value is not ServiceSettings
    ]
    if len(classes) != 1:
        raise AssertionError(f"inovda_{service}.settings defines {classes}; expected one settings class")
    default = classes[0].model_fields["http_port"].default
    if not isinstance(default, int):
        raise AssertionError(f"inovda_{service}.settings has no default HTTP port")
    return default


def queue(service: str) -> str:
    names = [spec.name for spec in SERVICE_QUEUES if spec.name.split(".", 1)[0] == service]
    if len(names) != 1:
        raise AssertionError(f"the topology has {names} for {service}; expected one queue")
    return names[0]


@functools.cache
def services() -> tuple[ServiceSpec, ...]:
    return tuple(ServiceSpec(name, console_script(name), http_port(name), queue(name)) for name in SERVICE_NAMES)


def service(name: str) -> ServiceSpec:
    return next(spec for spec in services() if spec.name == name)
