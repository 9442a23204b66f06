"""Looking a default grant up, and why a live binding is not one, word for word.

Found by ``make mutation`` (tests/mutation/): no test judged a binding against a server too
old for any shipped policy (the reason then names no version), handed ``binding_verdict``
a role, bound a default RoleBinding's ServiceAccount by name alone (the namespace left to
the binding's own, as the API server allows), or asked for a cluster-scoped default with a
namespace. The reason is the evidence a PCI 7.2 / 1.5.3 finding shows for such a binding.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.defaults import load_default_policy
from tests.builders import role_binding
from tests.builders import subject_sa as sa
from tests.builders import subject_user as user
from tests.unit.test_default_policy import POLICY, roles

OLD = load_default_policy("v1.10.0")  # older than every shipped policy: nothing is default


@pytest.mark.parametrize(
    ("policy", "where"),
    [(POLICY, "the 1.35 default policy"), (OLD, "any shipped policy")],
)
def test_a_binding_no_policy_ships_names_where_it_was_looked_for(policy, where: str) -> None:
    binding = role_binding("ops", "payments", "edit", [user("jane")], role_kind="ClusterRole")
    assert policy.binding_verdict("RoleBinding", binding, roles()) == (
        False,
        f"no default RoleBinding named 'ops' in {where}",
    )


def test_even_kubernetes_own_binding_is_judged_when_no_policy_applies() -> None:
    name = "system:controller:token-cleaner"
    binding = role_binding(name, "kube-system", name, [sa("token-cleaner", "kube-system")])
    assert not OLD.is_default_binding("RoleBinding", binding, roles())


def test_a_role_is_never_a_default_binding() -> None:
    # Only binding kinds are looked up: the ClusterRole "view" is a default, no binding.
    view = {"metadata": {"name": "view"}, "rules": []}
    assert POLICY.binding_verdict("ClusterRole", view, roles()) == (
        False,
        "no default ClusterRole named 'view' in the 1.35 default policy",
    )


def test_a_default_role_bindings_account_may_take_the_bindings_namespace() -> None:
    # A ServiceAccount subject of a RoleBinding may omit its namespace (validation.go
    # ValidateRoleBindingSubject requires one only outside a namespace), and is then the
    # binding's own (pkg/registry/rbac/validation/rule.go appliesToUser): the same grant.
    name = "system:controller:token-cleaner"
    binding = role_binding(name, "kube-system", name, [sa("token-cleaner")])
    assert POLICY.binding_verdict("RoleBinding", binding, roles()) == (
        True,
        "exactly the kubernetes v1.35 default",
    )
    # In another namespace the same name is another account, beyond the default.
    other = role_binding(name, "kube-system", name, [sa("token-cleaner", "payments")])
    assert not POLICY.is_default_binding("RoleBinding", other, roles())


@pytest.mark.parametrize(
    ("kind", "name"),
    [("ClusterRole", "view"), ("ClusterRoleBinding", "system:kube-controller-manager")],
)
def test_a_cluster_scoped_default_has_no_namespace_to_match(kind: str, name: str) -> None:
    # A cluster-scoped object has no namespace: whatever one is asked with, it is the same.
    found = POLICY.lookup(kind, "kube-system", name)
    assert found is not None
    assert found == POLICY.lookup(kind, "", name)
