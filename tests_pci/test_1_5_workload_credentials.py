"""PCI 1.5 — workloads receive orchestration credentials only where explicitly required,
and service accounts hold least privilege."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import privileges, tokens
from kubepci.analysis.rbac import binding_findings
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
    """1.5.2 / 1.5.3 — no RoleBinding or ClusterRoleBinding grants anything to a
    namespace's default ServiceAccount, which every pod without its own account shares."""
    grants = cluster.rbac.where(lambda s: s.kind == "ServiceAccount" and s.name == "default")
    findings = binding_findings(grants, lambda g: f"grants {g.role_ref} to {g.subject.ref}")
    cluster.judge(findings, passed="no binding names a default ServiceAccount")


@check("service-account-privileges")
def test_service_accounts_hold_least_privilege(cluster: Cluster) -> None:
    """1.5.3 — no ServiceAccount (directly, or through system:serviceaccounts* or
    system:authenticated) holds cluster-admin, wildcards, escalate/bind/impersonate,
    cluster-wide secret read, nodes/proxy, cluster-wide pod creation, CSR approval or token
    creation. Each finding carries its privilege path."""
    found, set_aside = privileges.service_account_privileges(cluster.rbac)
    cluster.evidence(
        "Privilege paths (ServiceAccount → binding → role → rule)",
        [{"subject": f.subject.ref, "permission": f.permission, "paths": f.paths()} for f in found],
        "rbac",
    )
    cluster.evidence(
        "Kubernetes bootstrap grants to control-plane ServiceAccounts (set aside)",
        sorted({g.binding_ref for g in set_aside}),
    )
    findings = [
        Finding(
            f.subject.kind,
            f.subject.namespace,
            f.subject.name,
            f"{f.permission}: {f.paths()[0]}"
            + (f" (+{len(f.grants) - 1} more path(s))" if len(f.grants) > 1 else ""),
        )
        for f in found
    ]
    cluster.judge(findings, passed="no ServiceAccount holds escalation-grade permissions")
