"""Checks of the deployment artefacts: each returns the problems it finds, as sentences (empty: all good).

They are plain functions over parsed files so that the tests can run them on the real artefacts and on
deliberately broken copies (a check that cannot fail proves nothing).
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Document = dict[str, Any]

FINAL_BASE_IMAGE = "python:3.11-slim"
# Commands that must not run in the final image: package managers, compilers, downloaders.
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|pip|pip3|gcc|cc|make|build-essential|curl|wget|git)\b")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|AMQP_URL|MONGODB_URL)", re.IGNORECASE)


@dataclass(frozen=True)
class ServiceSpec:
    """What the code says about one service: its console script, HTTP port and queue."""

    name: str
    script: str
    port: int
    queue: str


# Dockerfiles ---------------------------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


def logical_lines(text: str) -> list[str]:
    """Dockerfile lines with continuations joined and comments dropped (as the builder reads them)."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip():
            lines.append(current.strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def parse_dockerfile(text: str) -> list[Stage]:
    """The build stages, with `FROM ${ARG}` resolved from the ARG defaults declared before the first FROM."""
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            words = [word for word in rest.split() if not word.startswith("--")]
            base = re.sub(r"\$\{?(\w+)\}?", lambda match: arguments.get(match.group(1), match.group(0)), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        elif keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            arguments[name.strip()] = default.strip()
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, rest))
    return stages


def _exec_form(arguments: str) -> list[str] | None:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(item, str) for item in value) else None


def _env_names(instruction: Instruction) -> list[str]:
    if "=" not in instruction.arguments.split(" ", 1)[0]:
        return [instruction.arguments.split(" ", 1)[0]]  # legacy `ENV NAME value`
    return re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", instruction.arguments)


def dockerfile_problems(text: str, service: ServiceSpec, tool: bool = False) -> list[str]:
    """`tool`: an image that runs a command once (the CLI), so no port, health check or stop signal."""
    problems: list[str] = []
    stages = parse_dockerfile(text)
    if len(stages) < 2:
        return ["not a multi-stage build (a builder stage and a final stage)"]
    final = stages[-1]
    builders = {stage.name for stage in stages[:-1] if stage.name}
    if final.base.split("@", 1)[0] != FINAL_BASE_IMAGE:
        problems.append(f"final stage is FROM {final.base}, not {FINAL_BASE_IMAGE}")
    copies_from_builder = [
        instruction
        for instruction in final.all("COPY")
        if any(instruction.arguments.startswith(f"--from={name} ") for name in builders)
    ]
    if not copies_from_builder:
        problems.append("final stage copies nothing from a builder stage")
    for instruction in final.all("RUN"):
        found = BUILD_TOOLS.search(instruction.arguments)
        if found:
            problems.append(f"final stage runs a build tool ({found.group(1)}): RUN {instruction.arguments}")
    for instruction in final.all("COPY") + final.all("ADD"):
        if "--from=" not in instruction.arguments:
            problems.append(f"final stage copies from the build context: {instruction.keyword} {instruction.arguments}")
    for stage in stages:
        for instruction in stage.all("ENV") + stage.all("ARG"):
            for name in _env_names(instruction):
                if SECRET_NAME.search(name):
                    problems.append(f"{name} is set in the image: secrets come from the environment at run time")
        for instruction in stage.all("COPY") + stage.all("ADD"):
            if ".env" in instruction.arguments.split():
                problems.append("the image copies .env")
    user = final.last("USER")
    if user is None:
        problems.append("no USER in the final stage: the process would run as root")
    elif user.arguments.split(":", 1)[0] in ("", "root", "0"):
        problems.append(f"USER {user.arguments} is root")
    if final.all("ENTRYPOINT"):
        problems.append("the final stage sets an ENTRYPOINT; the console script must be the whole command")
    last_command = final.last("CMD")
    command = _exec_form(last_command.arguments) if last_command else None
    if tool:
        if not command or command[0] != service.script:
            problems.append(f"CMD does not run {service.script!r} in exec form")
        return problems
    if command != [service.script]:
        problems.append(f"CMD is not [{service.script!r}] in exec form")
    healthcheck = final.last("HEALTHCHECK")
    if healthcheck is None or healthcheck.arguments.upper() == "NONE":
        problems.append("no HEALTHCHECK in the final stage")
    else:
        if "/health/live" not in healthcheck.arguments:
            problems.append("HEALTHCHECK does not ask /health/live")
        if str(service.port) not in healthcheck.arguments:
            problems.append(f"HEALTHCHECK does not use the service's port {service.port}")
        if re.search(r"\b(curl|wget)\b", healthcheck.arguments):
            problems.append("HEALTHCHECK uses curl or wget, which python:3.11-slim does not have")
    stop_signal = final.last("STOPSIGNAL")
    if stop_signal is None or stop_signal.arguments != "SIGTERM":
        problems.append("STOPSIGNAL is not SIGTERM")
    exposed = {port.split("/", 1)[0] for expose in final.all("EXPOSE") for port in expose.arguments.split()}
    if str(service.port) not in exposed:
        problems.append(f"port {service.port} is not EXPOSEd")
    return problems


