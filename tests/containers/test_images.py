"""Every image builds, and every container of the running system is unprivileged, read-only and healthy; each
service image's own health check turns healthy on a container started with plain `docker run`."""

import json
import time
from typing import Any

import pytest

from . import stack
from .stack import Stack

INFRASTRUCTURE = ("rabbitmq", "ferretdb", "mailsink")
# compose service -> image, for the infrastructure (the services' images are named after them)
SERVICE_IMAGES = {"rabbitmq": "rabbitmq", "mongodb": "ferretdb", "mailsink": "mailsink"}


def expected_images() -> list[str]:
    return [*stack.service_dockerfiles(), "cli", *INFRASTRUCTURE]


def test_every_image_is_built_unprivileged_with_a_health_check(images: None, figures: dict[str, Any]) -> None:
    sizes = {}
    for name in expected_images():
        config = stack.inspect(stack.image(name))
        assert config["Config"]["Labels"]["org.opencontainers.image.title"] == f"inovda-{name}"
        user = config["Config"]["User"]
        assert user, f"{name} runs as root"
        assert user.split(":")[0] not in ("root", "0"), f"{name} runs as {user!r}"
        if name != "cli":
            assert config["Config"]["Healthcheck"]["Test"][0] == "CMD", name
        sizes[name] = f"{config['Size'] / 1e6:.0f} MB"
    figures["image_sizes"] = sizes


def test_every_container_runs_unprivileged_read_only_and_healthy(system: Stack) -> None:
    containers = system.containers()
    services = {container.service for container in containers}
    assert services == {*stack.service_dockerfiles(), "rabbitmq", "mongodb", "mailsink"}, services
    for container in containers:
        details = stack.inspect(container.id)
        assert details["State"]["Health"]["Status"] == "healthy", container.name
        assert details["HostConfig"]["ReadonlyRootfs"] is True, container.name
        assert details["HostConfig"]["CapDrop"] == ["ALL"], container.name
        uid = container.exec("id", "-u").stdout.strip()
        assert uid.isdigit(), f"{container.name}: id -u says {uid!r}"
        assert int(uid) != 0, f"{container.name} runs as root"
        if container.service in stack.service_dockerfiles():
            assert uid == "10001", container.name
        written = container.exec("sh", "-c", "echo x > /probe")
        assert written.returncode != 0, f"{container.name}: / is writable"
        assert "Read-only file system" in written.stderr, container.name
        assert container.exec("sh", "-c", "echo x > /tmp/probe && rm /tmp/probe").returncode == 0, container.name
        published = [
            binding["HostIp"]
            for bindings in (details["HostConfig"]["PortBindings"] or {}).values()
            for binding in bindings or []
        ]
        assert all(ip == "127.0.0.1" for ip in published), f"{container.name} publishes on {published}"


def test_each_service_image_alone_turns_healthy_and_stops_cleanly(system: Stack, figures: dict[str, Any]) -> None:
    """`docker run` of each service image, as an operator without compose would, on the stack's network and
    with its service's settings (through an env file, never the command line): the image's own HEALTHCHECK
    turns healthy, and `docker stop` ends it with exit status 0."""
    configuration = json.loads(system.compose("config", "--format", "json", timeout=60).stdout)
    network = f"{stack.PROJECT}_default"
    started: dict[str, str] = {}
    for service in stack.service_dockerfiles():
        env_file = stack.WORK / f"{service}.env"
        environment = configuration["services"][service]["environment"]
        env_file.write_text("".join(f"{name}={value}\n" for name, value in environment.items() if value is not None))
        env_file.chmod(0o600)
        command = ["docker", "run", "--detach", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]
        command += ["--security-opt", "no-new-privileges:true", "--network", network, "--env-file", str(env_file)]
        command += ["--label", stack.EXTRA_LABEL, "--name", f"{stack.PROJECT}-alone-{service}", stack.image(service)]
        try:
            started[service] = stack.run(command, timeout=60).stdout.strip()
        finally:
            env_file.unlink()  # it holds the service's passwords
    began = time.monotonic()
    healthy_after: dict[str, float] = {}
    while len(healthy_after) < len(started) and time.monotonic() - began < 180:
        for service, container in started.items():
            state = stack.inspect(container)["State"]
            if not state["Running"]:
                logs = stack.run(["docker", "logs", container], check=False).stderr[-2000:]
                raise AssertionError(f"{service} exited with {state['ExitCode']}: {logs}")
            if service not in healthy_after and state["Health"]["Status"] == "healthy":
                healthy_after[service] = round(time.monotonic() - began, 1)
        time.sleep(1)
    assert set(healthy_after) == set(started), f"healthy: {healthy_after}"
    codes = {}
    for service, container in started.items():
        stack.run(["docker", "stop", "--time", str(stack.GRACE_SECONDS), container], timeout=stack.GRACE_SECONDS + 30)
        codes[service] = stack.inspect(container)["State"]["ExitCode"]
        stack.run(["docker", "rm", container], timeout=60)
    assert codes == dict.fromkeys(started, 0)
    figures["image_alone_healthy_after_seconds"] = healthy_after


@pytest.mark.parametrize("service", ["rabbitmq", "mongodb", "mailsink"])
def test_the_infrastructure_is_the_local_images(system: Stack, service: str) -> None:
    (container,) = system.containers(service)
    assert stack.inspect(container.id)["Config"]["Image"] == stack.image(SERVICE_IMAGES[service])
