"""Distribution from evidence a tenant cannot forge: the server version, the API server URL,
the API server's own endpoints and visible control-plane pods; never node labels or
providerIDs, which whoever may update nodes can set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubepci.access.trim import endpoint_slice as trim_slice
from kubepci.analysis.distribution import (
    Distribution,
    api_server_endpoints,
    detect,
    managed_authentication,
)
from tests.builders import node, static_pod

DATA = Path(__file__).resolve().parents[1] / "data" / "identity"
Obj = dict[str, Any]

EKS_LABELS = {"eks.amazonaws.com/nodegroup": "ng-1", "eks.amazonaws.com/compute-type": "ec2"}
GKE_LABELS = {"cloud.google.com/gke-nodepool": "pool-1"}
AKS_LABELS = {"kubernetes.azure.com/cluster": "mc_rg", "kubernetes.azure.com/agentpool": "np"}
EVERY_LABEL = {**EKS_LABELS, **GKE_LABELS, **AKS_LABELS}


def api_slice(*addresses: str) -> Obj:
    """The ``kubernetes`` EndpointSlice the API server reconciles, trimmed as stored."""
    return trim_slice(
        {
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": "kubernetes"},
            },
            "endpoints": [{"addresses": [a], "conditions": {"ready": True}} for a in addresses],
            "ports": [{"name": "https", "port": 443}],
        }
    )


def recorded(profile: str) -> Obj:
    return json.loads((DATA / profile / "distribution.json").read_text())


def detect_recorded(profile: str, **changes: Any) -> Distribution:
    doc = {**recorded(profile), **changes}
    return detect(
        doc["version"],
        doc["nodes"],
        doc["kube_system_pods"],
        api_server_endpoints(doc["endpointslices"]),
        doc["server"],
    )


@pytest.mark.parametrize("profile", ["compliant", "noncompliant"])
def test_recorded_kubeadm_with_forged_labels_stays_kubeadm(profile: str) -> None:
    # The detector this replaced called both recorded clusters EKS, from the labels.
    distribution = detect_recorded(profile)
    assert (distribution.name, distribution.managed) == ("kubeadm", False)
    assert distribution.reasons[0].startswith("the API server's endpoints are node vm's own")
    assert any("eks.amazonaws.com/nodegroup" in n for n in distribution.unconfirmed)
    assert distribution.to_json()["not_deciding"] == list(distribution.unconfirmed)
    if profile == "noncompliant":
        assert "node vm providerID azure:// (settable once, from empty)" in distribution.unconfirmed


def test_recorded_kubeadm_claiming_eks_everywhere_but_where_it_counts() -> None:
    doc = recorded("compliant")
    nodes = [{**n, "spec": {"providerID": "aws:///eu-west-1a/i-0abc"}} for n in doc["nodes"]]
    distribution = detect_recorded("compliant", nodes=nodes)
    assert distribution.name == "kubeadm"
    assert any("providerID aws://" in n for n in distribution.unconfirmed)


def test_api_server_endpoints_from_the_trimmed_slice() -> None:
    assert api_server_endpoints([api_slice("192.0.2.2")]) == ["192.0.2.2"]
    assert api_server_endpoints([]) is None
    other = trim_slice(
        {
            "metadata": {
                "name": "kubernetes",
                "namespace": "tenant",
                "labels": {"kubernetes.io/service-name": "kubernetes"},
            },
            "endpoints": [{"addresses": ["10.0.0.9"]}],
        }
    )
    assert "addresses" not in other  # only the API server's own slice keeps addresses
    assert api_server_endpoints([other]) is None


CP = "10.0.0.1"
PROVIDER = "172.16.0.10"
APISERVER = static_pod(
    "kube-apiserver",
    "cp-1",
    ["--secure-port=6443"],
    annotations={"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": CP + ":6443"},
)

# name: (gitVersion, nodes, kube-system pods, endpoints, server) -> expected name
CASES: dict[str, tuple[str, list[Obj], list[Obj], list[str] | None, str, str]] = {
    "EKS": (
        "v1.30.4-eks-a737599",
        [node("ip-10-0-1-5", "10.0.1.5", provider_id="aws:///eu-west-1a/i-1", labels=EKS_LABELS)],
        [],
        [PROVIDER, "172.16.0.11"],
        "https://ABCD.gr7.eu-west-1.eks.amazonaws.com",
        "eks",
    ),
    "EKS with no nodes yet": ("v1.31.2-eks-7f9249a", [], [], [PROVIDER], "https://x", "eks"),
    "EKS by its API host only": (
        "v1.30.4",
        [],
        [],
        [PROVIDER],
        "https://abc.yl4.us-east-1.eks.amazonaws.com:443",
        "eks",
    ),
    "GKE": (
        "v1.30.5-gke.1443001",
        [node("gke-pool-1", "10.128.0.5", provider_id="gce://p/z/gke-pool-1", labels=GKE_LABELS)],
        [],
        ["10.128.0.2"],
        "https://34.1.2.3",
        "gke",
    ),
    "AKS by its API host": (
        "v1.30.3",
        [
            node(
                "aks-np-1",
                "10.224.0.4",
                provider_id="azure:///subscriptions/s/vm",
                labels=AKS_LABELS,
            )
        ],
        [],
        ["20.1.2.3"],
        "https://myaks-dns-1a2b.hcp.westeurope.azmk8s.io:443",
        "aks",
    ),
    "AKS markers without its host": (
        "v1.30.3",
        [
            node(
                "aks-np-1",
                "10.224.0.4",
                provider_id="azure:///subscriptions/s/vm",
                labels=AKS_LABELS,
            )
        ],
        [],
        ["20.1.2.3"],
        "https://aks.internal.example:443",
        "unknown",
    ),
    "kubeadm with every provider label": (
        "v1.35.4",
        [node("cp-1", CP, labels=EVERY_LABEL)],
        [APISERVER],
        [CP],
        "https://10.0.0.1:6443",
        "kubeadm",
    ),
    "kubeadm with forged azure providerID and AKS labels": (
        "v1.35.4",
        [node("cp-1", CP, provider_id="azure:///subscriptions/forged/vm", labels=AKS_LABELS)],
        [APISERVER],
        [CP],
        "https://10.0.0.1:6443",
        "kubeadm",
    ),
    "kubeadm on EC2 (aws providerID)": (
        "v1.35.4",
        [node("cp-1", CP, provider_id="aws:///eu-west-1a/i-9")],
        [APISERVER],
        [CP],
        "https://10.0.0.1:6443",
        "kubeadm",
    ),
    "EKS version but the API server is a node": (
        "v1.30.4-eks-a737599",
        [node("cp-1", CP, labels=EKS_LABELS)],
        [],
        [CP],
        "https://10.0.0.1:6443",
        "eks-distro",
    ),
    "EKS Distro (EKS Anywhere)": (
        "v1.30.4-eks-1-30-20",
        [node("cp-1", CP, labels=EKS_LABELS)],
        [APISERVER],
        [CP],
        "https://10.0.0.1:6443",
        "eks-distro",
    ),
    "GKE version but kube-apiserver runs in a pod": (
        "v1.30.5-gke.1443001",
        [node("n1", "10.0.0.7")],
        [static_pod("kube-apiserver", "n1")],
        [PROVIDER],
        "https://34.1.2.3",
        "self-managed",
    ),
    "k3s": ("v1.30.4+k3s1", [node("n1", CP)], [], [CP], "https://10.0.0.1:6443", "k3s"),
    "rke2": ("v1.30.4+rke2r1", [node("n1", CP)], [APISERVER], [CP], "https://x", "rke2"),
    "kind": (
        "v1.35.0",
        [node("kind-control-plane", CP, provider_id="kind://docker/k/cp")],
        [APISERVER],
        [CP],
        "https://127.0.0.1:6443",
        "kind",
    ),
    "control plane out of sight, no marker": (
        "v1.35.4",
        [node("w1", "10.0.0.7", labels=EKS_LABELS)],
        [],
        ["10.0.0.250"],
        "https://10.0.0.250:6443",
        "unknown",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_detect(case: str) -> None:
    git, nodes, pods, endpoints, server, expected = CASES[case]
    distribution = detect({"gitVersion": git}, nodes, pods, endpoints, server)
    assert distribution.name == expected
    assert distribution.managed == (expected in ("eks", "gke", "aks"))


def test_a_provider_claim_contradicted_says_so() -> None:
    git, nodes, pods, endpoints, server, _ = CASES["EKS version but the API server is a node"]
    distribution = detect({"gitVersion": git}, nodes, pods, endpoints, server)
    assert distribution.reasons == (
        "server version v1.30.4-eks-a737599, and the API server's endpoints are node cp-1's "
        "own address",
        "server version v1.30.4-eks-a737599 names Amazon EKS, but the control plane runs here",
    )


def test_unreadable_endpoints_are_not_cross_checked() -> None:
    distribution = detect({"gitVersion": "v1.30.4-eks-a737599"}, [], [], None, "https://x")
    assert distribution.managed
    assert "could not be read to cross-check" in distribution.reasons[1]


@pytest.mark.parametrize("name", ["eks", "gke", "aks"])
def test_managed_authentication_names_what_to_attest(name: str) -> None:
    text = managed_authentication(Distribution(name))
    assert "assumed" in text and "Attest" in text
    if name == "aks":
        assert "--disable-local-accounts" in text
