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
