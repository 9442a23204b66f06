"""PCI 1.5 — workloads receive orchestration credentials only where explicitly required,
and service accounts hold least privilege."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubepci import check
from kubepci.analysis import pod_tokens, workload_privileges
from kubepci.analysis.judgement import Gathered
from kubepci.facade import Cluster
from kubepci.verdict import EvidenceUnavailable


def _token_secrets(cluster: Cluster) -> Gathered[Sequence[dict[str, Any]]]:
    """The legacy token Secrets, or why they could not be listed: a limitation of the
    pod checks, which name what it leaves unresolved, not an error by itself."""
    try:
        return Gathered(cluster.snapshot.token_secrets)
    except EvidenceUnavailable as exc:
        return Gathered([], exc.reason)


@check("pod-token-automount")
def test_pods_get_tokens_only_when_they_ask(cluster: Cluster) -> None:
    """1.5.1 — no pod holds a ServiceAccount credential it did not explicitly ask for: the
    admission-injected kube-api-access volume is there only where the pod or its
    ServiceAccount sets automountServiceAccountToken: true (pod over ServiceAccount over
    the default true). Projected tokens and legacy token Secrets a pod spec names are
    explicit requests, listed as evidence; the default-account and token-lifetime checks
    judge them."""
    snapshot = cluster.snapshot
    cluster.conclude(
        pod_tokens.judge_pod_token_automount(
            snapshot.service_accounts, snapshot.pods, _token_secrets(cluster)
        )
    )


@check("default-service-account-in-use")
def test_no_pod_runs_as_default_service_account(cluster: Cluster) -> None:
    """1.5.2 — no pod uses a namespace's default ServiceAccount: none runs as ``default``
    holding a credential by any path (automount, a projected token, a legacy token Secret
    in a volume or the environment, even another account's), and none holds a ``default``
    account's legacy token."""
    snapshot = cluster.snapshot
    cluster.conclude(
        pod_tokens.judge_default_account_use(
            snapshot.service_accounts, snapshot.pods, _token_secrets(cluster)
        )
    )


@check("default-service-account-bindings")
def test_no_binding_grants_default_service_account(cluster: Cluster) -> None:
    """1.5.2 / 1.5.3 — beyond Kubernetes' default policy, no RoleBinding or
    ClusterRoleBinding reaches a namespace's default ServiceAccount, which every pod
    without its own account shares: not by name, by its username, or by a group it is in."""
    cluster.conclude(
        workload_privileges.judge_default_account_bindings(cluster.privileges.beyond_default)
    )


@check("service-account-privileges")
def test_service_accounts_hold_least_privilege(cluster: Cluster) -> None:
    """1.5.3 — no ServiceAccount (by name, username, or through system:serviceaccounts*,
    system:authenticated or system:unauthenticated) holds a risky privilege class of the
    catalogue beyond Kubernetes' default policy, directly or by any path (running as,
    minting the token of, impersonating or binding the role of another identity). Each
    finding carries its class and path, and is confirmed by the API server's authorizer."""
    report = cluster.privileges
    judged = workload_privileges.plan_service_account_privileges(report)
    cluster.conclude(judged.so_far, final=False)
    cluster.confirm(judged.then)
    authorizer = cluster.authorizer_findings()
    cluster.conclude(
        workload_privileges.judge_service_account_privileges(
            judged.then, report.dangling, authorizer
        )
    )
