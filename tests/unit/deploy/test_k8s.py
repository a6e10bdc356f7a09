"""deploy/k8s: the kustomize base (per service a ConfigMap, Deployment, Service, PodDisruptionBudget and KEDA
ScaledObject; one TriggerAuthentication) and the example overlay, rendered and validated offline."""

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from inovda_cli.broker_access import intake_sources, source_regions

from . import render, tools
from .checks import Document, by_kind, deployment_problems, keda_problems, parse_dockerfile, selector_problems
from .project import DRAIN, K8S, REPO, services

BASE = K8S / "base"
OVERLAY = K8S / "overlays" / "example"
# The oldest Kubernetes the manifests are meant for (PodDisruptionBudget.unhealthyPodEvictionPolicy is GA
# from 1.31), and the newest schema kubernetes-validate bundles.
KUBERNETES_VERSIONS = ["1.31.0", "1.37.0"]
TREES = [pytest.param(BASE, id="base"), pytest.param(OVERLAY, id="overlay-example")]


@functools.cache
def _rendered(tree: Path) -> tuple[Document, ...]:
    return tuple(render.render(tree))


def rendered(tree: Path) -> list[Document]:
    """The manifests of a tree (rendered once per test run; each caller gets its own copy)."""
    return copy.deepcopy(list(_rendered(tree)))


def core(documents: list[Document]) -> list[Document]:
    return [document for document in documents if document["kind"] not in tools.KEDA_KINDS]


def keda(documents: list[Document]) -> list[Document]:
    return [document for document in documents if document["kind"] in tools.KEDA_KINDS]


def queue_of_deployment() -> dict[str, str]:
    return {f"inovda-{spec.name}": spec.queue for spec in services()}


def deployment_of(documents: list[Document], name: str) -> Document:
    return by_kind(documents, "Deployment")[f"inovda-{name}"]


@pytest.mark.parametrize("tree", TREES)
def test_renders_every_kind_once_per_service(tree: Path) -> None:
    documents = rendered(tree)
    for kind in ("ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "ScaledObject"):
        assert sorted(by_kind(documents, kind)) == sorted(f"inovda-{spec.name}" for spec in services()), kind
    assert list(by_kind(documents, "TriggerAuthentication")) == ["inovda-rabbitmq"]
    assert not by_kind(documents, "Secret"), "Secrets are created per cluster, never committed"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("tree", TREES)
def test_kubernetes_validate_passes(tree: Path, version: str) -> None:
    outcome = tools.kubernetes_validate(core(rendered(tree)), version)
    assert outcome.ok, outcome.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["spec"]["template"]["spec"].__setitem__("terminationGracePeriodSeconds", "45"), "is not of type"),
        (lambda d: d["spec"]["template"]["spec"].__setitem__("terminationGracePeriod", 45), "terminationGracePeriod"),
        (lambda d: d.__setitem__("apiVersion", "app/v1"), "Couldn't find schema"),
    ],
)
def test_kubernetes_validate_fails_a_broken_deployment(change: Callable[[Document], None], message: str) -> None:
    deployment = copy.deepcopy(deployment_of(rendered(BASE), "submission"))
    change(deployment)
    outcome = tools.kubernetes_validate([deployment], KUBERNETES_VERSIONS[-1])
    assert not outcome.ok
    assert message in outcome.output


@pytest.mark.parametrize("tree", TREES)
def test_keda_objects_match_kedas_published_schema(tree: Path) -> None:
    assert [error for document in keda(rendered(tree)) for error in tools.keda_schema_errors(document)] == []


def test_keda_schema_fails_a_broken_scaled_object() -> None:
    scaled = copy.deepcopy(by_kind(rendered(BASE), "ScaledObject")["inovda-scoring"])
    scaled["spec"]["maxReplicas"] = 5  # a misspelt field
    scaled["spec"]["minReplicaCount"] = "1"
    scaled["spec"]["triggers"][0]["metadata"]["value"] = 100
    errors = "\n".join(tools.keda_schema_errors(scaled))
    assert "'maxReplicas' was unexpected" in errors
    assert "minReplicaCount" in errors
    assert "100 is not of type 'string'" in errors


@pytest.mark.parametrize("tree", TREES)
def test_scaled_objects_scale_each_deployment_on_its_own_queue(tree: Path) -> None:
    assert keda_problems(rendered(tree), queue_of_deployment()) == []


