"""The runtime dependency pins of the images (`deploy/docker/constraints.txt`).

The images install `shared` and one service (or the CLI) with
`pip install --constraint deploy/docker/constraints.txt`, so an image runs the versions this repository was
tested with, not whatever was newest on the day it was built. The file is generated from the development
virtualenv: the closure of the runtime dependencies of the four services and the `inovda` CLI (the Inovda
packages' own from their pyproject.toml, extras and environment markers evaluated for Linux and this
Python), without the Inovda packages themselves and without development tools.

Regenerate after a dependency changes in a `pyproject.toml` (and `make setup`):

    .venv/bin/python -m tests.unit.deploy.lock > deploy/docker/constraints.txt
"""

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

REPO = Path(__file__).resolve().parents[3]
CONSTRAINTS = REPO / "deploy" / "docker" / "constraints.txt"
INOVDA_PACKAGES = {
    "inovda-shared": "shared",
    "inovda-submission": "services/submission",
    "inovda-scoring": "services/scoring",
    "inovda-notification": "services/notification",
    "inovda-portal": "services/portal",
    "inovda-cli": "cli",
}
IMAGE_PACKAGES = ("inovda-submission", "inovda-scoring", "inovda-notification", "inovda-portal", "inovda-cli")
HEADER = """\
# Runtime dependency pins of the service images; generated, do not edit by hand.
# Regenerate: .venv/bin/python -m tests.unit.deploy.lock > deploy/docker/constraints.txt
"""


def runtime_closure(roots: tuple[str, ...] = IMAGE_PACKAGES) -> dict[NormalizedName, str]:
    """Installed distribution name -> version, for every runtime dependency reachable from `roots`."""
    pinned: dict[NormalizedName, str] = {}
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    pending: list[tuple[str, frozenset[str]]] = [(root, frozenset()) for root in roots]
    while pending:
        name, extras = pending.pop()
        key = (canonicalize_name(name), extras)
        if key in seen:
            continue
        seen.add(key)
        if key[0] in INOVDA_PACKAGES:
            # From the source, not the installed metadata: an editable install can be older than its pyproject.
            project = tomllib.loads((REPO / INOVDA_PACKAGES[key[0]] / "pyproject.toml").read_text(encoding="utf-8"))
            requirements: list[str] = project["project"]["dependencies"]
        else:
            distribution = metadata.distribution(name)
            pinned[key[0]] = distribution.version
            requirements = distribution.requires or []
        for line in requirements:
            requirement = Requirement(line)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            if wanted:
                pending.append((requirement.name, frozenset(requirement.extras)))
    return dict(sorted(pinned.items()))


def render() -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in runtime_closure().items())


def read_pins(path: Path = CONSTRAINTS) -> dict[NormalizedName, str]:
    pins: dict[NormalizedName, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


if __name__ == "__main__":
    sys.stdout.write(render())
