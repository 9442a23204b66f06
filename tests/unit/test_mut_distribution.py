"""What a managed control plane asks the assessor to attest for PCI 1.6.1, as a golden text.

Found by ``make mutation`` (tests/mutation/): the instruction was checked only for a few
words, so any rewording of what to attest (which settings of the provider's IAM, which
command hands out a certificate) went unnoticed. The text is the deliverable here: the
manual verdict's reason is all the assessor gets, so a change to it must be deliberate.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.distribution import Distribution, api_server_endpoints, managed_authentication

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