def break_scaled_object(change: Callable[[Document], None]) -> list[Document]:
    documents = copy.deepcopy(rendered(BASE))
    change(by_kind(documents, "ScaledObject")["inovda-scoring"])
    return documents


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: s["spec"]["scaleTargetRef"].__setitem__("name", "inovda-scorer"), "is not a Deployment here"),
        (lambda s: s["spec"]["triggers"][0].__setitem__("type", "rabbitMQ"), "is not rabbitmq"),
        (lambda s: s["spec"]["triggers"][0]["metadata"].__setitem__("queueName", "scoring"), "not a service queue"),
        (
            lambda s: s["spec"]["triggers"][0]["metadata"].__setitem__("queueName", "submission.intake"),
            "another service's queue",
        ),
        (lambda s: s["spec"]["triggers"][0]["metadata"].__setitem__("mode", "MessageRate"), "is not QueueLength"),
        (lambda s: s["spec"].__setitem__("minReplicaCount", 0), "minReplicaCount 0 is not at least 1"),
        (lambda s: s["spec"].__setitem__("maxReplicaCount", 0), "maxReplicaCount 0"),
        (lambda s: s["spec"]["triggers"][0].pop("authenticationRef"), "authenticationRef None is not defined"),
        (
            lambda s: s["spec"]["triggers"][0]["authenticationRef"].__setitem__("name", "rabbitmq"),
            "authenticationRef 'rabbitmq' is not defined",
        ),
        (
            lambda s: s["spec"]["triggers"][0]["metadata"].__setitem__("host", "amqp://keda:pw@rabbitmq/"),
            "belongs in the TriggerAuthentication",
        ),
        (lambda s: s.__setitem__("apiVersion", "keda.k8s.io/v1alpha1"), "apiVersion"),
    ],
)
def test_keda_check_catches_a_broken_scaled_object(change: Callable[[Document], None], problem: str) -> None:
    problems = keda_problems(break_scaled_object(change), queue_of_deployment())
    assert any(problem in found for found in problems), problems


@pytest.mark.parametrize("tree", TREES)
@pytest.mark.parametrize("spec", [pytest.param(spec, id=spec.name) for spec in services()])
def test_deployment_probes_resources_security_and_drain(tree: Path, spec: object) -> None:
    from .checks import ServiceSpec

    assert isinstance(spec, ServiceSpec)
    assert deployment_problems(deployment_of(rendered(tree), spec.name), spec, DRAIN) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda pod, container: pod.__setitem__("terminationGracePeriodSeconds", 30), "not longer than the 30 s drain"),
        (lambda pod, container: pod.pop("terminationGracePeriodSeconds"), "terminationGracePeriodSeconds 30"),
        (
            lambda pod, container: container["readinessProbe"]["httpGet"].__setitem__("path", "/health/live"),
            "readinessProbe",
        ),
        (lambda pod, container: container.pop("livenessProbe"), "livenessProbe asks None"),
        (lambda pod, container: container["resources"].pop("limits"), "no cpu limits"),
        (lambda pod, container: container["securityContext"].pop("readOnlyRootFilesystem"), "readOnlyRootFilesystem"),
        (lambda pod, container: pod["securityContext"].__setitem__("runAsNonRoot", False), "may run as root"),
        (
            lambda pod, container: container["ports"][0].__setitem__("containerPort", 8080),
            "no named container port 8082",
        ),
        (lambda pod, container: container.__setitem__("command", ["python", "-m", "x"]), "override"),
        (
            lambda pod, container: container["env"].__setitem__(
                next(i for i, e in enumerate(container["env"]) if e["name"] == "AMQP_URL"),
                {"name": "AMQP_URL", "value": "amqp://scoring:hunter2@rabbitmq/"},
            ),
            "AMQP_URL does not come from a Secret",
        ),
        (lambda pod, container: container.pop("envFrom"), "no environment from a ConfigMap"),
    ],
)
def test_deployment_check_catches_a_broken_deployment(
    change: Callable[[Document, Document], None], problem: str
) -> None:
    spec = next(spec for spec in services() if spec.name == "scoring")
    deployment = copy.deepcopy(deployment_of(rendered(BASE), "scoring"))
    pod = deployment["spec"]["template"]["spec"]
    change(pod, pod["containers"][0])
    problems = deployment_problems(deployment, spec, DRAIN)
    assert any(problem in found for found in problems), problems


