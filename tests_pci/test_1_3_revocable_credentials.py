"""PCI 1.3 — all credentials used with the orchestration system can be revoked."""

from __future__ import annotations

from kubepci import check
from kubepci.access.nodefs import signing_keys
from kubepci.analysis import certificates, privilege_findings, tokens
from kubepci.analysis.flags import parse_duration
from kubepci.analysis.keyfiles import key_file_findings
from kubepci.facade import Cluster
from kubepci.verdict import Finding

MINTING = "1.3.2"


@check("kubeconfig-client-certificate")
def test_kubeconfig_user_has_no_client_certificate(cluster: Cluster) -> None:
    """1.3.1 — the person running the audit does not authenticate with a client
    certificate, which Kubernetes cannot revoke."""
    credential = cluster.interactive_credential()
    findings = []
    if credential.kind == "client-certificate":
        findings.append(
            Finding(
                "KubeconfigUser",
                "",
                cluster.target.user,
                f"{credential.detail}: client certificates cannot be revoked",
            )
        )
    cluster.judge(findings, passed=f"the kubeconfig user authenticates with {credential.kind}")


@check("client-certificate-csrs")
def test_no_client_certificates_issued_to_people(cluster: Cluster) -> None:
    """1.3.2 — no approved CSR issued a client certificate to a person, and none asks
    for system:masters."""
    findings, seen = [], []
    for csr in cluster.snapshot.csrs:
        spec = csr.get("spec") or {}
        signer = str(spec.get("signerName", ""))
        if signer not in certificates.CLIENT_SIGNERS:
            continue
        identity = certificates.requested_identity(csr)
        state = certificates.state(csr)
        name = csr["metadata"]["name"]
        seen.append(
            {
                "name": name,
                "signer": signer,
                "state": state,
                "requested_by": spec.get("username"),
                "subject": {"CN": identity.common_name, "O": list(identity.organizations)}
                if identity
                else "unparseable",
            }
        )
        if identity is None:
            findings.append(
                Finding("CertificateSigningRequest", "", name, "request cannot be parsed")
            )
            continue
        if "system:masters" in identity.organizations:
            findings.append(
                Finding(
                    "CertificateSigningRequest",
                    "",
                    name,
                    f"{state} request for CN={identity.common_name} in O=system:masters, "
                    "a group that bypasses RBAC and cannot be revoked",
                )
            )
        elif state == "approved" and not certificates.is_node_identity(identity):
            findings.append(
                Finding(
                    "CertificateSigningRequest",
                    "",
                    name,
                    f"approved client certificate for CN={identity.common_name} "
                    f"O={','.join(identity.organizations) or '-'} (signer {signer})",
                )
            )
    cluster.evidence("Client-certificate CSRs", seen, "objects")
    cluster.judge(findings, passed="no client certificates issued beyond kubelets")


@check("csr-approval-rights")
def test_only_control_plane_mints_credentials(cluster: Cluster) -> None:
    """1.3.2 — beyond Kubernetes' default policy, nobody can mint credentials: approve
    client certificates, obtain node certificates (approval or the kubelet auto-approval
    path), request ServiceAccount tokens or create token Secrets, by any role or path.
    Principals granted every verb on everything are judged by the generic-account and
    service-account checks instead."""
    report = cluster.privileges
    minting = [h for h in report.holdings if h.privilege.recommendation == MINTING]
    # Whoever holds every verb on everything can mint anything: that is judged, once, by
    # the generic-account and service-account checks, not repeated here per credential.
    # One that becomes admin *by* minting (a client-certificate approver) is judged here.
    wildcard_admins = report.direct_admins()
    judged = [h for h in minting if h.principal not in wildcard_admins]
    cluster.evidence("Credential-minting paths", [h.to_json() for h in minting], "rbac")
    cluster.evidence(
        "Kubernetes' default policy (set aside: exactly the upstream default)",
        sorted(
            {
                f"{h.principal.ref}: {h.privilege.id}"
                for h in report.set_aside
                if h.privilege.recommendation == MINTING
            }
        ),
    )
    cluster.confirm(judged)
    cluster.judge(
        [privilege_findings.finding(h) for h in judged],
        passed="only Kubernetes' own default policy can mint credentials",
    )


