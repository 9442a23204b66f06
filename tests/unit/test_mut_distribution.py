"""What a managed control plane asks the assessor to attest for PCI 1.6.1, as a golden text.

Found by ``make mutation`` (tests/mutation/): the instruction was checked only for a few
words, so any rewording of what to attest (which settings of the provider's IAM, which
command hands out a certificate) went unnoticed. The text is the deliverable here: the
manual verdict's reason is all the assessor gets, so a change to it must be deliberate.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.distribution import Distribution, managed_authentication

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
