"""The harness's kind configs are valid kind v1alpha4 Clusters, and render as intended.

The allowed fields are those of sigs.k8s.io/kind pkg/apis/config/v1alpha4/types.go
(Cluster, Node, Networking, Mount, PortMapping, PatchJSON6902): a Docker user must be able
to pass each file to `kind create cluster --config`, and kind rejects unknown fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import kindconfig, kubeadm_config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "kind-configs").glob("*.yaml"))
PROFILES = {p.stem for p in CONFIGS}
# Profiles only kind can bring up (several nodes); the harness renders the others.
KIND_ONLY = {"multinode"}
HARNESS_CONFIGS = [p for p in CONFIGS if p.stem not in KIND_ONLY]
# Written by the runner at bring-up; everything else a config mounts is in the repository.
GENERATED = REPO / "kind-configs" / "files" / "generated"

CLUSTER_FIELDS = {
    "kind",
    "apiVersion",
    "name",
    "nodes",
    "networking",
    "featureGates",
    "runtimeConfig",
    "kubeadmConfigPatches",
    "kubeadmConfigPatchesJSON6902",
    "containerdConfigPatches",
    "containerdConfigPatchesJSON6902",
}
NODE_FIELDS = {
    "role",
    "image",
    "labels",
    "extraMounts",
    "extraPortMappings",
    "gpus",
    "kubeadmConfigPatches",
    "kubeadmConfigPatchesJSON6902",
}
NETWORKING_FIELDS = {
    "ipFamily",
    "apiServerPort",
    "apiServerAddress",
    "podSubnet",
    "serviceSubnet",
    "disableDefaultCNI",
    "kubeProxyMode",
    "dnsSearch",
}
MOUNT_FIELDS = {"containerPath", "hostPath", "readOnly", "selinuxRelabel", "propagation"}
PORT_MAPPING_FIELDS = {"containerPort", "hostPort", "listenAddress", "protocol"}
ROLES = {"control-plane", "worker"}
PROPAGATION = {"None", "HostToContainer", "Bidirectional"}

PATCH_KINDS = {
    "ClusterConfiguration": {None, "kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4"},
    "InitConfiguration": {None, "kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4"},
    "JoinConfiguration": {None, "kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4"},
    "KubeletConfiguration": {None, "kubelet.config.k8s.io/v1beta1"},
    "KubeProxyConfiguration": {None, "kubeproxy.config.k8s.io/v1alpha1"},
}
EXTRA_VOLUME_FIELDS = {"name", "hostPath", "mountPath", "readOnly", "pathType"}


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def patches(raw: dict[str, Any]) -> list[dict[str, Any]]:
    blobs = list(raw.get("kubeadmConfigPatches") or [])
    for node in raw.get("nodes") or []:
        blobs += node.get("kubeadmConfigPatches") or []
    return [yaml.safe_load(b) for b in blobs]


def cluster_patch(raw: dict[str, Any]) -> dict[str, Any]:
    (patch,) = [p for p in patches(raw) if p["kind"] == "ClusterConfiguration"]
    return patch


def kubelet_patch(raw: dict[str, Any]) -> dict[str, Any]:
    (patch,) = [p for p in patches(raw) if p["kind"] == "KubeletConfiguration"]
    return patch


def test_both_profiles_exist() -> None:
    assert {"compliant", "noncompliant"} <= PROFILES


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_only_kind_v1alpha4_fields(path: Path) -> None:
    raw = load(path)
    assert raw["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert raw["kind"] == "Cluster"
    assert set(raw) <= CLUSTER_FIELDS
    assert set(raw.get("networking") or {}) <= NETWORKING_FIELDS
    for node in raw.get("nodes") or []:
        assert set(node) <= NODE_FIELDS
        assert node.get("role", "control-plane") in ROLES
        for mount in node.get("extraMounts") or []:
            assert set(mount) <= MOUNT_FIELDS
            assert mount.get("propagation", "None") in PROPAGATION
            assert mount["containerPath"].startswith("/")
        for mapping in node.get("extraPortMappings") or []:
            assert set(mapping) <= PORT_MAPPING_FIELDS
    for blob in raw.get("kubeadmConfigPatches") or []:
        assert isinstance(blob, str), "kind wants each patch as an inline YAML string"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_patches_parse_with_known_kinds(path: Path) -> None:
    for patch in patches(load(path)):
        assert isinstance(patch, dict)
        assert patch["kind"] in PATCH_KINDS
        assert patch.get("apiVersion") in PATCH_KINDS[patch["kind"]]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_extra_args_are_strings_in_v1beta3_map_form(path: Path) -> None:
    patch = cluster_patch(load(path))
    sections = [patch.get(c) or {} for c in ("apiServer", "controllerManager", "scheduler")]
    sections.append((patch.get("etcd") or {}).get("local") or {})
    for section in sections:
        args = section.get("extraArgs") or {}
        assert isinstance(args, dict)
        assert all(isinstance(v, str) for v in args.values()), args
    for volume in (patch.get("apiServer") or {}).get("extraVolumes") or []:
        assert set(volume) <= EXTRA_VOLUME_FIELDS


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_mounted_files_exist_or_are_generated(path: Path) -> None:
    for node in load(path).get("nodes") or []:
        for mount in node.get("extraMounts") or []:
            host = kindconfig.resolve_host_path(mount["hostPath"])
            assert host.exists() or host.is_relative_to(GENERATED)


@pytest.mark.parametrize("path", HARNESS_CONFIGS, ids=lambda p: p.stem)
def test_api_server_files_reach_the_pod(path: Path) -> None:
    """Every file flag points into an extraVolume, and a node extraMount provides it."""
    raw = load(path)
    api = cluster_patch(raw)["apiServer"]
    volumes = [Path(v["mountPath"]) for v in api.get("extraVolumes") or []]
    mounted = {m.container_path for m in kindconfig.load(path).extra_mounts}
    for flag in ("authentication-config", "audit-policy-file", "token-auth-file"):
        if flag in api["extraArgs"]:
            target = Path(api["extraArgs"][flag])
            assert any(target.is_relative_to(v) for v in volumes), flag
            assert target in mounted, flag


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_fixtures_parse(path: Path) -> None:
    folder = REPO / "fixtures" / path.stem
    assert folder.is_dir()
    for manifest in sorted(folder.glob("*.yaml")):
        for doc in yaml.safe_load_all(manifest.read_text()):
            assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]


def test_compliant_settings() -> None:
    raw = load(REPO / "kind-configs" / "compliant.yaml")
    patch = cluster_patch(raw)
    api = patch["apiServer"]["extraArgs"]
    assert "anonymous-auth" not in api  # anonymous is scoped in the authentication config
    assert "token-auth-file" not in api
    assert api["service-account-extend-token-expiration"] == "false"
    assert api["service-account-max-token-expiration"] == "1h"
    for component in ("controllerManager", "scheduler"):
        args = patch[component]["extraArgs"]
        assert args["bind-address"] == "127.0.0.1"
        assert args["authorization-always-allow-paths"] == "/healthz,/readyz,/livez"
    assert patch["etcd"]["local"]["extraArgs"]["client-cert-auth"] == "true"
    kubelet = kubelet_patch(raw)
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    assert kubelet["authorization"]["mode"] == "Webhook"
    assert kubelet["readOnlyPort"] == 0


def test_noncompliant_settings() -> None:
    raw = load(REPO / "kind-configs" / "noncompliant.yaml")
    patch = cluster_patch(raw)
    api = patch["apiServer"]["extraArgs"]
    assert api["anonymous-auth"] == "true"
    assert "token-auth-file" in api
    assert "service-account-max-token-expiration" not in api
    assert "authentication-config" not in api
    for component in ("controllerManager", "scheduler"):
        args = patch[component]["extraArgs"]
        assert args["bind-address"] == "0.0.0.0"
        assert {"/metrics", "/debug/pprof", "/configz"} <= set(
            args["authorization-always-allow-paths"].split(",")
        )
    etcd = patch["etcd"]["local"]["extraArgs"]
    assert etcd["client-cert-auth"] == "false"
    assert etcd["trusted-ca-file"] == ""  # etcd demands client certs whenever it is set
    kubelet = kubelet_patch(raw)
    assert kubelet["authentication"]["anonymous"]["enabled"] is True
    assert kubelet["authorization"]["mode"] == "AlwaysAllow"
    assert kubelet["readOnlyPort"] == 10255


@pytest.mark.parametrize("path", HARNESS_CONFIGS, ids=lambda p: p.stem)
def test_renders_kubeadm_v1beta4_for_offline_bring_up(path: Path) -> None:
    node = kubeadm_config.Node(name="node", ip="192.0.2.10")
    cluster, init, kubelet = kubeadm_config.render(kindconfig.load(path), node)
    assert cluster["apiVersion"] == init["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    args = cluster["apiServer"]["extraArgs"]
    assert isinstance(args, list) and all(set(a) == {"name", "value"} for a in args)
    assert any(a["name"] == "audit-log-path" for a in args)
    assert cluster["kubernetesVersion"].startswith("v1.")
    assert cluster["etcd"]["local"]["imageTag"] == kubeadm_config.ETCD_IMAGE_TAG
    assert init["nodeRegistration"]["imagePullPolicy"] == "Never"
    assert init["nodeRegistration"]["taints"] == []
    assert {"addon/kube-proxy", "addon/coredns"} <= set(init["skipPhases"])
    assert kubelet["cgroupDriver"] == "cgroupfs"
    assert kubelet["failCgroupV1"] is False
    assert kubelet["imageGCHighThresholdPercent"] == 100
    # The kind patch survives alongside the runner's settings.
    assert "readOnlyPort" in kubelet


def test_merge_patch_follows_rfc7386() -> None:
    target = {"a": {"b": 1, "c": 2}, "d": [1]}
    patched = kubeadm_config.merge_patch(target, {"a": {"b": None, "e": 3}, "d": [2]})
    assert patched == {"a": {"c": 2, "e": 3}, "d": [2]}
    assert target == {"a": {"b": 1, "c": 2}, "d": [1]}


def test_multinode_is_kind_only_with_drift_on_named_nodes() -> None:
    """Three control planes and two workers; the drift is in node-level join patches of
    control-plane3 and worker2 alone, and the harness refuses the profile."""
    path = REPO / "kind-configs" / "multinode.yaml"
    raw = load(path)
    roles = [n.get("role", "control-plane") for n in raw["nodes"]]
    assert roles == ["control-plane"] * 3 + ["worker"] * 2
    patched = [i for i, n in enumerate(raw["nodes"]) if n.get("kubeadmConfigPatches")]
    assert patched == [2, 4]  # control-plane3, worker2
    for index in patched:
        (join,) = [yaml.safe_load(b) for b in raw["nodes"][index]["kubeadmConfigPatches"]]
        assert join["kind"] == "JoinConfiguration"
        directory = Path(join["patches"]["directory"])
        (mount,) = [
            m for m in raw["nodes"][index]["extraMounts"] if Path(m["containerPath"]) == directory
        ]
        assert any(kindconfig.resolve_host_path(mount["hostPath"]).iterdir())
    with pytest.raises(ValueError, match="exactly one control-plane node"):
        kindconfig.load(path)
