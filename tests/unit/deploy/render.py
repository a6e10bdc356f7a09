"""Rendering the kustomize trees under deploy/k8s: with `kubectl kustomize` where kubectl is installed, else
with `build`, a small renderer of the subset of kustomize those trees use (resources, namespace, images,
JSON 6902 patches with a target). A test checks the two agree wherever kubectl exists, and `build` refuses
any other kustomize feature, so the fallback cannot silently drift from the real thing."""

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .checks import Document

SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def load_documents(text: str) -> list[Document]:
    return [document for document in yaml.safe_load_all(text) if document]


def kubectl() -> str | None:
    return shutil.which("kubectl")


def kubectl_kustomize(directory: Path) -> list[Document]:
    executable = kubectl()
    if executable is None:
        raise RuntimeError("kubectl is not installed")
    result = subprocess.run(
        [executable, "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory} failed: {result.stderr}")
    return load_documents(result.stdout)


def render(directory: Path) -> list[Document]:
    """The manifests of a kustomization, by kubectl if it is installed, else by `build`."""
    return kubectl_kustomize(directory) if kubectl() else build(directory)


def build(directory: Path) -> list[Document]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unsupported = set(kustomization) - SUPPORTED_FIELDS
    if unsupported:
        raise ValueError(f"{directory}: the fallback renderer does not support {sorted(unsupported)}")
    documents: list[Document] = []
    for entry in kustomization.get("resources") or []:
        path = directory / entry
        if path.is_dir():
            documents.extend(build(path))
        else:
            documents.extend(load_documents(path.read_text(encoding="utf-8")))
    for patch in kustomization.get("patches") or []:
        _apply_patch(directory, documents, patch)
    for image in kustomization.get("images") or []:
        _set_image(documents, image)
    namespace = kustomization.get("namespace")
    if namespace:
        for document in documents:
            if document["kind"] not in CLUSTER_SCOPED_KINDS:
                document["metadata"]["namespace"] = namespace
    return documents


def _matches(document: Document, target: dict[str, str]) -> bool:
    group, _, version = document["apiVersion"].rpartition("/")
    actual = {
        "group": group,
        "version": version,
        "kind": document["kind"],
        "name": document["metadata"]["name"],
        "namespace": document["metadata"].get("namespace", ""),
    }
    unknown = set(target) - set(actual)
    if unknown:
        raise ValueError(f"the fallback renderer does not support patch targets by {sorted(unknown)}")
    return all(actual[key] == value for key, value in target.items())


def _apply_patch(directory: Path, documents: list[Document], patch: dict[str, Any]) -> None:
    text = patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text(encoding="utf-8")
    operations = yaml.safe_load(text)
    if "target" not in patch or not isinstance(operations, list):
        raise ValueError("the fallback renderer supports only JSON 6902 patches with a target")
    targets = [document for document in documents if _matches(document, patch["target"])]
    if not targets:
        raise ValueError(f"patch target {patch['target']} matches nothing")
    for document in targets:
        for operation in operations:
            _apply_operation(document, operation)


def _apply_operation(document: Document, operation: dict[str, Any]) -> None:
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in operation["path"].split("/")[1:]]
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    op = operation["op"]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, copy.deepcopy(operation["value"]))
        elif op == "replace":
            node[index] = copy.deepcopy(operation["value"])
        elif op == "remove":
            del node[index]
        else:
            raise ValueError(f"the fallback renderer does not support op {op!r}")
        return
    if op == "add" or (op == "replace" and last in node):
        node[last] = copy.deepcopy(operation["value"])
    elif op == "remove" and last in node:
        del node[last]
    else:
        raise ValueError(f"cannot {op} {operation['path']}")


def _set_image(documents: list[Document], image: dict[str, str]) -> None:
    for document in documents:
        template = (document.get("spec") or {}).get("template") or {}
        pod = template.get("spec") or {}
        for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
            reference = container["image"]
            name, tag = reference.split("@", 1)[0], ""
            if ":" in name.rsplit("/", 1)[-1]:
                name, tag = name.rsplit(":", 1)
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