def test_every_deployment_drains_longer_than_the_services() -> None:
    for tree in (BASE, OVERLAY):
        for name, deployment in by_kind(rendered(tree), "Deployment").items():
            assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > DRAIN, name


@pytest.mark.parametrize("tree", TREES)
def test_services_and_budgets_select_their_deployment(tree: Path) -> None:
    assert selector_problems(rendered(tree)) == []


def test_selector_check_catches_a_service_that_selects_nothing() -> None:
    documents = copy.deepcopy(rendered(BASE))
    by_kind(documents, "Service")["inovda-scoring"]["spec"]["selector"] = {"app.kubernetes.io/name": "scoring"}
    by_kind(documents, "PodDisruptionBudget")["inovda-notification"]["spec"]["minAvailable"] = 0
    problems = selector_problems(documents)
    assert "Service inovda-scoring selects the pods of no Deployment" in problems
    assert "Deployment inovda-scoring has 0 Service(s)" in problems
    assert "PodDisruptionBudget inovda-notification: minAvailable is not 1" in problems


def test_config_maps_and_secrets_referenced_by_the_deployments() -> None:
    documents = rendered(BASE)
    config_maps = by_kind(documents, "ConfigMap")
    for spec in services():
        container = deployment_of(documents, spec.name)["spec"]["template"]["spec"]["containers"][0]
        for source in container["envFrom"]:
            assert source["configMapRef"]["name"] in config_maps
        assert config_maps[f"inovda-{spec.name}"]["data"]["MONGODB_DATABASE"] == f"inovda_{spec.name}"
        secrets = {
            entry["valueFrom"]["secretKeyRef"]["name"]
            for entry in container["env"]
            if "secretKeyRef" in entry.get("valueFrom", {})
        }
        assert secrets == {f"inovda-{spec.name}-credentials"}
        assert "HTTP_PORT" not in config_maps[f"inovda-{spec.name}"]["data"], "the port is fixed with the probes"


def test_overlay_sets_namespace_images_and_replica_bounds() -> None:
    base, overlay = rendered(BASE), rendered(OVERLAY)
    namespaces = by_kind(overlay, "Namespace")
    assert list(namespaces) == ["inovda-example"]
    assert {d["metadata"].get("namespace") for d in overlay if d["kind"] != "Namespace"} == {"inovda-example"}
    for spec in services():
        image = deployment_of(overlay, spec.name)["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == f"registry.example.com/inovda/inovda-{spec.name}:0.1.0"
    bounds = {
        name: (s["spec"]["minReplicaCount"], s["spec"]["maxReplicaCount"])
        for name, s in by_kind(overlay, "ScaledObject").items()
    }
    base_bounds = {
        name: (s["spec"]["minReplicaCount"], s["spec"]["maxReplicaCount"])
        for name, s in by_kind(base, "ScaledObject").items()
    }
    assert bounds != base_bounds
    assert bounds["inovda-submission"] == (2, 8)


@pytest.mark.skipif(render.kubectl() is None, reason="kubectl is not installed: nothing to compare the fallback with")
@pytest.mark.parametrize("tree", TREES)
def test_fallback_renderer_agrees_with_kubectl_kustomize(tree: Path) -> None:
    def key(document: Document) -> tuple[str, str]:
        return document["kind"], document["metadata"]["name"]

    assert sorted(render.build(tree), key=key) == sorted(render.kubectl_kustomize(tree), key=key)


def test_fallback_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator:\n  - name: x\n")
    with pytest.raises(ValueError, match="configMapGenerator"):
        render.build(tmp_path)


def test_submission_knows_the_outside_systems_of_access_json_and_their_regions() -> None:
    access = json.loads((REPO / "deploy" / "rabbitmq" / "access.json").read_text(encoding="utf-8"))
    config = by_kind(rendered(BASE), "ConfigMap")["inovda-submission"]["data"]
    assert json.loads(config["SOURCE_USERS"]) == intake_sources(access)
    assert json.loads(config["SOURCE_REGIONS"]) == source_regions(access)


def test_the_image_user_is_the_pod_user() -> None:
    for spec in services():
        dockerfile = (REPO / "deploy" / "docker" / f"{spec.name}.Dockerfile").read_text(encoding="utf-8")
        user = parse_dockerfile(dockerfile)[-1].last("USER")
        assert user is not None
        pod = deployment_of(rendered(BASE), spec.name)["spec"]["template"]["spec"]["securityContext"]
        assert user.arguments == f"{pod['runAsUser']}:{pod['runAsGroup']}"
