"""A path through a group of holders names the member reached and goes on from it.

Regression: a client-certificate approver's admin-equivalence (approve → any identity →
a group bound to cluster-admin) was reported as one hop, as if the approval itself were
cluster-admin, so 1.3.2 took the approver for a wildcard admin and dropped it.
"""

from __future__ import annotations

from kubepci.analysis.privilege_report import analyse
from kubepci.analysis.workloads import Workloads


def _obj(kind: str, name: str, **body: object) -> dict:
    return {"kind": kind, "metadata": {"name": name}, **body}


APPROVER_RULES = [
    # Filing its own request is what turns approval into an identity for the approver.
    {
        "apiGroups": ["certificates.k8s.io"],
        "resources": ["certificatesigningrequests"],
        "verbs": ["create"],
    },
    {
        "apiGroups": ["certificates.k8s.io"],
        "resources": ["certificatesigningrequests/approval"],
        "verbs": ["update"],
    },
    {
        "apiGroups": ["certificates.k8s.io"],
        "resources": ["signers"],
        "resourceNames": ["kubernetes.io/kube-apiserver-client"],
        "verbs": ["approve"],
    },
]


def _rbac() -> dict[str, list[dict]]:
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole"}
    return {
        "clusterroles": [
            _obj(
                "ClusterRole",
                "all",
                rules=[{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
            ),
            _obj("ClusterRole", "approver", rules=APPROVER_RULES),
        ],
        "clusterrolebindings": [
            _obj(
                "ClusterRoleBinding",
                "ops",
                roleRef={**ref, "name": "all"},
                subjects=[{"kind": "Group", "name": "ops-team"}],
            ),
            _obj(
                "ClusterRoleBinding",
                "approve",
                roleRef={**ref, "name": "approver"},
                subjects=[{"kind": "ServiceAccount", "name": "signer", "namespace": "pki"}],
            ),
        ],
        "roles": [],
        "rolebindings": [],
    }


def test_approver_path_names_the_admin_it_can_become() -> None:
    report = analyse(_rbac(), Workloads.from_objects([], [], []), "v1.35.4")
    approver = [h for h in report.of_class("admin-equivalent") if h.principal.name == "signer"]
    assert len(approver) == 1
    hops = approver[0].hops
    assert len(hops) == 2, [h.text() for h in hops]
    assert hops[0].hit.privilege.id == "mint-client-certificates"
    assert "ops-team" in hops[0].becomes
    assert hops[1].hit.privilege.id == "admin-equivalent"
    assert report.direct_admins() == {
        h.principal for h in report.of_class("admin-equivalent") if h.principal.name == "ops-team"
    }
