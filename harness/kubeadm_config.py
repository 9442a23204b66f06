"""Render the kubeadm config for a kind cluster: kind's base, the patches, our offline pins.

kind writes patches against kubeadm's v1beta3 map form (`extraArgs: {flag: value}`).
kubeadm 1.35 reads v1beta4, where extraArgs are lists of `{name, value}`. So, like kind for
newer node images, the base is built in v1beta3 form, the config's RFC 7386 merge patches
are applied to it, and the result is converted to v1beta4. Patches that name
`kubeadm.k8s.io/v1beta4` explicitly are applied after the conversion.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml

from harness.kindconfig import KindCluster
from harness.layout import CRI_ENDPOINT, ETCD_VERSION, K8S_VERSION

V1BETA3 = "kubeadm.k8s.io/v1beta3"
V1BETA4 = "kubeadm.k8s.io/v1beta4"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
ETCD_IMAGE_TAG = ETCD_VERSION.lstrip("v") + "-0"  # what we build, not kubeadm's default
API_PORT = 6443

Doc = dict[str, Any]


@dataclass(frozen=True)
class Node:
    name: str
    ip: str


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, rest replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _base(kind: KindCluster, node: Node) -> list[Doc]:
    component_args: dict[str, str] = {}
    if kind.feature_gates:
        gates = ",".join(f"{k}={str(v).lower()}" for k, v in sorted(kind.feature_gates.items()))
        component_args["feature-gates"] = gates
    api_args = dict(component_args)
    if kind.runtime_config:
        api_args["runtime-config"] = ",".join(f"{k}={v}" for k, v in kind.runtime_config.items())
    cluster: Doc = {
        "apiVersion": V1BETA3,
        "kind": "ClusterConfiguration",
        "clusterName": f"kubepci-{kind.profile}",
        "controlPlaneEndpoint": f"{node.ip}:{API_PORT}",
        "apiServer": {"certSANs": ["localhost", "127.0.0.1", node.ip], "extraArgs": api_args},
        "controllerManager": {"extraArgs": dict(component_args)},
        "scheduler": {"extraArgs": dict(component_args)},
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "networking": {"podSubnet": kind.pod_subnet, "serviceSubnet": kind.service_subnet},
    }
    init: Doc = {
        "apiVersion": V1BETA3,
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": node.ip, "bindPort": API_PORT},
        "nodeRegistration": {"name": node.name, "kubeletExtraArgs": {"node-ip": node.ip}},
    }
    kubelet: Doc = {
        "apiVersion": KUBELET_API,
        "kind": "KubeletConfiguration",
        "failSwapOn": False,
        # kind's settings: the node's disk is shared with the host, so no disk eviction.
        "evictionHard": {
            "nodefs.available": "0%",
            "nodefs.inodesFree": "0%",
            "imagefs.available": "0%",
        },
    }
    if kind.feature_gates:
        kubelet["featureGates"] = dict(kind.feature_gates)
    return [cluster, init, kubelet]


def _pin_offline(docs: list[Doc]) -> None:
    """Settings the runner needs whatever the patches say: offline, cgroupfs, one node."""
    cluster, init, kubelet = docs
    cluster["kubernetesVersion"] = K8S_VERSION
    cluster.setdefault("etcd", {}).setdefault("local", {})["imageTag"] = ETCD_IMAGE_TAG
    reg = init["nodeRegistration"]
    reg["criSocket"] = CRI_ENDPOINT
    reg["imagePullPolicy"] = "Never"
    reg["taints"] = []  # single node: fixture pods must schedule on the control plane
    # Like kind, which skips preflight: cgroup v1 (SystemVerification), no swap/systemd.
    reg["ignorePreflightErrors"] = ["all"]
    skipped = set(init.get("skipPhases", [])) | {"addon/kube-proxy", "addon/coredns"}
    init["skipPhases"] = sorted(skipped)
    kubelet["cgroupDriver"] = "cgroupfs"
    kubelet["failCgroupV1"] = False  # this VM runs cgroup v1; 1.35 refuses it otherwise
    kubelet["containerRuntimeEndpoint"] = CRI_ENDPOINT
    kubelet["imageGCHighThresholdPercent"] = 100  # never collect the imported images


def _as_arg_list(args: Any) -> list[dict[str, str]]:
    if isinstance(args, list):
        return args  # already v1beta4
    out = []
    for name, value in sorted((args or {}).items()):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        out.append({"name": name, "value": text})
    return out


def to_v1beta4(doc: Doc) -> Doc:
    """Convert a v1beta3 ClusterConfiguration/InitConfiguration to v1beta4."""
    if doc.get("apiVersion") != V1BETA3:
        return doc
    doc = copy.deepcopy(doc)
    doc["apiVersion"] = V1BETA4
    if doc["kind"] == "ClusterConfiguration":
        for component in ("apiServer", "controllerManager", "scheduler"):
            section = doc.get(component)
            if section and "extraArgs" in section:
                section["extraArgs"] = _as_arg_list(section["extraArgs"])
        local = (doc.get("etcd") or {}).get("local")
        if local and "extraArgs" in local:
            local["extraArgs"] = _as_arg_list(local["extraArgs"])
        timeout = (doc.get("apiServer") or {}).pop("timeoutForControlPlane", None)
        if timeout:
            doc["_controlPlaneTimeout"] = timeout  # moved to InitConfiguration.timeouts
    elif doc["kind"] == "InitConfiguration":
        reg = doc.get("nodeRegistration") or {}
        if "kubeletExtraArgs" in reg:
            reg["kubeletExtraArgs"] = _as_arg_list(reg["kubeletExtraArgs"])
    return doc


def _apply(docs: list[Doc], patches: list[Doc], api_versions: set[str | None]) -> list[Doc]:
    out = []
    for doc in docs:
        for patch in patches:
            if patch.get("kind") != doc["kind"]:
                continue
            if patch.get("apiVersion") not in api_versions:
                continue
            if patch.get("apiVersion") not in (None, doc["apiVersion"]):
                continue
            body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}
            doc = merge_patch(doc, body)
        out.append(doc)
    return out


def render(kind: KindCluster, node: Node) -> list[Doc]:
    docs = _base(kind, node)
    # Unversioned and v1beta3 patches on the map form; KubeletConfiguration likewise.
    docs = _apply(docs, kind.patches, {None, V1BETA3, KUBELET_API})
    docs = [to_v1beta4(d) for d in docs]
    docs = _apply(docs, kind.patches, {V1BETA4})
    _pin_offline(docs)
    cluster, init, _ = docs
    timeout = cluster.pop("_controlPlaneTimeout", None)
    if timeout:
        init.setdefault("timeouts", {})["controlPlaneComponentHealthCheck"] = timeout
    return docs


def dump(docs: list[Doc]) -> str:
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)
