"""A binding to a role that does not exist yet (PCI 1.5.3): which subjects make it a
finding, since whoever creates the role grants it to them at once; and which bindings are
Kubernetes' own default grants, set aside only while their role is the default one.

Found by ``make mutation`` (tests/mutation/): the anonymous user and the system:masters
group were never named by such a binding in a test, nor a user or group that only looks
like them. Nor did a test set a default binding aside through a default Role (looked up
by namespace and name), or judge one whose default ClusterRole was widened.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.authorizer import Binding, Subject
from kubepci.analysis.privilege_report import latent_risk
from tests.unit.test_privilege_paths import default_object, held, report


def binding(*subjects: Subject) -> Binding:
    return Binding("RoleBinding", "payments", "future-admin", "ClusterRole", "not-yet", subjects)


@pytest.mark.parametrize(
    ("subject", "why"),
    [
        (Subject("User", "system:anonymous"), "names User system:anonymous"),
        (Subject("Group", "system:unauthenticated"), "names Group system:unauthenticated"),
        (Subject("Group", "system:masters"), "names Group system:masters"),
        # Look-alikes: a user is no group, a group is no user.
        (Subject("User", "system:masters"), ""),
        (Subject("Group", "system:anonymous"), ""),
        (Subject("User", "jane@example.com"), ""),
        (Subject("Group", "payments-admins"), ""),
    ],
)
def test_who_a_latent_binding_reaches(subject: Subject, why: str) -> None:
    assert latent_risk(binding(subject)) == why


def test_the_first_catch_all_subject_is_named() -> None:
    jane, anonymous = Subject("User", "jane@example.com"), Subject("User", "system:anonymous")
    assert latent_risk(binding(jane, anonymous)) == "names User system:anonymous"


# ------------------------------------------------------------------ default bindings' roles
# A binding is set aside only when the live role it names is no broader than the default
# one (``defaults.binding_verdict``): the live rules must be looked up by kind, namespace
# and name, as the authorizer resolves a roleRef (rbac.go via
# pkg/registry/rbac/validation/rule.go GetRoleReferenceRules: a Role in the binding's
# namespace, a ClusterRole by name).


def test_a_default_binding_to_a_default_role_is_set_aside() -> None:
    name = "system:controller:bootstrap-signer"
    signer = Subject("ServiceAccount", "bootstrap-signer", "kube-system")
    rep = report(
        default_object("Role", name, "kube-system"),
        default_object("RoleBinding", name, "kube-system"),
    )
    # The Role reads kube-system's Secrets: Kubernetes' own grant, not a finding.
    assert held(rep, signer) == set()
    assert "read-secrets" in {h.privilege.id for h in rep.set_aside if h.principal == signer}
    assert f"RoleBinding kube-system/{name}" in rep.default_bindings


def test_a_default_binding_to_a_widened_default_cluster_role_is_judged() -> None:
    name = "system:public-info-viewer"
    widened = default_object("ClusterRole", name)
    widened["rules"] = [
        *widened["rules"],
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
    ]
    rep = report(widened, default_object("ClusterRoleBinding", name))
    # Every caller, signed in or not, reads Secrets through the widened role.
    assert "read-secrets" in held(rep, Subject("Group", "system:unauthenticated"))
    assert f"ClusterRoleBinding {name}" not in rep.default_bindings


# ------------------------------------------------------------------ what the report keeps
# Found by ``make mutation`` (second run): no test widened a default Role (only a default
# ClusterRole), nor read the report's dangling bindings, its bindings beyond the default or
# its limitations, which the PCI 1.5.3 / 7.2 checks and the report's notes are built from.


def test_a_default_binding_to_a_widened_default_role_is_judged() -> None:
    # The live Role's rules are what the binding grants (rule.go GetRoleReferenceRules
    # reads the Role in the binding's namespace), so a widened one is no default.
    name = "system:controller:bootstrap-signer"
    widened = default_object("Role", name, "kube-system")
    widened["rules"] = [
        *widened["rules"],
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
    ]
    rep = report(widened, default_object("RoleBinding", name, "kube-system"))
    assert f"RoleBinding kube-system/{name}" not in rep.default_bindings
    assert [(b.kind, b.namespace, b.name) for b in rep.beyond_default] == [
        ("RoleBinding", "kube-system", name)
    ]


def test_only_the_bindings_beyond_the_default_are_judged_as_the_operators() -> None:
    name = "system:public-info-viewer"
    ops = {
        "metadata": {"name": "ops-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "ops"}],
    }
    rep = report(
        default_object("ClusterRole", name), default_object("ClusterRoleBinding", name), ops
    )
    assert rep.default_bindings == [f"ClusterRoleBinding {name}"]
    assert [b.ref for b in rep.beyond_default] == ["ClusterRoleBinding ops-view"]


def test_a_binding_to_a_missing_role_is_reported_dangling() -> None:
    future = {
        "metadata": {"name": "future-admin", "namespace": "payments"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "not-yet"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "payments"}],
    }
    rep = report(future)
    assert [b.ref for b in rep.dangling] == ["RoleBinding payments/future-admin"]
    assert rep.holdings == []


def test_the_report_names_the_default_policy_it_judged_against() -> None:
    # Every policy carries a note (load_default_policy), the report's limitations line.
    assert report().limitations == [
        "default grants judged against the Kubernetes 1.35 policy (kubeadm v1.35, kubernetes v1.35)"
    ]
