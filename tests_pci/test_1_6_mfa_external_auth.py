"""PCI 1.6 — interactive users of the orchestration APIs authenticate with MFA, which in
Kubernetes means an external identity provider rather than static credentials."""

from __future__ import annotations

from kubepci import check
from kubepci.facade import Cluster
from kubepci.verdict import Finding

EXTERNAL_FLAGS = (
    "authentication-config",
    "oidc-issuer-url",
    "authentication-token-webhook-config-file",
)


@check("external-authenticator")
def test_api_server_trusts_external_identity_provider(cluster: Cluster) -> None:
    """1.6.1 — the API server authenticates people through an external authenticator:
    a JWT AuthenticationConfiguration, OIDC flags, a token webhook, or cloud IAM."""
    distribution = cluster.distribution
    if distribution.managed:
        cluster.evidence("Managed distribution", distribution.to_json(), "objects")
        cluster.judge(
            [],
            passed=f"{distribution.name.upper()} authenticates people through the provider's IAM",
        )
        return
    findings = []
    for flags in cluster.flags("kube-apiserver"):
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
    """1.6.1 — the person running the audit authenticates through an exec or
    auth-provider plugin, not a static token, password or client certificate."""
    credential = cluster.interactive_credential()
    findings = []
    if not credential.uses_plugin:
        findings.append(
            Finding(
                "KubeconfigUser",
                "",
                cluster.target.user,
                f"authenticates with {credential.detail}, a static credential",
            )
        )
    cluster.judge(findings, passed=f"authenticates through {credential.detail}")


@check("mfa-at-identity-provider")
def test_identity_provider_enforces_mfa(cluster: Cluster) -> None:
    """1.6.1 — MFA is enforced by the identity provider, which the cluster cannot see."""
    cluster.manual(
        "MFA is enforced in the identity provider's policy; attach that policy as evidence"
    )
