"""PCI 1.6 — interactive users of the orchestration APIs authenticate with MFA, which in
Kubernetes means an external identity provider rather than static credentials."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import authenticators, credentials
from kubepci.analysis.flags import ComponentFlags
from kubepci.facade import Cluster
from kubepci.verdict import NotApplicable


@check("external-authenticator")
def test_api_server_trusts_external_identity_provider(cluster: Cluster) -> None:
    """1.6.1 — the API server authenticates people through an external authenticator:
    a JWT AuthenticationConfiguration, OIDC flags or a token webhook. Visible kube-apiserver
    flags are judged whatever the distribution; a managed control plane (decided from
    evidence no tenant can forge) is the provider's IAM, which only a person can attest."""
    distribution = cluster.distribution
    cluster.conclude(authenticators.distribution_evidence(distribution), final=False)
    apiservers: list[ComponentFlags] | None
    try:
        apiservers = cluster.flags("kube-apiserver")
    except NotApplicable:
        apiservers = None  # a managed control plane: its flags are not visible
    cluster.conclude(authenticators.judge_external_authenticator(distribution, apiservers))


@check("kubeconfig-credential-plugin")
def test_kubeconfig_user_authenticates_through_plugin(cluster: Cluster) -> None:
    """1.6.1 — the person running the audit authenticates, as themselves, through an exec
    or auth-provider plugin, and sends no static token, password, client certificate or
    ServiceAccount token (judged on what client-go sends, every credential of it)."""
    credential = cluster.interactive_credential()
    cluster.conclude(
        credentials.judge_plugin_credential(cluster.target.user, credential, cluster.identity)
    )


@check("mfa-at-identity-provider")
def test_identity_provider_enforces_mfa(cluster: Cluster) -> None:
    """1.6.1 — MFA is enforced by the identity provider, which the cluster cannot see."""
    cluster.conclude(authenticators.judge_mfa_at_identity_provider())
