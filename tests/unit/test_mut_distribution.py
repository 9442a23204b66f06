"""What a managed control plane asks the assessor to attest for PCI 1.6.1, as a golden text.

Found by ``make mutation`` (tests/mutation/): the instruction was checked only for a few
words, so any rewording of what to attest (which settings of the provider's IAM, which
command hands out a certificate) went unnoticed. The text is the deliverable here: the
manual verdict's reason is all the assessor gets, so a change to it must be deliberate.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.distribution import (
    Distribution,
    api_server_endpoints,
    detect,
    managed_authentication,
)
from tests.builders import node, pod

PREAMBLE = (
    "{provider} runs the API server; the provider's IAM is assumed to authenticate people, "
    "which the Kubernetes API cannot show. Attest from the provider's configuration that "
)
WHAT = {
    "eks": (
        "Amazon EKS",
        "the cluster's authentication mode uses IAM access entries (or the aws-auth "
        "ConfigMap) for every person, people reach it only through federated IAM roles with "
        "MFA, and no long-lived IAM user keys map to Kubernetes users",
    ),
    "gke": (
        "Google GKE",
        "people sign in with Google identities (Workspace or Workforce Identity Federation) "
        "under an MFA policy, client-certificate issuance is disabled, and legacy basic auth "
        "is off",
    ),
    "aks": (
        "Azure AKS",
        "Microsoft Entra ID integration is on and local accounts are disabled "
        "(--disable-local-accounts: otherwise `az aks get-credentials --admin` hands out a "
        "client certificate), with Conditional Access requiring MFA",
    ),
}


@pytest.mark.parametrize("name", sorted(WHAT))
def test_the_attestation_asked_of_each_provider(name: str) -> None:
    provider, what = WHAT[name]
    assert managed_authentication(Distribution(name)) == PREAMBLE.format(provider=provider) + what


# ------------------------------------------------------------------ the API server's endpoints
# Found by ``make mutation`` (second run): every test gave a trimmed EndpointSlice, which
# carries the Service name in metadata.service; the untrimmed one (a recorded pack, or a
# slice listed without the trimmer) carries it only as the label the API server's
# endpoint reconciler sets (pkg/controlplane/reconcilers/endpointsadapter.go:
# discovery.LabelServiceName).


def untrimmed_slice(namespace: str, service: str, *addresses: str) -> dict[str, object]:
    return {
        "metadata": {
            "name": service,
            "namespace": namespace,
            "labels": {"kubernetes.io/service-name": service},
        },
        "endpoints": [{"addresses": [a], "conditions": {"ready": True}} for a in addresses],
    }


def test_the_api_servers_untrimmed_slice_is_found_by_its_service_label() -> None:
    slices = [
        untrimmed_slice("default", "web", "10.0.0.7"),
        untrimmed_slice("default", "kubernetes", "192.0.2.2", "192.0.2.3"),
    ]
    assert api_server_endpoints(slices) == ["192.0.2.2", "192.0.2.3"]


def test_an_unlabelled_slice_is_no_services() -> None:
    unlabelled = {"metadata": {"name": "kubernetes", "namespace": "default"}, "endpoints": []}
    assert api_server_endpoints([unlabelled]) is None


# ------------------------------------------------------------- what detect() reports, whole
# Found by ``make mutation`` (third run): detect() was checked for the name it returns, not
# for the reasons and the not-deciding notes that go into the report, and the k3s, rke2 and
# kind answers were only ever reached with a visible control plane. A Distribution is
# compared whole here: its reasons are the evidence the assessor reads.

EKS_HOST = "https://ABCD.gr7.eu-west-1.eks.amazonaws.com"
# A label whoever may update nodes can set; it must be recorded and never decide.
EKS_LABEL = {"eks.amazonaws.com/nodegroup": "ng-1"}
LABEL_NOTE = "node w-1 label eks.amazonaws.com/nodegroup (writable by whoever may update nodes)"


def worker(provider_id: str = "") -> dict[str, object]:
    return node("w-1", "10.0.1.5", provider_id=provider_id, labels=EKS_LABEL)


def api_pod(container: str, command: list[str] | None) -> dict[str, object]:
    """A kube-system pod running the API server, its container named or its binary run."""
    return pod("apiserver-cp-1", "kube-system", sa=None, container=container, command=command)


@pytest.mark.parametrize(
    ("endpoints", "middle"),
    [
        (None, ["the API server's endpoints could not be read to cross-check"]),
        ([], []),
        # Only the first three, sorted, are named: the list is evidence, not an inventory.
        (
            ["172.16.0.13", "172.16.0.11", "172.16.0.12", "172.16.0.10"],
            [
                "the API server's endpoints (172.16.0.10, 172.16.0.11, 172.16.0.12) are"
                " no node's address"
            ],
        ),
    ],
)
def test_a_managed_claim_says_what_backs_it(endpoints: list[str] | None, middle: list[str]) -> None:
    got = detect({"gitVersion": "v1.30.4-eks-a737599"}, [worker()], [], endpoints, EKS_HOST)
    reasons = ("server version v1.30.4-eks-a737599", *middle, "no control-plane pod in kube-system")
    assert got == Distribution("eks", reasons, (LABEL_NOTE,))


@pytest.mark.parametrize(("git", "name"), [("v1.30.4+k3s1", "k3s"), ("v1.30.4+rke2r1", "rke2")])
def test_k3s_and_rke2_are_named_by_their_version_with_the_control_plane_hidden(
    git: str, name: str
) -> None:
    # k3s and rke2 run the API server inside their own process, not as a pod, and an agent
    # -only view may not list its address: the version suffix alone names them.
    got = detect({"gitVersion": git}, [worker()], [], ["10.0.0.1"])
    assert got == Distribution(name, (f"server version {git}",), (LABEL_NOTE,))


def test_kind_is_named_by_its_provider_id_when_nothing_else_speaks() -> None:
    got = detect({"gitVersion": "v1.35.4"}, [worker("kind://docker/kind/kind-worker")], [], None)
    assert got == Distribution(
        "kind",
        ("kind:// providerID",),
        (LABEL_NOTE, "node w-1 providerID kind:// (settable once, from empty)"),
    )


def test_a_cluster_without_markers_is_unknown_and_still_records_what_was_seen() -> None:
    got = detect({"gitVersion": "v1.35.4"}, [worker()], [], ["192.0.2.9"])
    assert got == Distribution("unknown", ("no distribution marker found",), (LABEL_NOTE,))


# ------------------------------------------------------------- which pods run the API server


@pytest.mark.parametrize(
    ("container", "command"),
    [
        # Named kube-apiserver, started by the image's entrypoint (no command).
        ("kube-apiserver", None),
        # Another container name, but the binary it runs is the API server.
        ("apiserver", ["/usr/local/bin/kube-apiserver", "--secure-port=6443"]),
    ],
)
def test_a_pod_running_the_api_server_shows_the_control_plane(
    container: str, command: list[str] | None
) -> None:
    got = detect({"gitVersion": "v1.35.4"}, [], [api_pod(container, command)], None, EKS_HOST)
    assert got.reasons == (
        "kube-apiserver runs in pod kube-system/apiserver-cp-1",
        f"API server host {EKS_HOST[8:].lower()} names Amazon EKS, but the control plane runs here",
    )
    assert got.name == "self-managed"


@pytest.mark.parametrize("command", [None, ["/coredns", "-conf", "/etc/coredns/Corefile"]])
def test_other_kube_system_pods_do_not_show_a_control_plane(command: list[str] | None) -> None:
    # Managed clusters run coredns, kube-proxy and CNI pods in kube-system too.
    coredns = pod("coredns-1", "kube-system", container="coredns", command=command)
    got = detect({"gitVersion": "v1.30.4-eks-a737599"}, [], [coredns], ["172.16.0.10"])
    assert got.name == "eks"


# ------------------------------------------------------ which node addresses host the API server


def test_the_api_server_on_nodes_external_addresses_names_each_node() -> None:
    # The endpoint reconciler publishes --advertise-address, which may be a node's
    # ExternalIP (pkg/controlplane/reconcilers); every node it names is listed.
    nodes = [
        node("cp-2", None, external_ip="198.51.100.2"),
        node("cp-1", None, external_ip="198.51.100.1"),
    ]
    got = detect({"gitVersion": "v1.35.4"}, nodes, [], ["198.51.100.1", "198.51.100.2"])
    assert got == Distribution(
        "self-managed", ("the API server's endpoints are node cp-1, cp-2's own address",)
    )


def test_only_a_nodes_ips_can_be_the_api_servers_address() -> None:
    # A node's IPs are its InternalIP and ExternalIP addresses, as Kubernetes reads them
    # (pkg/util/node/node.go GetNodeHostIPs); a Hostname or DNS address that spells the
    # endpoint's IP (a --hostname-override, say) is no node's own address, so the managed
    # claim of the version stands.
    nodes = [
        node("cp", "10.0.0.1", addresses=[("InternalDNS", "192.0.2.9"), ("Hostname", "192.0.2.9")])
    ]
    got = detect({"gitVersion": "v1.35.4-eks-1a2b3c4"}, nodes, [], ["192.0.2.9"])
    assert got.name == "eks"
    assert got.reasons[1] == "the API server's endpoints (192.0.2.9) are no node's address"


def test_a_provider_id_is_recorded_by_its_scheme_alone() -> None:
    # The scheme ends where "://" first appears (RFC 3986 section 3.1); the rest of the ID
    # may hold another "://" and is not the scheme.
    nodes = [node("n1", provider_id="aws:///us-east-1a/i-0abc://odd")]
    got = detect({"gitVersion": "v1.35.4"}, nodes, [])
    assert got.unconfirmed == ("node n1 providerID aws:// (settable once, from empty)",)
