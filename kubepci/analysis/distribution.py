"""Which Kubernetes distribution this is, from evidence a tenant of the cluster cannot forge.

It matters because managed control planes (EKS, GKE, AKS) hide the API server, controller
manager, scheduler and etcd: checks that read their flags or probe their ports are not
applicable there, and the report must say so instead of passing them.

What decides, and why each can be trusted:

- the API server's ``/version`` gitVersion: compiled into the binary (``-eks-<hash>``
  on EKS, ``-gke.N`` on GKE); EKS Distro (EKS Anywhere, self-managed) is
  ``-eks-<major>-<minor>-<build>`` and is not a managed control plane;
- the API server URL the auditor's own kubeconfig names (``*.eks.amazonaws.com``,
  ``*.azmk8s.io``): AKS stamps no suffix on its version;
- the ``kubernetes`` Service's endpoints in ``default``, which the API server itself
  reconciles (pkg/controlplane/reconcilers): on a managed cluster they are the provider's
  addresses, on a self-managed one a node's own address;
- kube-system control-plane pods: when kube-apiserver runs in a pod the control plane is
  visible and is judged, whatever else claims otherwise.

Node labels and ``spec.providerID`` are recorded but never decide: labels are writable
by anyone who may update nodes, and providerID can be set once, from empty, the same way
(pkg/apis/core/validation ValidateNodeUpdate); kubeadm on EC2 has ``aws://`` IDs too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Obj = dict[str, Any]
MANAGED = ("eks", "gke", "aks")
PROVIDER_NAMES = {"eks": "Amazon EKS", "gke": "Google GKE", "aks": "Azure AKS"}
EKS_MANAGED_VERSION = re.compile(r"-eks-[0-9a-f]{7,}$")
EKS_DISTRO_VERSION = re.compile(r"-eks-\d+-\d+-\d+$")
GKE_VERSION = re.compile(r"-gke\.\d+")
SERVER_HOSTS = {"eks": (".eks.amazonaws.com", ".eks.amazonaws.com.cn"), "aks": (".azmk8s.io",)}
# Recorded for the report, never deciding (see the module docstring).
PROVIDER_LABEL_PREFIXES = ("eks.amazonaws.com/", "cloud.google.com/gke", "kubernetes.azure.com/")
PROVIDER_ID_SCHEMES = ("aws://", "gce://", "azure://", "kind://")


@dataclass(frozen=True)
class Distribution:
    name: str  # eks, gke, aks (managed); eks-distro, k3s, rke2, kind, kubeadm, unknown
    reasons: tuple[str, ...] = field(default_factory=tuple)
    # Facts that were looked at but cannot decide (labels, providerIDs), for the record.
    unconfirmed: tuple[str, ...] = field(default_factory=tuple)

    @property
    def managed(self) -> bool:
        return self.name in MANAGED

    def to_json(self) -> Obj:
        out: Obj = {"name": self.name, "managed": self.managed, "reasons": list(self.reasons)}
        if self.unconfirmed:
            out["not_deciding"] = list(self.unconfirmed)
        return out


def api_server_endpoints(endpoint_slices: Sequence[Obj]) -> list[str] | None:
    """Addresses of the ``kubernetes`` Service in ``default`` (the API server's own); None
    when its EndpointSlice is not among the listed slices."""
    found: list[str] | None = None
    for slice_ in endpoint_slices:
        meta = slice_.get("metadata") or {}
        service = meta.get("service") or (meta.get("labels") or {}).get(
            "kubernetes.io/service-name"
        )
        if meta.get("namespace") != "default" or service != "kubernetes":
            continue
        found = found or []
        addresses = slice_.get("addresses")
        if addresses is None:  # an untrimmed EndpointSlice
            addresses = [a for e in slice_.get("endpoints") or [] for a in e.get("addresses") or []]
        found.extend(str(a) for a in addresses)
    return found


# A node's own IPs are its InternalIP and ExternalIP addresses, as Kubernetes reads them
# (pkg/util/node/node.go GetNodeHostIPs); Hostname and DNS addresses are names.
def _node_addresses(nodes: Sequence[Obj]) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in nodes:
        name = str((node.get("metadata") or {}).get("name", ""))
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("type") in ("InternalIP", "ExternalIP") and address.get("address"):
                out[str(address["address"])] = name
    return out


def _provider_claim(git: str, server: str) -> tuple[str, str]:
    """(provider, why) from the unforgeable markers; ("", "") when none."""
    host = (urlsplit(server).hostname or "").lower()
    if EKS_MANAGED_VERSION.search(git):
        return "eks", f"server version {git}"
    if GKE_VERSION.search(git):
        return "gke", f"server version {git}"
    for provider, suffixes in SERVER_HOSTS.items():
        if host.endswith(suffixes):
            return provider, f"API server host {host}"
    return "", ""


def _not_deciding(nodes: Sequence[Obj]) -> tuple[str, ...]:
    notes: set[str] = set()
    for node in nodes:
        meta = node.get("metadata") or {}
        name = meta.get("name", "")
        for key in meta.get("labels") or {}:
            if key.startswith(PROVIDER_LABEL_PREFIXES):
                notes.add(f"node {name} label {key} (writable by whoever may update nodes)")
        provider_id = str((node.get("spec") or {}).get("providerID", ""))
        if provider_id.startswith(PROVIDER_ID_SCHEMES):
            scheme = provider_id.split("://", 1)[0]
            notes.add(f"node {name} providerID {scheme}:// (settable once, from empty)")
    return tuple(sorted(notes))


def _self_managed(
    git: str, nodes: Sequence[Obj], kube_system_pods: Sequence[Obj], endpoints: list[str] | None
) -> tuple[str, str] | None:
    """(name, why) when the control plane runs where the cluster can see it."""
    on_nodes = _node_addresses(nodes)
    hosting = sorted({on_nodes[a] for a in endpoints or [] if a in on_nodes})
    api_pods = [
        p["metadata"]["name"]
        for p in kube_system_pods
        if any(
            c.get("name") == "kube-apiserver"
            or str((c.get("command") or [""])[0]).endswith("kube-apiserver")
            for c in (p.get("spec") or {}).get("containers") or []
        )
    ]
    if not hosting and not api_pods:
        return None
    why = (
        f"the API server's endpoints are node {', '.join(hosting)}'s own address"
        if hosting
        else f"kube-apiserver runs in pod kube-system/{api_pods[0]}"
    )
    if EKS_DISTRO_VERSION.search(git) or "-eks-" in git:
        return "eks-distro", f"server version {git}, and {why}"
    if "+k3s" in git:
        return "k3s", f"server version {git}"
    if "+rke2" in git:
        return "rke2", f"server version {git}"
    if any(str((n.get("spec") or {}).get("providerID", "")).startswith("kind://") for n in nodes):
        return "kind", f"{why}; kind:// providerID"
    for pod in kube_system_pods:
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        if any(k.startswith("kubeadm.kubernetes.io/") for k in annotations):
            return "kubeadm", f"{why}; kubeadm annotations on {pod['metadata']['name']}"
    return "self-managed", why


def detect(
    version: Obj,
    nodes: Sequence[Obj],
    kube_system_pods: Sequence[Obj],
    api_endpoints: list[str] | None = None,
    server: str = "",
) -> Distribution:
    """The distribution, from the server version, the API server URL, the API server's own
    endpoints and the kube-system pods (see the module docstring for why only these).

    ``api_endpoints`` is None when they could not be read: a provider claim then rests on
    the version or host alone, and the reasons say the endpoints were not cross-checked.
    """
    git = str(version.get("gitVersion", ""))
    unconfirmed = _not_deciding(nodes)
    local = _self_managed(git, nodes, kube_system_pods, api_endpoints)
    provider, why = _provider_claim(git, server)
    if local:
        name, local_why = local
        reasons = [local_why]
        if provider:
            reasons.append(
                f"{why} names {PROVIDER_NAMES[provider]}, but the control plane runs here"
            )
        return Distribution(name, tuple(reasons), unconfirmed)
    if provider:
        reasons = [why]
        if api_endpoints is None:
            reasons.append("the API server's endpoints could not be read to cross-check")
        elif api_endpoints:
            reasons.append(
                "the API server's endpoints (" + ", ".join(sorted(api_endpoints)[:3]) + ") are"
                " no node's address"
            )
        reasons.append("no control-plane pod in kube-system")
        return Distribution(provider, tuple(reasons), unconfirmed)
    if "+k3s" in git:
        return Distribution("k3s", (f"server version {git}",), unconfirmed)
    if "+rke2" in git:
        return Distribution("rke2", (f"server version {git}",), unconfirmed)
    if any(str((n.get("spec") or {}).get("providerID", "")).startswith("kind://") for n in nodes):
        return Distribution("kind", ("kind:// providerID",), unconfirmed)
    return Distribution("unknown", ("no distribution marker found",), unconfirmed)


def managed_authentication(distribution: Distribution) -> str:
    """The attestation a managed control plane needs for 1.6.1, in the provider's words."""
    what = {
        "eks": "the cluster's authentication mode uses IAM access entries (or the aws-auth "
        "ConfigMap) for every person, people reach it only through federated IAM roles with "
        "MFA, and no long-lived IAM user keys map to Kubernetes users",
        "gke": "people sign in with Google identities (Workspace or Workforce Identity "
        "Federation) under an MFA policy, client-certificate issuance is disabled, and legacy "
        "basic auth is off",
        "aks": "Microsoft Entra ID integration is on and local accounts are disabled "
        "(--disable-local-accounts: otherwise `az aks get-credentials --admin` hands out a "
        "client certificate), with Conditional Access requiring MFA",
    }[distribution.name]
    return (
        f"{PROVIDER_NAMES[distribution.name]} runs the API server; the provider's IAM is "
        f"assumed to authenticate people, which the Kubernetes API cannot show. Attest from "
        f"the provider's configuration that {what}"
    )
