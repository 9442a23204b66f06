"""PCI 1.4.1 / 1.6.1 judged: which authenticators kube-apiserver runs. No clear-text static
token file; people authenticate through an external identity provider (a JWT
AuthenticationConfiguration, OIDC flags or a token webhook), where MFA is enforced."""

from __future__ import annotations

from collections.abc import Sequence

from kubepci.analysis.distribution import Distribution, managed_authentication
from kubepci.analysis.flags import ComponentFlags
from kubepci.analysis.judgement import Draft, Judgement, drafted, manual, pod_finding
from kubepci.verdict import Finding, ManualAttestation

EXTERNAL_FLAGS = (
    "authentication-config",
    "oidc-issuer-url",
    "authentication-token-webhook-config-file",
)
MFA = "MFA is enforced in the identity provider's policy; attach that policy as evidence"


def _judge_static_token_file(draft: Draft, instances: Sequence[ComponentFlags]) -> Judgement:
    """1.4.1: the effective --token-auth-file (the last one given; empty means none) is
    empty on every instance."""
    findings: list[Finding] = []
    for flags in instances:
        draft.record(
            f"kube-apiserver flags ({flags.pod})", flags.evidence(["token-auth-file"]), "flags"
        )
        if flags.get("token-auth-file"):
            findings.append(
                pod_finding(
                    flags.pod, "static token file in use: " + flags.source("token-auth-file")
                )
            )
    return draft.judge(findings, passed="no --token-auth-file")


judge_static_token_file = drafted(_judge_static_token_file)


def _distribution_evidence(draft: Draft, distribution: Distribution) -> Judgement:
    """A step: the distribution, as decided from evidence no tenant can forge."""
    draft.record("Distribution", distribution.to_json(), "objects")
    return draft.so_far()


distribution_evidence = drafted(_distribution_evidence)


def _judge_external_authenticator(
    draft: Draft, distribution: Distribution, apiservers: Sequence[ComponentFlags] | None
) -> Judgement:
    """1.6.1: every visible kube-apiserver trusts an external authenticator, whatever the
    distribution. ``apiservers`` None: a managed control plane, whose flags are not
    visible; its authentication is the provider's IAM, which only a person can attest."""
    if apiservers is None:
        raise ManualAttestation(managed_authentication(distribution))
    findings: list[Finding] = []
    for flags in apiservers:
        draft.record(
            f"kube-apiserver flags ({flags.pod})", flags.evidence(list(EXTERNAL_FLAGS)), "flags"
        )
        if not any(flags.get(name) for name in EXTERNAL_FLAGS):
            findings.append(
                pod_finding(
                    flags.pod,
                    "no external authenticator: none of "
                    + ", ".join(f"--{n}" for n in EXTERNAL_FLAGS)
                    + " is set",
                )
            )
    return draft.judge(findings, passed="an external authenticator is configured")


judge_external_authenticator = drafted(_judge_external_authenticator)


def judge_mfa_at_identity_provider() -> Judgement:
    """1.6.1: MFA is enforced by the identity provider, which the cluster cannot see."""
    return manual(MFA)