# docker compose ------------------------------------------------------------------------------------------


def duration_seconds(value: str | int | float) -> float:
    """A compose duration (`45s`, `1m30s`, `500ms`) in seconds."""
    if isinstance(value, int | float):
        return float(value)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"not a duration: {value!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


def _healthcheck_text(service: Mapping[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    return " ".join(test) if isinstance(test, list) else str(test or "")


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(entry.split("=", 1) if "=" in entry else (entry, "") for entry in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def one_shot_services(compose: Document) -> set[str]:
    """Services that run once and exit (`restart: "no"`): a step others wait for, or a tool behind a profile."""
    defined: Mapping[str, Any] = compose.get("services") or {}
    return {name for name, service in defined.items() if service.get("restart") == "no"}


def _awaited(compose: Document) -> set[str]:
    return {
        dependency
        for service in (compose.get("services") or {}).values()
        if isinstance(service.get("depends_on"), Mapping)
        for dependency, condition in service["depends_on"].items()
        if (condition or {}).get("condition") == "service_completed_successfully"
    }


def compose_problems(compose: Document, services: Iterable[ServiceSpec], drain_seconds: float) -> list[str]:
    problems: list[str] = []
    defined: Mapping[str, Any] = compose.get("services") or {}
    for name, service in defined.items():
        if "container_name" in service:
            problems.append(f"{name}: container_name prevents `docker compose up --scale`")
        if name in one_shot_services(compose):
            if name not in _awaited(compose) and not service.get("profiles"):
                problems.append(f"{name}: runs once, but nothing waits for it and it is not a tool (profiles)")
        else:
            if service.get("restart") != "unless-stopped":
                problems.append(f"{name}: restart is {service.get('restart')!r}, not 'unless-stopped'")
            healthcheck = service.get("healthcheck") or {}
            if not healthcheck.get("test") or healthcheck.get("disable"):
                problems.append(f"{name}: no healthcheck")
        depends_on = service.get("depends_on") or {}
        for dependency, condition in depends_on.items() if isinstance(depends_on, Mapping) else []:
            wanted = "service_completed_successfully" if dependency in one_shot_services(compose) else "service_healthy"
            if (condition or {}).get("condition") != wanted:
                problems.append(f"{name}: depends on {dependency} without condition {wanted}")
        for key, value in _environment(service).items():
            secret_like = SECRET_NAME.search(key) or re.search(r"://[^/\s]*:[^/\s]*@", value)
            if secret_like and value and "${" not in value:
                problems.append(f"{name}: {key} is written in the compose file; secrets come from .env")
    for spec in services:
        service = defined.get(spec.name)
        if service is None:
            problems.append(f"{spec.name}: missing")
            continue
        depends_on = service.get("depends_on")
        if not isinstance(depends_on, Mapping):
            problems.append(f"{spec.name}: depends_on must map each dependency to a condition")
        else:
            for dependency in ("rabbitmq", "mongodb"):
                condition = (depends_on.get(dependency) or {}).get("condition")
                if condition != "service_healthy":
                    problems.append(f"{spec.name}: depends on {dependency} with condition {condition!r}")
        replicas = (service.get("deploy") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 1:
            problems.append(f"{spec.name}: deploy.replicas is not set")
        if not all(scalable_port(port) for port in service.get("ports") or []):
            problems.append(f"{spec.name}: publishes host ports, which clash when it is scaled")
        dockerfile = (service.get("build") or {}).get("dockerfile")
        if dockerfile != f"deploy/docker/{spec.name}.Dockerfile":
            problems.append(f"{spec.name}: built from {dockerfile!r}")
        if service.get("command") not in (None, [spec.script], spec.script):
            problems.append(f"{spec.name}: command overrides the console script")
        environment = _environment(service)
        if environment.get("HTTP_PORT") != str(spec.port):
            problems.append(f"{spec.name}: HTTP_PORT is {environment.get('HTTP_PORT')!r}, not {spec.port}")
        for variable in ("AMQP_URL", "MONGODB_URL", "MONGODB_DATABASE"):
            if not environment.get(variable):
                problems.append(f"{spec.name}: {variable} is not set")
        if f":{spec.port}/health/" not in _healthcheck_text(service):
            problems.append(f"{spec.name}: the healthcheck does not ask the service's port {spec.port}")
        grace = service.get("stop_grace_period")
        if grace is None or duration_seconds(grace) <= drain_seconds:
            problems.append(
                f"{spec.name}: stop_grace_period {grace!r} is not longer than the {drain_seconds:g} s drain"
            )
        if service.get("stop_signal", "SIGTERM") != "SIGTERM":
            problems.append(f"{spec.name}: stop_signal is not SIGTERM")
    return problems


# Kubernetes ----------------------------------------------------------------------------------------------

WORKLOAD_KINDS = ("Deployment",)


def by_kind(documents: Iterable[Document], kind: str) -> dict[str, Document]:
    return {document["metadata"]["name"]: document for document in documents if document.get("kind") == kind}


def _probe_path(container: Mapping[str, Any], probe: str) -> tuple[str | None, Any]:
    http_get = (container.get(probe) or {}).get("httpGet") or {}
    return http_get.get("path"), http_get.get("port")


def deployment_problems(deployment: Document, spec: ServiceSpec, drain_seconds: float) -> list[str]:
    name = deployment["metadata"]["name"]
    problems: list[str] = []
    pod = deployment["spec"]["template"]["spec"]
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if not grace > drain_seconds:
        problems.append(
            f"{name}: terminationGracePeriodSeconds {grace} is not longer than the {drain_seconds:g} s drain"
        )
    if "replicas" in deployment["spec"]:
        problems.append(f"{name}: spec.replicas is set, but its ScaledObject owns the replica count")
    pod_security = pod.get("securityContext") or {}
    if pod_security.get("runAsNonRoot") is not True or pod_security.get("runAsUser") == 0:
        problems.append(f"{name}: the pod may run as root (securityContext.runAsNonRoot)")
    containers = pod.get("containers") or []
    if len(containers) != 1:
        return [*problems, f"{name}: expected one container, found {len(containers)}"]
    container = containers[0]
    image = str(container.get("image", ""))
    if f"inovda-{spec.name}" not in image.rsplit("/", 1)[-1]:
        problems.append(f"{name}: image {image!r} is not inovda-{spec.name}")
    if container.get("command") or container.get("args"):
        problems.append(f"{name}: command/args override the image's console script")
    ports = {port.get("name"): port.get("containerPort") for port in container.get("ports") or []}
    port_names = [port_name for port_name, number in ports.items() if number == spec.port and port_name]
    if not port_names:
        problems.append(f"{name}: no named container port {spec.port}")
    env = {entry["name"]: entry for entry in container.get("env") or []}
    if (env.get("HTTP_PORT") or {}).get("value") != str(spec.port):
        problems.append(f"{name}: HTTP_PORT is not {spec.port}")
    for variable in ("AMQP_URL", "MONGODB_URL"):
        if "secretKeyRef" not in ((env.get(variable) or {}).get("valueFrom") or {}):
            problems.append(f"{name}: {variable} does not come from a Secret (secretKeyRef)")
    if not any("configMapRef" in source for source in container.get("envFrom") or []):
        problems.append(f"{name}: no environment from a ConfigMap")
    for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")):
        probe_path, probe_port = _probe_path(container, probe)
        if probe_path != path:
            problems.append(f"{name}: {probe} asks {probe_path!r}, not {path}")
        if probe_port not in (*port_names, spec.port):
            problems.append(f"{name}: {probe} asks port {probe_port!r}, not the service's port")
    resources = container.get("resources") or {}
    for bound in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if not (resources.get(bound) or {}).get(resource):
                problems.append(f"{name}: no {resource} {bound}")
    security = container.get("securityContext") or {}
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{name}: root filesystem is writable (readOnlyRootFilesystem)")
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{name}: allowPrivilegeEscalation is not false")
    return problems


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    match = selector.get("matchLabels", selector) or {}
    return bool(match) and all(labels.get(key) == value for key, value in match.items())


def selector_problems(documents: list[Document]) -> list[str]:
    """Every Service and PodDisruptionBudget selects the pods of exactly one Deployment, and vice versa."""
    problems: list[str] = []
    deployments = by_kind(documents, "Deployment")
    pod_labels = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments.items()}
    for kind in ("Service", "PodDisruptionBudget"):
        selected: dict[str, list[str]] = {name: [] for name in deployments}
        for name, document in by_kind(documents, kind).items():
            selector = document["spec"].get("selector") or {}
            matches = [deployment for deployment, labels in pod_labels.items() if _selects(selector, labels)]
            if len(matches) != 1:
                problems.append(f"{kind} {name} selects the pods of {matches or 'no Deployment'}")
            for deployment in matches:
                selected[deployment].append(name)
            if kind == "PodDisruptionBudget" and document["spec"].get("minAvailable") != 1:
                problems.append(f"PodDisruptionBudget {name}: minAvailable is not 1")
        for deployment, names in selected.items():
            if len(names) != 1:
                problems.append(f"Deployment {deployment} has {len(names)} {kind}(s)")
    for service_name, service in by_kind(documents, "Service").items():
        targets = [d for d, labels in pod_labels.items() if _selects(service["spec"]["selector"], labels)]
        if len(targets) != 1:
            continue
        container = deployments[targets[0]]["spec"]["template"]["spec"]["containers"][0]
        container_ports: set[Any] = set()
        for port in container.get("ports") or []:
            container_ports |= {port.get("name"), port.get("containerPort")}
        for port in service["spec"].get("ports") or []:
            if port.get("targetPort") not in container_ports:
                problems.append(
                    f"Service {service_name}: targetPort {port.get('targetPort')!r} is not a container port"
                )
    return problems


def keda_problems(documents: list[Document], queue_of_deployment: Mapping[str, str]) -> list[str]:
    """The ScaledObjects: one per Deployment, scaling on its own RabbitMQ queue, authenticated by a
    TriggerAuthentication of the same manifests."""
    problems: list[str] = []
    deployments = by_kind(documents, "Deployment")
    authentications = by_kind(documents, "TriggerAuthentication")
    scaled: dict[str, list[str]] = {name: [] for name in deployments}
    for name, document in by_kind(documents, "ScaledObject").items():
        if document.get("apiVersion") != "keda.sh/v1alpha1":
            problems.append(f"ScaledObject {name}: apiVersion is {document.get('apiVersion')!r}")
        spec = document.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        target_name = target.get("name")
        if target.get("kind", "Deployment") != "Deployment" or target_name not in deployments:
            problems.append(f"ScaledObject {name}: scaleTargetRef {target_name!r} is not a Deployment here")
        else:
            scaled[target_name].append(name)
        minimum, maximum = spec.get("minReplicaCount"), spec.get("maxReplicaCount")
        if not isinstance(minimum, int) or minimum < 1:
            problems.append(f"ScaledObject {name}: minReplicaCount {minimum!r} is not at least 1")
        if not isinstance(maximum, int) or (isinstance(minimum, int) and maximum < minimum):
            problems.append(f"ScaledObject {name}: maxReplicaCount {maximum!r} is not at least minReplicaCount")
        triggers = spec.get("triggers") or []
        if not triggers:
            problems.append(f"ScaledObject {name}: no trigger")
            continue
        trigger = triggers[0]
        metadata = trigger.get("metadata") or {}
        if trigger.get("type") != "rabbitmq":
            problems.append(f"ScaledObject {name}: trigger type {trigger.get('type')!r} is not rabbitmq")
        if metadata.get("mode") != "QueueLength":
            problems.append(f"ScaledObject {name}: mode {metadata.get('mode')!r} is not QueueLength")
        value = metadata.get("value")
        if not isinstance(value, str) or not value.isdigit() or int(value) < 1:
            problems.append(f"ScaledObject {name}: value {value!r} is not a positive number in a string")
        queue = metadata.get("queueName")
        if queue not in set(queue_of_deployment.values()):
            problems.append(f"ScaledObject {name}: queueName {queue!r} is not a service queue")
        elif isinstance(target_name, str) and queue != queue_of_deployment.get(target_name, queue):
            problems.append(f"ScaledObject {name}: scales {target_name} on another service's queue {queue!r}")
        if "host" in metadata or "hostFromEnv" in metadata:
            problems.append(f"ScaledObject {name}: the broker address belongs in the TriggerAuthentication")
        reference = trigger.get("authenticationRef") or {}
        if reference.get("kind", "TriggerAuthentication") != "TriggerAuthentication":
            problems.append(f"ScaledObject {name}: authenticationRef is not a TriggerAuthentication")
        elif reference.get("name") not in authentications:
            problems.append(f"ScaledObject {name}: authenticationRef {reference.get('name')!r} is not defined here")
        else:
            parameters = {
                entry.get("parameter")
                for entry in (authentications[reference["name"]].get("spec") or {}).get("secretTargetRef") or []
            }
            if "host" not in parameters:
                problems.append(f"TriggerAuthentication {reference['name']}: no `host` from a Secret")
    for deployment, names in scaled.items():
        if len(names) != 1:
            problems.append(f"Deployment {deployment} is scaled by {len(names)} ScaledObjects")
    return problems


_DEFAULTED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}")


def scalable_port(port: object) -> bool:
    """A port a scaled service may publish: on 127.0.0.1 only, from a range of host ports (each replica takes
    one of them), as the portal's pages are published."""
    if not isinstance(port, str):
        return False
    host, _, rest = _DEFAULTED.sub(lambda match: match.group(1), port).partition(":")
    first, _, last = rest.rpartition(":")[0].partition("-")
    return host == "127.0.0.1" and first.isdigit() and last.isdigit() and int(last) > int(first)
