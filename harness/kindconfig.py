"""Read a kind `Cluster` config (kind.x-k8s.io/v1alpha4) the way kind reads it.

Only what matters on a single-node kubeadm cluster is used: the first control-plane node's
`extraMounts`, `networking.podSubnet`/`serviceSubnet`, `featureGates`, `runtimeConfig` and
the cluster- then node-level `kubeadmConfigPatches`. Other fields (port mappings, images,
worker nodes) only make sense for Docker nodes and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.layout import REPO

KIND_API_VERSION = "kind.x-k8s.io/v1alpha4"
DEFAULT_POD_SUBNET = "10.244.0.0/16"  # kind's IPv4 defaults
DEFAULT_SERVICE_SUBNET = "10.96.0.0/16"


@dataclass(frozen=True)
class ExtraMount:
    host_path: Path
    container_path: Path
    read_only: bool = False


@dataclass
class KindCluster:
    path: Path
    profile: str  # the config file's stem; also names fixtures/<profile>/
    pod_subnet: str
    service_subnet: str
    patches: list[dict[str, Any]] = field(default_factory=list)
    extra_mounts: list[ExtraMount] = field(default_factory=list)
    feature_gates: dict[str, bool] = field(default_factory=dict)
    runtime_config: dict[str, str] = field(default_factory=dict)


def resolve_host_path(host_path: str) -> Path:
    """Relative hostPaths are relative to the repository root, where make and kind run."""
    p = Path(host_path)
    return p if p.is_absolute() else REPO / p


def _parse_patches(blobs: list[str], where: str) -> list[dict[str, Any]]:
    patches = []
    for i, blob in enumerate(blobs):
        doc = yaml.safe_load(blob)
        if not isinstance(doc, dict) or "kind" not in doc:
            raise ValueError(f"{where} kubeadmConfigPatches[{i}] is not a YAML object with kind")
        patches.append(doc)
    return patches


def load(path: Path) -> KindCluster:
    raw = yaml.safe_load(path.read_text())
    if raw.get("apiVersion") != KIND_API_VERSION or raw.get("kind") != "Cluster":
        raise ValueError(f"{path}: not a kind {KIND_API_VERSION} Cluster")
    if raw.get("kubeadmConfigPatchesJSON6902"):
        raise ValueError(f"{path}: kubeadmConfigPatchesJSON6902 is not supported by the runner")
    nodes = raw.get("nodes") or [{"role": "control-plane"}]
    control_planes = [n for n in nodes if n.get("role", "control-plane") == "control-plane"]
    if len(control_planes) != 1 or len(nodes) != 1:
        raise ValueError(f"{path}: the runner brings up exactly one control-plane node")
    node = control_planes[0]
    if node.get("kubeadmConfigPatchesJSON6902"):
        raise ValueError(f"{path}: node kubeadmConfigPatchesJSON6902 is not supported")
    networking = raw.get("networking") or {}
    if networking.get("ipFamily", "ipv4") != "ipv4":
        raise ValueError(f"{path}: only ipFamily ipv4 is supported")
    return KindCluster(
        path=path,
        profile=path.stem,
        pod_subnet=networking.get("podSubnet", DEFAULT_POD_SUBNET),
        service_subnet=networking.get("serviceSubnet", DEFAULT_SERVICE_SUBNET),
        # Cluster-level patches first, then node-level, as kind applies them.
        patches=_parse_patches(raw.get("kubeadmConfigPatches") or [], "cluster")
        + _parse_patches(node.get("kubeadmConfigPatches") or [], "node"),
        extra_mounts=[
            ExtraMount(
                host_path=resolve_host_path(m["hostPath"]),
                container_path=Path(m["containerPath"]),
                read_only=bool(m.get("readOnly", False)),
            )
            for m in node.get("extraMounts") or []
        ],
        feature_gates=dict(raw.get("featureGates") or {}),
        runtime_config={k: str(v) for k, v in (raw.get("runtimeConfig") or {}).items()},
    )
