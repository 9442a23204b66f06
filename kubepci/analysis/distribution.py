"""Which Kubernetes distribution this is, from API evidence alone.

It matters because managed control planes (EKS, GKE, AKS) hide the API server, controller
manager, scheduler and etcd: checks that read their flags or probe their ports are not
applicable there, and the report must say so instead of passing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
MANAGED = ("eks", "gke", "aks")


@dataclass(frozen=True)
class Distribution:
    name: str  # eks, gke, aks, k3s, rke2, kind, kubeadm, unknown
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def managed(self) -> bool:
        return self.name in MANAGED

    def to_json(self) -> Obj:
        return {"name": self.name, "managed": self.managed, "reasons": list(self.reasons)}


def detect(version: Obj, nodes: list[Obj], kube_system_pods: list[Obj]) -> Distribution:
    git = str(version.get("gitVersion", ""))
    provider_ids = [str((n.get("spec") or {}).get("providerID", "")) for n in nodes]
    labels: dict[str, str] = {}
    for node in nodes:
        labels.update((node.get("metadata") or {}).get("labels") or {})

    def has(prefix: str) -> bool:
        return any(p.startswith(prefix) for p in provider_ids)

    if "-eks-" in git or any(k.startswith("eks.amazonaws.com/") for k in labels):
        return Distribution(
            "eks", (f"server version {git}" if "-eks-" in git else "EKS node labels",)
        )
    if "-gke." in git or any(k.startswith("cloud.google.com/gke") for k in labels):
        return Distribution(
            "gke", (f"server version {git}" if "-gke." in git else "GKE node labels",)
        )
    if has("azure://") and any(k.startswith("kubernetes.azure.com/") for k in labels):
        return Distribution("aks", ("azure providerID and AKS node labels",))
    if "+k3s" in git:
        return Distribution("k3s", (f"server version {git}",))
    if "+rke2" in git:
        return Distribution("rke2", (f"server version {git}",))
    if has("kind://"):
        return Distribution("kind", ("kind:// providerID",))
    for pod in kube_system_pods:
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        if any(k.startswith("kubeadm.kubernetes.io/") for k in annotations):
            return Distribution("kubeadm", (f"kubeadm annotations on {pod['metadata']['name']}",))
    return Distribution("unknown", ("no distribution marker found",))
