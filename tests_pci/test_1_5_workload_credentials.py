"""PCI 1.5 — workloads receive orchestration credentials only where explicitly required,
and service accounts hold least privilege."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import privilege_findings, tokens
from kubepci.analysis.privilege_report import (
    is_workload_principal,
    latent_risk,
    reaches_default_account,
)
from kubepci.facade import Cluster
from kubepci.verdict import Finding


def _pod_finding(pod: dict, detail: str) -> Finding:
    return Finding("Pod", pod["metadata"].get("namespace", ""), pod["metadata"]["name"], detail)


@check("pod-token-automount")
def test_pods_get_tokens_only_when_they_ask(cluster: Cluster) -> None:
    """1.5.1 — no pod receives a service account token by default: the effective
    automount (pod over ServiceAccount over the default true) is false unless a pod or its
    ServiceAccount asks for it explicitly."""
    accounts = tokens.service_account_index(cluster.snapshot.service_accounts)
    findings, explicit = [], []
    for pod in cluster.snapshot.pods:
        if tokens.is_mirror_pod(pod):
            continue
        automount = tokens.effective_automount(pod, accounts)
        if automount.mounted and not automount.explicit:
            findings.append(_pod_finding(pod, automount.text()))
        elif automount.mounted:
            meta = pod["metadata"]
            explicit.append(f"Pod {meta.get('namespace')}/{meta['name']}: {automount.decided_by}")
    cluster.evidence("Pods that mount a token because they ask for it", explicit)
    cluster.judge(findings, passed="every mounted token was explicitly requested")


@check("default-service-account-in-use")
def test_no_pod_runs_as_default_service_account(cluster: Cluster) -> None:
    """1.5.2 — no pod runs as its namespace's default ServiceAccount with a token."""
    accounts = tokens.service_account_index(cluster.snapshot.service_accounts)
    findings = []
    for pod in cluster.snapshot.pods:
        if tokens.is_mirror_pod(pod) or pod["spec"].get("serviceAccountName") != "default":
            continue
        automount = tokens.effective_automount(pod, accounts)
        if automount.mounted:
            findings.append(
                _pod_finding(pod, f"runs as the default ServiceAccount; {automount.text()}")
            )
    cluster.judge(findings, passed="no pod uses a default ServiceAccount token")


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
