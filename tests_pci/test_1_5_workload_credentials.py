"""PCI 1.5 — workloads receive orchestration credentials only where explicitly required,
and service accounts hold least privilege."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import privilege_findings, tokens
from kubepci.analysis.pod_credentials import PodCredentials, TokenSecrets, pod_credentials
from kubepci.analysis.privilege_report import (
    is_workload_principal,
    latent_risk,
    reaches_default_account,
)
from kubepci.facade import Cluster
from kubepci.verdict import EvidenceUnavailable, Finding


def _pod_credentials(cluster: Cluster) -> tuple[list[PodCredentials], str]:
    """Every non-mirror pod's credentials, and why legacy token Secrets could not be
    listed ('' when they were). Mirror pods may not use ServiceAccounts or Secrets."""
    accounts = tokens.service_account_index(cluster.snapshot.service_accounts)
    pods = [p for p in cluster.snapshot.pods if not tokens.is_mirror_pod(p)]
    try:
        listed = tokens.service_account_token_secrets(cluster.snapshot.token_secrets)
        secrets, missing = TokenSecrets.from_listing(listed), ""
    except EvidenceUnavailable as exc:
        secrets, missing = None, str(exc)
    return [pod_credentials(p, accounts, secrets) for p in pods], missing


def _notes(cluster: Cluster, held: list[PodCredentials]) -> None:
    notes = [f"{c.ref}: {note}" for c in held for note in c.notes]
    if notes:
        cluster.evidence("Settings that deliver no credential", notes)


@check("pod-token-automount")
def test_pods_get_tokens_only_when_they_ask(cluster: Cluster) -> None:
    """1.5.1 — no pod holds a ServiceAccount credential it did not explicitly ask for: the
    admission-injected kube-api-access volume is there only where the pod or its
    ServiceAccount sets automountServiceAccountToken: true (pod over ServiceAccount over
    the default true). Projected tokens and legacy token Secrets a pod spec names are
    explicit requests, listed as evidence; the default-account and token-lifetime checks
    judge them."""
    held, missing = _pod_credentials(cluster)
    findings, explicit = [], []
    for pod in held:
        unrequested = pod.unrequested()
        if unrequested:
            detail = "; ".join(d.text() for d in unrequested)
            findings.append(Finding("Pod", pod.namespace, pod.name, detail))
        asked = [d.text() for d in pod.deliveries if d.explicit]
        if asked:
            explicit.append(f"{pod.ref}: " + "; ".join(asked))
    cluster.evidence("Pods that hold a credential because they ask for it", explicit)
    _notes(cluster, held)
    if missing:
        cluster.evidence(
            "Limitation",
            f"legacy token Secrets could not be listed ({missing}); a Secret a pod names "
            "is an explicit request either way, so the verdict does not depend on them",
        )
    cluster.judge(findings, passed="every credential a pod holds was explicitly requested")


@check("default-service-account-in-use")
def test_no_pod_runs_as_default_service_account(cluster: Cluster) -> None:
    """1.5.2 — no pod uses a namespace's default ServiceAccount: none runs as ``default``
    holding a credential by any path (automount, a projected token, a legacy token Secret
    in a volume or the environment, even another account's), and none holds a ``default``
    account's legacy token."""
    held, missing = _pod_credentials(cluster)
    findings = []
    for pod in held:
        detail = pod.default_account_detail()
        if detail:
            findings.append(Finding("Pod", pod.namespace, pod.name, detail))
    _notes(cluster, held)
    unresolved = [f"{c.ref} names {ref}" for c in held for ref in c.unresolved]
    if missing and unresolved:
        cluster.evidence("Secret references not resolved", unresolved)
        if not findings:
            raise EvidenceUnavailable(
                f"{missing}: {len(unresolved)} Secret reference(s) in pods may be legacy "
                "ServiceAccount tokens"
            )
    cluster.judge(findings, passed="no pod uses a default ServiceAccount's credential")


@check("default-service-account-bindings")
def test_no_binding_grants_default_service_account(cluster: Cluster) -> None:
    """1.5.2 / 1.5.3 — beyond Kubernetes' default policy, no RoleBinding or
    ClusterRoleBinding reaches a namespace's default ServiceAccount, which every pod
    without its own account shares: not by name, by its username, or by a group it is in."""
    report = cluster.privileges
    findings = []
    for binding in report.beyond_default:
        for subject in binding.subjects:
            why = reaches_default_account(subject)
            if why:
                findings.append(
                    Finding(
                        binding.kind,
                        binding.namespace,
                        binding.name,
                        f"grants {binding.role_ref}: {why}",
                        finding_class="default-service-account",
                    )
                )
    cluster.judge(findings, passed="no binding beyond the default policy reaches a default account")


@check("service-account-privileges")
def test_service_accounts_hold_least_privilege(cluster: Cluster) -> None:
    """1.5.3 — no ServiceAccount (by name, username, or through system:serviceaccounts*,
    system:authenticated or system:unauthenticated) holds a risky privilege class of the
    catalogue beyond Kubernetes' default policy, directly or by any path (running as,
    minting the token of, impersonating or binding the role of another identity). Each
    finding carries its class and path, and is confirmed by the API server's authorizer."""
    report = cluster.privileges
    workload = [h for h in report.holdings if is_workload_principal(h.principal)]
    cluster.evidence(
        "Privilege paths (principal → binding → role → rule → … → class)",
        [h.to_json() for h in workload],
        "rbac",
    )
    cluster.evidence("Kubernetes' default policy recognised (set aside)", report.default_bindings)
    if report.dangling:
        cluster.evidence(
            "Bindings to roles that do not exist yet (latent grants)",
            [f"{b.ref} → {b.role_ref}" for b in report.dangling],
        )
    for limitation in report.limitations:
        cluster.evidence("Limitation", limitation)
    judged = privilege_findings.summarised(workload)
    cluster.confirm(judged)
    findings = [privilege_findings.finding(h) for h in judged]
    findings += [
        Finding(
            b.kind,
            b.namespace,
            b.name,
            f"{latent_risk(b)} and grants {b.role_ref}, "
            "which does not exist yet: whoever creates it grants it here",
            finding_class="latent-grant",
        )
        for b in report.dangling
        if latent_risk(b)
    ]
    findings += cluster.authorizer_findings()
    cluster.judge(findings, passed="no ServiceAccount holds a risky privilege class")
