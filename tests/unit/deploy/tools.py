"""The external validators, run as their command-line tools from the project's virtualenv (requirements-dev):
hadolint, check-jsonschema (its bundled compose-spec schema), kubernetes-validate (its bundled Kubernetes
schemas) and shellcheck; and KEDA's CRD schemas from the cloudcoil-models-keda package. None of them
downloads anything at run time."""

import functools
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

from .checks import Document

BIN = Path(sys.executable).parent
KEDA_KINDS = {"ScaledObject", "ScaledJob", "TriggerAuthentication", "ClusterTriggerAuthentication"}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def executable(name: str) -> str | None:
    """The tool from this virtualenv, else from PATH."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


def run(arguments: list[str], timeout: float = 120) -> Outcome:
    result = subprocess.run(arguments, capture_output=True, text=True, timeout=timeout, check=False)
    return Outcome(result.returncode, result.stdout + result.stderr)


def _required(name: str) -> str:
    path = executable(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed: .venv/bin/pip install -r requirements-dev.txt")
    return path


def hadolint(*dockerfiles: Path) -> Outcome:
    return run([_required("hadolint"), *map(str, dockerfiles)])


def check_compose(path: Path) -> Outcome:
    return run([_required("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)])


def shellcheck(*scripts: Path, shell: str = "sh") -> Outcome:
    return run([_required("shellcheck"), f"--shell={shell}", *map(str, scripts)])


def kubernetes_validate(documents: list[Document], version: str) -> Outcome:
    """Strict validation (unknown fields are errors) of Kubernetes' own kinds against `version`. A resource
    without a bundled schema (a typo in apiVersion or kind, or a CRD) is a failure here, not the tool's
    warning, so pass only core kinds."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump_all(documents, handle, sort_keys=False)
        path = Path(handle.name)
    try:
        outcome = run([_required("kubernetes-validate"), "--strict", "--quiet", "-k", version, str(path)])
    finally:
        path.unlink()
    failed = outcome.returncode != 0 or any(
        line.startswith(("WARN", "ERROR", "FATAL")) for line in outcome.output.splitlines()
    )
    return Outcome(1 if failed else 0, outcome.output)


def _closed(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that lists its properties, so that an
    unknown (e.g. misspelt) field is an error, as it is for the API server with a structural CRD schema."""
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@functools.cache
def keda_schema(kind: str) -> dict[str, Any]:
    """The JSON schema of a KEDA kind, from the models cloudcoil generates from KEDA's published CRDs."""
    from cloudcoil.models.keda import v1alpha1

    model = getattr(v1alpha1, kind)
    schema: dict[str, Any] = _closed(model.model_json_schema(by_alias=True, mode="validation"))
    return schema


def keda_schema_errors(document: Document) -> list[str]:
    kind = document.get("kind", "")
    if kind not in KEDA_KINDS:
        return [f"{kind!r} is not a KEDA kind"]
    validator = jsonschema.Draft202012Validator(keda_schema(kind))
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    name = document.get("metadata", {}).get("name")
    return [
        f"{kind} {name}: {'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in errors
    ]
