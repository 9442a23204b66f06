"""One finding per binding and subject.

Regression: cluster-admin has two rules (all resources, all non-resource URLs), so a
generic group bound to it was reported twice, once per rule, naming the same binding.
"""

from __future__ import annotations

from kubepci.analysis.identities import cluster_admin_holders
from kubepci.analysis.rbac import binding_findings
from tests.builders import cluster_role, cluster_role_binding, rbac_graph, rule, subject_group

CLUSTER_ADMIN = cluster_role(
    "cluster-admin", [rule(["*"], ["*"], groups=["*"]), rule(["*"], urls=["*"])]
)


def test_two_rules_one_binding_one_finding() -> None:
    graph = rbac_graph(
        CLUSTER_ADMIN,
        cluster_role_binding(
            "ops-admins", "cluster-admin", [subject_group("kubeadm:cluster-admins")]
        ),
    )
    holders = cluster_admin_holders(graph)
    assert len(holders) == 2  # both rules reach the group
    findings = binding_findings(holders, lambda g: g.path())
    assert [f.ref for f in findings] == ["ClusterRoleBinding ops-admins"]


def test_each_subject_of_a_binding_is_its_own_finding() -> None:
    graph = rbac_graph(
        CLUSTER_ADMIN,
        cluster_role_binding(
            "shared", "cluster-admin", [subject_group("admins"), subject_group("system:masters")]
        ),
    )
    findings = binding_findings(cluster_admin_holders(graph), lambda g: g.subject.name)
    assert sorted(f.detail for f in findings) == ["admins", "system:masters"]
