"""PCI 1.6 — interactive users of the orchestration APIs authenticate with MFA, which in
Kubernetes means an external identity provider rather than static credentials."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import credentials
from kubepci.analysis.distribution import managed_authentication
from kubepci.facade import Cluster
from kubepci.verdict import EvidenceUnavailable, Finding, NotApplicable

EXTERNAL_FLAGS = (
    "authentication-config",
    "oidc-issuer-url",
    "authentication-token-webhook-config-file",
)


@check("external-authenticator")
def test_api_server_trusts_external_identity_provider(cluster: Cluster) -> None:
    """1.6.1 — the API server authenticates people through an external authenticator:
    a JWT AuthenticationConfiguration, OIDC flags or a token webhook. Visible kube-apiserver
    flags are judged whatever the distribution; a managed control plane (decided from
    evidence no tenant can forge) is the provider's IAM, which only a person can attest."""
    distribution = cluster.distribution
    cluster.evidence("Distribution", distribution.to_json(), "objects")
    try:
        apiservers = cluster.flags("kube-apiserver")
    except NotApplicable:
        cluster.manual(managed_authentication(distribution))
    findings = []
    for flags in apiservers:
        cluster.evidence(
            f"kube-apiserver flags ({flags.pod})", flags.evidence(list(EXTERNAL_FLAGS)), "flags"
        )
        if not any(flags.get(name) for name in EXTERNAL_FLAGS):
            findings.append(
                Finding(
                    "Pod",
                    *flags.pod.split("/", 1),
                    "no external authenticator: none of "
                    + ", ".join(f"--{n}" for n in EXTERNAL_FLAGS)
                    + " is set",
                )
            )
    cluster.judge(findings, passed="an external authenticator is configured")


@check("kubeconfig-credential-plugin")
def test_kubeconfig_user_authenticates_through_plugin(cluster: Cluster) -> None:
    """1.6.1 — the person running the audit authenticates, as themselves, through an exec
    or auth-provider plugin, and sends no static token, password, client certificate or
    ServiceAccount token (judged on what client-go sends, every credential of it)."""
    credential = cluster.interactive_credential()
    why_not = credentials.unjudged(credential, cluster.identity, "plugin")
    if why_not:
        raise EvidenceUnavailable(why_not)
    cluster.judge(
        credentials.static_credential_findings(cluster.target.user, credential, cluster.identity),
        passed=f"authenticates through {credential.detail}",
    )


@check("mfa-at-identity-provider")
def test_identity_provider_enforces_mfa(cluster: Cluster) -> None:
    """1.6.1 — MFA is enforced by the identity provider, which the cluster cannot see."""
    cluster.manual(
        "MFA is enforced in the identity provider's policy; attach that policy as evidence"
    )