@check("signing-key-permissions")
def test_signing_keys_readable_only_by_root(cluster: Cluster) -> None:
    """1.3.3 — the CA and service-account signing keys under the node's PKI directory
    are owned by root and not readable by group or others (needs --node-root)."""
    if not cluster.settings.node_root:
        cluster.manual("pass --node-root (a control-plane node's filesystem) to inspect key files")
    keys = signing_keys(cluster.settings.node_root)
    cluster.evidence("Signing keys inspected", [k.to_json() for k in keys], "objects")
    cluster.judge(key_file_findings(keys), passed=f"{len(keys)} signing key(s) are root-only")


@check("legacy-service-account-tokens")
def test_no_secret_based_service_account_tokens(cluster: Cluster) -> None:
    """1.3.4 — no long-lived, secret-based ServiceAccount tokens exist (judged from Secret
    metadata only; the legacy-token labels are kept as evidence)."""
    legacy = tokens.legacy_token_secrets(cluster.snapshot.secrets)
    cluster.evidence("Secret-based ServiceAccount tokens (metadata only)", legacy, "objects")
    findings = [
        Finding(
            "Secret",
            s["metadata"].get("namespace", ""),
            s["metadata"]["name"],
            tokens.legacy_token_detail(s),
        )
        for s in legacy
    ]
    cluster.judge(findings, passed="no secret-based ServiceAccount tokens")


@check("service-account-token-lifetime")
def test_api_server_caps_token_lifetime(cluster: Cluster) -> None:
    """1.3.4 — --service-account-max-token-expiration is set within policy and
    --service-account-extend-token-expiration=false."""
    limit = cluster.settings.token_lifetime_limit
    findings = []
    for flags in cluster.flags("kube-apiserver"):
        names = ["service-account-max-token-expiration", "service-account-extend-token-expiration"]
        cluster.evidence(f"kube-apiserver flags ({flags.pod})", flags.evidence(names), "flags")
        namespace, name = flags.pod.split("/", 1)
        raw = flags.get("service-account-max-token-expiration")
        seconds = parse_duration(raw) if raw else None
        # The API server reads 0 (its default) as "no maximum".
        if not raw or seconds == 0:
            findings.append(
                Finding(
                    "Pod",
                    namespace,
                    name,
                    "no token lifetime cap ("
                    + flags.source("service-account-max-token-expiration")
                    + "): tokens may be requested for any lifetime",
                )
            )
        elif seconds is None or seconds > limit:
            findings.append(
                Finding(
                    "Pod",
                    namespace,
                    name,
                    f"--service-account-max-token-expiration={raw} exceeds the {limit}s policy",
                )
            )
        if flags.is_true("service-account-extend-token-expiration"):
            findings.append(
                Finding(
                    "Pod",
                    namespace,
                    name,
                    "admission-injected tokens are extended to one year: "
                    + flags.source("service-account-extend-token-expiration"),
                )
            )
    cluster.judge(findings, passed=f"token lifetimes capped within {limit}s")


@check("projected-token-expiration")
def test_projected_tokens_within_policy(cluster: Cluster) -> None:
    """1.3.4 — projected serviceAccountToken volumes ask for lifetimes within policy."""
    limit = cluster.settings.token_lifetime_limit
    findings = []
    for pod in cluster.snapshot.pods:
        for volume, seconds in tokens.projected_token_lifetimes(pod):
            if seconds > limit:
                findings.append(
                    Finding(
                        "Pod",
                        pod["metadata"].get("namespace", ""),
                        pod["metadata"]["name"],
                        f"projected token volume {volume} asks for {seconds}s (> {limit}s)",
                    )
                )
    cluster.evidence("Policy", f"longest acceptable token lifetime: {limit}s")
    cluster.judge(findings, passed=f"every projected token asks for at most {limit}s")
