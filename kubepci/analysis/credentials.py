"""The audited person's own credential, judged on what client-go sends (1.3.1, 1.6.1).

The kubeconfig user is taken to be the person running the audit. Whatever they send is
judged: a client certificate sent alongside a token is still a client certificate, and a
ServiceAccount token held by a person is judged on that token, by its own claims and by
the API server's SelfSubjectReview. Only the in-cluster ServiceAccount of the suite's own
pod is a workload identity, and the facade says so before these rules run.
"""

from __future__ import annotations

from typing import Any

from kubepci.analysis.judgement import Draft, Judgement, drafted
from kubepci.records.credentials import SERVICE_ACCOUNT_PREFIX, Credential
from kubepci.verdict import EvidenceUnavailable, Finding

Obj = dict[str, Any]
KIND = "KubeconfigUser"


def reviewed_service_account(identity: Obj) -> str:
    """``namespace/name`` when the SelfSubjectReview names a ServiceAccount, else ""."""
    username = str(identity.get("username", ""))
    if not username.startswith(SERVICE_ACCOUNT_PREFIX):
        return ""
    return username[len(SERVICE_ACCOUNT_PREFIX) :].replace(":", "/", 1)


def unjudged(credential: Credential, identity: Obj, revocable: bool) -> str:
    """Why the revocability check (``revocable``) or the plugin check cannot judge this
    credential; "" if it can."""
    if credential.refused:
        return (
            f"{credential.detail}: kubectl cannot use this user entry, so what it would send "
            "cannot be judged"
        )
    account = reviewed_service_account(identity)
    if (
        revocable
        and account
        and credential.service_account is None
        and credential.tls_certificate is None
    ):
        return (
            f"the API server authenticates this user as ServiceAccount {account} "
            f"(SelfSubjectReview), through {credential.detail}; that token is not in the "
            "kubeconfig, so its kind and lifetime cannot be read"
        )
    return ""


def revocation_findings(user: str, credential: Credential, lifetime_limit: int) -> list[Finding]:
    """1.3.1: the person sends no credential that cannot be revoked or outlives policy.

    A client certificate cannot be revoked (Kubernetes has no CRL): any one sent is a
    finding, whatever else is sent with it; the API server's x509 authenticator runs
    before the token authenticators (pkg/kubeapiserver/authenticator/config.go), so a
    valid certificate is who the person is. A ServiceAccount token is revocable only by
    deleting what it is bound to: a legacy secret-based one never expires, and a bound one
    must expire within ``lifetime_limit`` seconds.
    """
    findings: list[Finding] = []
    tls = credential.tls_certificate
    if tls is not None:
        header = credential.header
        alongside = f"; sent alongside {header.detail}, and authenticated first" if header else ""
        findings.append(
            Finding(
                KIND,
                "",
                user,
                f"{tls.detail}: client certificates cannot be revoked{alongside}",
                "client-certificate",
            )
        )
    token = credential.service_account
    if token is None:
        return findings
    if token.legacy:
        findings.append(
            Finding(
                KIND,
                "",
                user,
                f"holds {token.describe()}; it is revoked only by deleting that Secret",
                "legacy-service-account-token",
            )
        )
        return findings
    lifetime = token.lifetime
    if lifetime is None or lifetime > lifetime_limit:
        revoked_by = f"deleting {token.bound_to}" if token.bound_to else f"deleting {token.ref}"
        findings.append(
            Finding(
                KIND,
                "",
                user,
                f"holds {token.describe()}, beyond the {lifetime_limit}s policy; until it "
                f"expires it is revoked only by {revoked_by}",
                "long-lived-service-account-token",
            )
        )
    return findings


def static_credential_findings(user: str, credential: Credential, identity: Obj) -> list[Finding]:
    """1.6.1: the person authenticates through an exec or auth-provider plugin (the
    identity provider, where MFA lives), as themselves, and sends nothing static."""
    findings: list[Finding] = []
    tls = credential.tls_certificate
    if tls is not None:
        findings.append(
            Finding(
                KIND,
                "",
                user,
                f"sends {tls.detail}, a static credential that no MFA protects",
                "client-certificate",
            )
        )
    header = credential.header
    token = credential.service_account
    reviewed = reviewed_service_account(identity)
    shared = "a shared workload identity, not the person's own, and no MFA"
    account_detail = ""
    if token and tls is not None:
        account_detail = (
            f"also sends {token.describe()}, which the API server takes whenever the "
            f"certificate is not accepted: {shared}"
        )
    elif token:
        account_detail = f"authenticates with {token.describe()}: {shared}"
    elif reviewed and tls is None:
        how = header.detail if header else "its credential"
        account_detail = (
            f"authenticates as ServiceAccount {reviewed} (SelfSubjectReview) through {how}: "
            f"{shared}"
        )
    if account_detail:
        findings.append(Finding(KIND, "", user, account_detail, "service-account-token"))
    elif header is None and tls is None:
        findings.append(Finding(KIND, "", user, "sends no credentials", "no-credential"))
    elif header is not None and header.kind not in ("exec", "auth-provider"):
        findings.append(
            Finding(
                KIND,
                "",
                user,
                f"authenticates with {header.detail}, a static credential",
                "static-credential",
            )
        )
    return findings


# ----------------------------------------------------------------------- the checks
def _judge_revocable_credential(
    draft: Draft, user: str, credential: Credential, identity: Obj, lifetime_limit: int
) -> Judgement:
    """1.3.1: the person sends no client certificate and holds no ServiceAccount token
    that never expires or outlives the policy."""
    why_not = unjudged(credential, identity, revocable=True)
    if why_not:
        raise EvidenceUnavailable(why_not)
    return draft.judge(
        revocation_findings(user, credential, lifetime_limit),
        passed=f"the kubeconfig user sends no client certificate; it authenticates with "
        f"{credential.detail}",
    )


judge_revocable_credential = drafted(_judge_revocable_credential)


def _judge_plugin_credential(
    draft: Draft, user: str, credential: Credential, identity: Obj
) -> Judgement:
    """1.6.1: the person authenticates, as themselves, through an exec or auth-provider
    plugin and sends nothing static."""
    why_not = unjudged(credential, identity, revocable=False)
    if why_not:
        raise EvidenceUnavailable(why_not)
    return draft.judge(
        static_credential_findings(user, credential, identity),
        passed=f"authenticates through {credential.detail}",
    )


judge_plugin_credential = drafted(_judge_plugin_credential)
