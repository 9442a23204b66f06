"""PCI 1.3 — all credentials used with the orchestration system can be revoked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubepci import check
from kubepci.analysis import (
    certificate_issuance,
    credentials,
    keyfiles,
    legacy_tokens,
    minting_rights,
    token_lifetime,
)
from kubepci.analysis.flags import ComponentFlags
from kubepci.analysis.judgement import Gathered
from kubepci.facade import Cluster
from kubepci.verdict import EvidenceUnavailable, NotApplicable


@check("kubeconfig-client-certificate")
def test_kubeconfig_user_has_no_client_certificate(cluster: Cluster) -> None:
    """1.3.1 — the person running the audit sends no client certificate (Kubernetes cannot
    revoke one), alongside anything else or alone, and holds no ServiceAccount token that
    never expires or outlives the token-lifetime policy."""
    credential = cluster.interactive_credential()
    cluster.conclude(
        credentials.judge_revocable_credential(
            cluster.target.user,
            credential,
            cluster.identity,
            cluster.settings.token_lifetime_limit,
        )
    )


@check("client-certificate-csrs")
def test_no_client_certificates_issued_to_people(cluster: Cluster) -> None:
    """1.3.2 — no approved CSR issued a client certificate to anything but a kubelet (its
    own, or through TLS bootstrap), and none asks for system:masters; judged from the CSR
    list and, under --node-root, from the API server audit log, which reaches back past
    the hour or two that csrcleaner leaves an issued CSR in the list."""
    csrs = cluster.snapshot.csrs
    cluster.conclude(certificate_issuance.listed_csrs(csrs), final=False)
    retention = certificate_issuance.plan_retention(
        cluster.visible_flags("kube-controller-manager")
    )
    cluster.conclude(retention.so_far, final=False)
    cluster.conclude(
        certificate_issuance.judge_client_certificates(
            csrs, retention.then, cluster.csr_audit_log()
        )
    )


@check("csr-approval-rights")
def test_only_control_plane_mints_credentials(cluster: Cluster) -> None:
    """1.3.2 — beyond Kubernetes' default policy, nobody can mint credentials: approve
    client certificates, obtain node certificates (approval or the kubelet auto-approval
    path), request ServiceAccount tokens or create token Secrets, by any role or path.
    Principals granted every verb on everything are judged by the generic-account and
    service-account checks instead."""
    judged = minting_rights.plan_minting_rights(cluster.privileges)
    cluster.conclude(judged.so_far, final=False)
    cluster.confirm(judged.then)
    cluster.conclude(minting_rights.judge_minting_rights(judged.then))


@check("signing-key-permissions")
def test_signing_keys_readable_only_by_root(cluster: Cluster) -> None:
    """1.3.3 — the CA and service-account signing keys under the node's PKI directory
    are owned by root and not readable by group or others (needs --node-root)."""
    cluster.conclude(
        keyfiles.plan_key_inspection(
            cluster.settings.node_root, "a control-plane node's filesystem", "key files"
        ),
        final=False,
    )
    cluster.conclude(keyfiles.judge_signing_keys(cluster.signing_keys()))


@check("legacy-service-account-tokens")
def test_no_secret_based_service_account_tokens(cluster: Cluster) -> None:
    """1.3.4 — no long-lived, secret-based ServiceAccount tokens exist: no Secret of type
    kubernetes.io/service-account-token (listed by that type, metadata only; the
    legacy-token labels and the pods that hold each token are kept as evidence). A Secret
    of another type that kept the service-account annotation is not one."""
    token_secrets = cluster.snapshot.token_secrets
    cluster.conclude(legacy_tokens.listed_tokens(token_secrets), final=False)
    cluster.conclude(
        legacy_tokens.annotated_copies(cluster.snapshot.secrets, token_secrets), final=False
    )
    cluster.conclude(
        legacy_tokens.judge_legacy_tokens(
            token_secrets, cluster.snapshot.service_accounts, cluster.snapshot.pods
        )
    )


@check("service-account-token-lifetime")
def test_api_server_caps_token_lifetime(cluster: Cluster) -> None:
    """1.3.4 — --service-account-max-token-expiration (a Go duration; 0, its default, is
    no cap) is set within policy and --service-account-extend-token-expiration=false."""
    limit = cluster.settings.token_lifetime_limit
    cluster.conclude(
        token_lifetime.judge_token_lifetime_cap(cluster.flags("kube-apiserver"), limit)
    )


@check("projected-token-expiration")
def test_projected_tokens_within_policy(cluster: Cluster) -> None:
    """1.3.4 — every projected ServiceAccount token a pod holds (the admission-injected
    one included) lives within policy, judged by the lifetime the API server gives it:
    the request shortened to --service-account-max-token-expiration, and a 3607 s request
    extended to a year by --service-account-extend-token-expiration (token.go). Where the
    server's flags cannot be read, its defaults (no maximum, extension on) are assumed."""
    limit = cluster.settings.token_lifetime_limit
    apiservers: Gathered[list[ComponentFlags]]
    try:
        apiservers = Gathered(cluster.flags("kube-apiserver"))
    except (NotApplicable, EvidenceUnavailable) as exc:
        apiservers = Gathered([], exc.reason)
    pods: Gathered[Sequence[dict[str, Any]]]
    try:
        pods = Gathered(cluster.snapshot.pods)
    except EvidenceUnavailable as exc:
        pods = Gathered([], exc.reason)
    cluster.conclude(token_lifetime.judge_projected_tokens(apiservers, pods, limit))
