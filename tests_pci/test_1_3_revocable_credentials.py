"""PCI 1.3 — all credentials used with the orchestration system can be revoked."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import certificates, credentials, csr_history, privilege_findings, tokens
from kubepci.analysis.flags import MAX_TOKEN_EXPIRATION, token_expiration_cap
from kubepci.analysis.keyfiles import key_file_findings
from kubepci.analysis.pod_credentials import TokenSecrets, pod_credentials, token_secret_consumers
from kubepci.analysis.token_lifetime import (
    TokenIssuance,
    apiserver_argv,
    longest_lifetime,
    projected_tokens,
)
from kubepci.facade import Cluster
from kubepci.verdict import EvidenceUnavailable, Finding, NotApplicable

MINTING = "1.3.2"


@check("kubeconfig-client-certificate")
def test_kubeconfig_user_has_no_client_certificate(cluster: Cluster) -> None:
    """1.3.1 — the person running the audit sends no client certificate (Kubernetes cannot
    revoke one), alongside anything else or alone, and holds no ServiceAccount token that
    never expires or outlives the token-lifetime policy."""
    credential = cluster.interactive_credential()
    why_not = credentials.unjudged(credential, cluster.identity, "revocable")
    if why_not:
        raise EvidenceUnavailable(why_not)
    limit = cluster.settings.token_lifetime_limit
    cluster.judge(
        credentials.revocation_findings(cluster.target.user, credential, limit),
        passed=f"the kubeconfig user sends no client certificate; it authenticates with "
        f"{credential.detail}",
    )


@check("client-certificate-csrs")
def test_no_client_certificates_issued_to_people(cluster: Cluster) -> None:
    """1.3.2 — no approved CSR issued a client certificate to anything but a kubelet (its
    own, or through TLS bootstrap), and none asks for system:masters; judged from the CSR
    list and, under --node-root, from the API server audit log, which reaches back past
    the hour or two that csrcleaner leaves an issued CSR in the list."""
    findings, seen = certificates.listed_findings(cluster.snapshot.csrs)
    cluster.evidence("Client-certificate CSRs listed", seen, "objects")
    retention = certificates.RETENTION
    for flags in cluster.visible_flags("kube-controller-manager"):
        cluster.evidence(
            f"kube-controller-manager flags ({flags.pod})", flags.evidence(["controllers"]), "flags"
        )
        if not certificates.cleaner_enabled(flags.get("controllers")):
            retention = (
                f"csrcleaner is disabled on {flags.pod} (--controllers="
                f"{flags.get('controllers')}): CSRs stay listed until someone deletes them"
            )
    log = cluster.csr_audit_log()
    coverage = "the API server audit log was not read (see the evidence)"
    if log is not None:
        lives, unnamed = csr_history.lifecycles(list(log.events))
        listed = {str(c["metadata"]["name"]) for c in cluster.snapshot.csrs}
        history = csr_history.judge(lives, listed)
        findings += history.findings
        cluster.evidence("CSRs judged from the audit log", history.judged)
        cluster.evidence("Taken as kubelet certificates (audit log)", history.kubelet_assumed)
        cluster.evidence("Approvals the audit log cannot tie to a request", history.unjudged)
        coverage = (
            f"{log.coverage()}; {len(history.judged)} CSR(s) no longer listed judged from it, "
            f"{len(history.kubelet_assumed)} taken as kubelets', {len(unnamed)} unnamed "
            f"filing(s), {len(history.unjudged)} approval(s) it cannot tie to a request"
        )
    cluster.evidence("CSR retention", f"{retention}; {coverage}")
    cluster.judge(
        findings,
        passed=f"no client certificate issued beyond kubelets among {len(seen)} listed "
        f"client CSR(s) ({retention}); {coverage}",
    )


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
    keys = cluster.signing_keys()
    cluster.evidence("Signing keys inspected", [k.to_json() for k in keys], "objects")
    cluster.judge(key_file_findings(keys), passed=f"{len(keys)} signing key(s) are root-only")


@check("legacy-service-account-tokens")
def test_no_secret_based_service_account_tokens(cluster: Cluster) -> None:
    """1.3.4 — no long-lived, secret-based ServiceAccount tokens exist: no Secret of type
    kubernetes.io/service-account-token (listed by that type, metadata only; the
    legacy-token labels and the pods that hold each token are kept as evidence). A Secret
    of another type that kept the service-account annotation is not one."""
    legacy = tokens.service_account_token_secrets(cluster.snapshot.token_secrets)
    cluster.evidence("Secret-based ServiceAccount tokens (metadata only)", legacy, "objects")
    copies = tokens.annotated_copies(cluster.snapshot.secrets, legacy)
    if copies:
        cluster.evidence(
            "Not legacy tokens: Secrets of another type with the service-account annotation",
            [
                f"Secret {s['metadata'].get('namespace', '')}/{s['metadata']['name']}"
                for s in copies
            ],
        )
    accounts = tokens.service_account_index(cluster.snapshot.service_accounts)
    secrets = TokenSecrets.from_listing(legacy)
    consumers = token_secret_consumers(
        pod_credentials(p, accounts, secrets)
        for p in cluster.snapshot.pods
        if not tokens.is_mirror_pod(p)
    )
    findings = []
    for s in legacy:
        namespace, name = s["metadata"].get("namespace", ""), s["metadata"]["name"]
        detail = tokens.legacy_token_detail(s)
        held = consumers.get((namespace, name))
        if held:
            detail += "; held by " + ", ".join(held)
        findings.append(Finding("Secret", namespace, name, detail))
    cluster.judge(findings, passed="no secret-based ServiceAccount tokens")


@check("service-account-token-lifetime")
def test_api_server_caps_token_lifetime(cluster: Cluster) -> None:
    """1.3.4 — --service-account-max-token-expiration (a Go duration; 0, its default, is
    no cap) is set within policy and --service-account-extend-token-expiration=false."""
    limit = cluster.settings.token_lifetime_limit
    findings = []
    for flags in cluster.flags("kube-apiserver"):
        names = [MAX_TOKEN_EXPIRATION, "service-account-extend-token-expiration"]
        cluster.evidence(f"kube-apiserver flags ({flags.pod})", flags.evidence(names), "flags")
        namespace, name = flags.pod.split("/", 1)
        cap = token_expiration_cap(flags)
        if cap == 0:
            findings.append(
                Finding(
                    "Pod",
                    namespace,
                    name,
                    f"no token lifetime cap ({flags.source(MAX_TOKEN_EXPIRATION)}): tokens "
                    "may be requested for any lifetime",
                )
            )
        elif cap > limit:
            findings.append(
                Finding(
                    "Pod",
                    namespace,
                    name,
                    f"{flags.source(MAX_TOKEN_EXPIRATION)}: {cap:g}s exceeds the {limit}s policy",
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
    """1.3.4 — every projected ServiceAccount token a pod holds (the admission-injected
    one included) lives within policy, judged by the lifetime the API server gives it:
    the request shortened to --service-account-max-token-expiration, and a 3607 s request
    extended to a year by --service-account-extend-token-expiration (token.go). Where the
    server's flags cannot be read, its defaults (no maximum, extension on) are assumed."""
    limit = cluster.settings.token_lifetime_limit
    try:
        issuances = [
            TokenIssuance.from_flags(f, apiserver_argv(cluster.snapshot.pods, f.pod))
            for f in cluster.flags("kube-apiserver")
        ]
    except (NotApplicable, EvidenceUnavailable) as exc:
        issuances = [TokenIssuance.kubernetes_defaults(str(exc))]
    cluster.evidence("How the API server issues pod tokens", [i.to_json() for i in issuances])
    findings, changed = [], []
    for pod in cluster.snapshot.pods:
        meta = pod["metadata"]
        too_long = []
        for token in projected_tokens(pod):
            life = longest_lifetime(token, issuances)
            text = f"projected token volume {token.volume} {life.text()}"
            if life.effective != life.requested:
                changed.append(f"Pod {meta.get('namespace', '')}/{meta['name']}: {text}")
            if life.effective > limit:
                too_long.append(f"{text}, over the {limit}s policy")
        if too_long:
            findings.append(
                Finding("Pod", meta.get("namespace", ""), meta["name"], "; ".join(too_long))
            )
    cluster.evidence("Policy", f"longest acceptable token lifetime: {limit}s")
    cluster.evidence("Tokens the server issues for another lifetime than asked", changed)
    cluster.judge(findings, passed=f"every projected token lives at most {limit}s")
