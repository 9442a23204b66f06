"""Apply fixtures/<profile>/: YAML manifests, then Python generator hooks.

Manifests are applied in file-name order, Namespaces first (the API refuses pods until the
namespace's `default` ServiceAccount exists, so the runner waits for it). A `*.py` file is
a hook for objects that cannot be static YAML, such as CertificateSigningRequests, which
need a fresh PEM request: it must define `apply(kubectl: harness.kubectl.Kubectl) -> None`,
or `apply(kubectl, nodes)` when it changes something on the nodes themselves: NODES are
`harness.nodes.Node`s (this host for the harness provider, `docker exec` into kind's node
containers for the kind provider), so one hook serves both.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.kubectl import Kubectl
from harness.layout import REPO
from harness.nodes import LocalNode, Node

FIXTURES = REPO / "fixtures"


def fixture_dir(profile: str) -> Path:
    return FIXTURES / profile


def _manifests(folder: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def namespaces(profile: str) -> list[str]:
    folder = fixture_dir(profile)
    if not folder.is_dir():
        return []
    return [d["metadata"]["name"] for d in _manifests(folder) if d.get("kind") == "Namespace"]


def _run_hook(path: Path, kubectl: Kubectl, nodes: Sequence[Node]) -> None:
    spec = importlib.util.spec_from_file_location(f"kubepci_fixture_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load fixture hook {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if len(inspect.signature(module.apply).parameters) == 2:
        module.apply(kubectl, list(nodes))
    else:
        module.apply(kubectl)


def apply(
    profile: str,
    kubectl: Kubectl,
    timeout_s: float = 60,
    nodes: Sequence[Node] = (LocalNode(),),
) -> None:
    folder = fixture_dir(profile)
    if not folder.is_dir():
        return
    docs = _manifests(folder)
    ns_docs = [d for d in docs if d.get("kind") == "Namespace"]
    kubectl.apply_objects(ns_docs)
    for ns in ns_docs:
        name = ns["metadata"]["name"]
        kubectl.wait_until(
            f"ServiceAccount {name}/default",
            lambda n=name: kubectl.exists("serviceaccount", "default", "-n", n),
            timeout_s,
            interval_s=0.5,
        )
    kubectl.apply_objects([d for d in docs if d.get("kind") != "Namespace"])
    for hook in sorted(folder.glob("*.py")):
        _run_hook(hook, kubectl, nodes)


def wait_pods_running(profile: str, kubectl: Kubectl, timeout_s: float = 90) -> None:
    """Every pod in the fixture namespaces Running and Ready."""
    for ns in namespaces(profile):

        def ready(ns: str = ns) -> bool:
            pods = kubectl.json("get", "pods", "-n", ns)["items"]
            return all(
                p["status"].get("phase") == "Running"
                and all(c.get("ready") for c in p["status"].get("containerStatuses", []))
                for p in pods
            )

        kubectl.wait_until(f"pods in namespace {ns}", ready, timeout_s)
