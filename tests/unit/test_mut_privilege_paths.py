"""Privilege paths that follow named grants (``kubepci.analysis.privilege_paths``).

Found by ``make mutation`` (tests/mutation/): no test bound a Role by name, bound every
role of a namespace that also has Roles elsewhere, or named a ServiceAccount, pod or
token Secret whose name recurs in another namespace. Kubernetes decides each:

- bind: ``pkg/registry/rbac/escalation_check.go`` ``BindingAuthorized`` asks ``bind`` on
  ``roles`` for a roleRef to a Role and on ``clusterroles`` for one to a ClusterRole, with
  the roleRef's name, in the new binding's namespace; a RoleBinding's Role is one of its
  own namespace (``pkg/apis/rbac/v1/evaluation_helpers.go`` via rbac.go's rule lookup);
- a TokenRequest, a pod's exec or patch and a token Secret are namespaced objects: a name
  granted in one namespace reaches that namespace's object only
  (``plugin/pkg/auth/authorizer/rbac/rbac.go``: a RoleBinding applies in its namespace).
"""

from __future__ import annotations

from typing import Any

import pytest

from kubepci.analysis import privilege_paths
from kubepci.analysis.authorizer import Authorizer
from kubepci.analysis.principals import RoleKey
from kubepci.analysis.workloads import Workloads
from kubepci.catalogue.privileges import load as load_catalogue
from tests.builders import (
    CLUSTER_ADMIN,
    cluster_role,
    cluster_role_binding,
    pod,
    rbac_lists,
    role,
    role_binding,
    rule,
    secret_meta,
    service_account,
    subject_sa,
)
from tests.unit.test_privilege_paths import ADMIN, BOT, NS, RBAC, held, holding, report

Obj = dict[str, Any]
OTHER = "web"
SA = subject_sa("bot", NS)


def bound_to_bot(rules: list[Obj], name: str = "granted") -> list[Obj]:
    """The rules in a Role of payments, bound to ServiceAccount payments/bot."""
    return [role(name, NS, rules), role_binding(name, NS, name, [SA])]


def admin_of(ns: str, name: str) -> list[Obj]:
    return [
        CLUSTER_ADMIN,
        cluster_role_binding(f"{ns}-{name}-admin", "cluster-admin", [subject_sa(name, ns)]),
    ]


CREATE_BINDINGS = rule(["create"], ["rolebindings"], RBAC)
# The same name for a Role and a ClusterRole that grant different classes.
READER_ROLE = role("reader", NS, [rule(["get"], ["secrets"])])
READER_CLUSTER_ROLE = cluster_role("reader", [rule(["create"], ["pods"])])


class TestBindingANamedRole:
    """bind limited by resourceNames gives the holder what the roles it names grant, of
    the kind it may bind: a Role by ``roles``, a ClusterRole by ``clusterroles``."""

    def test_bind_on_a_named_role_gives_that_role_not_a_cluster_role_of_its_name(
        self,
    ) -> None:
        rules = [rule(["bind"], ["roles"], RBAC, names=["reader"]), CREATE_BINDINGS]
        rep = report(bound_to_bot(rules), READER_ROLE, READER_CLUSTER_ROLE)
        classes = held(rep, BOT)
        assert "read-secrets" in classes
        # A RoleBinding to ClusterRole reader asks bind on clusterroles: not granted.
        assert "create-workloads" not in classes
        path = holding(rep, BOT, "read-secrets").path()
        assert "acts as the holder of Role payments/reader in namespace payments" in path

    def test_bind_on_a_named_cluster_role_gives_no_role_of_its_name(self) -> None:
        rules = [
            rule(["bind"], ["clusterroles"], RBAC, names=["reader", "peeker"]),
            CREATE_BINDINGS,
        ]
        peeker = cluster_role("peeker", [rule(["create"], ["pods"])])
        rep = report(bound_to_bot(rules), READER_ROLE, peeker)
        classes = held(rep, BOT)
        assert "create-workloads" in classes  # ClusterRole peeker, bound in payments
        assert "read-secrets" not in classes  # Role reader is not a ClusterRole
        path = holding(rep, BOT, "create-workloads").path()
        assert "acts as the holder of ClusterRole peeker in namespace payments" in path

    def test_bind_on_a_named_role_that_does_not_exist_gives_nothing(self) -> None:
        rules = [rule(["bind"], ["roles"], RBAC, names=["absent", "reader"]), CREATE_BINDINGS]
        # Role reader lives in another namespace: a RoleBinding in payments cannot use it.
        rep = report(bound_to_bot(rules), role("reader", OTHER, [rule(["get"], ["secrets"])]))
        assert "read-secrets" not in held(rep, BOT)


def test_binding_every_role_gives_the_roles_of_its_namespace_only() -> None:
    rules = [rule(["bind"], ["roles"], RBAC), CREATE_BINDINGS]
    rep = report(
        bound_to_bot(rules),
        READER_ROLE,
        role("runner", OTHER, [rule(["create"], ["pods"])]),
    )
    classes = held(rep, BOT)
    assert "read-secrets" in classes
    assert "create-workloads" not in classes  # Role web/runner cannot be bound in payments
    path = holding(rep, BOT, "read-secrets").path()
    assert "acts as the holder of Role payments/reader in namespace payments" in path


@pytest.mark.parametrize(
    ("rules", "workloads"),
    [
        pytest.param(
            [rule(["create"], ["serviceaccounts/token"], names=["ops"])],
            {"sas": [service_account("ops", NS), service_account("ops", OTHER)]},
            id="a TokenRequest for a named account",
        ),
        pytest.param(
            [rule(["patch"], ["pods"], names=["api"])],
            {
                "sas": [service_account("ops", NS), service_account("ops", OTHER)],
                "pods": [pod("api", NS, sa="weak"), pod("api", OTHER, sa="ops")],
            },
            id="patching a named pod",
        ),
        pytest.param(
            [rule(["get"], ["secrets"], names=["ops-token"])],
            {
                "secrets": [
                    secret_meta("ops-token", NS, sa="weak"),
                    secret_meta("ops-token", OTHER, sa="ops"),
                    # Another token Secret of payments, for the account that is admin there.
                    secret_meta("admin-token", NS, sa="ops"),
                ]
            },
            id="reading a named token Secret",
        ),
    ],
)
def test_a_name_granted_in_a_namespace_reaches_that_namespaces_object_only(
    rules: list[Obj], workloads: dict[str, list[Obj]]
) -> None:
    # ops is cluster-admin in web; in payments only a token Secret it does not name is its.
    admins = admin_of(OTHER, "ops")
    if "secrets" in workloads:
        admins += [cluster_role_binding("ns-ops", "cluster-admin", [subject_sa("ops", NS)])]
    rep = report(bound_to_bot(rules), admins, **workloads)
    assert ADMIN not in held(rep, BOT)


def test_a_closure_past_its_round_bound_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A closure cut short would report a partial answer as if it were whole: the bound
    raises instead (a closure that needs a round it may not take)."""
    monkeypatch.setattr(privilege_paths, "MAX_ROUNDS", 1)
    rules = [rule(["create"], ["serviceaccounts/token"])]
    with pytest.raises(RuntimeError) as raised:
        report(bound_to_bot(rules), admin_of(NS, "ops"), sas=[service_account("ops", NS)])
    assert str(raised.value) == "privilege closure did not converge"


def test_a_cluster_role_reached_by_name_and_by_every_role_is_one_holder() -> None:
    """Binding ClusterRole reader in payments is one and the same holder whether the
    grant names it or covers every role: the graph explores it once, and both binders'
    paths run through that one holder (a key for a ClusterRole carries no namespace of its
    own, ``pkg/apis/rbac/types.go`` RoleRef: a ClusterRole is cluster-scoped)."""
    every = [rule(["bind"], ["clusterroles"], RBAC), CREATE_BINDINGS]
    named = [rule(["bind"], ["clusterroles"], RBAC, names=["reader"]), CREATE_BINDINGS]
    objects = [
        *bound_to_bot(every, "every"),
        role("named", NS, named),
        role_binding("named", NS, "named", [subject_sa("ops", NS)]),
        READER_CLUSTER_ROLE,
    ]
    graph = privilege_paths.PrivilegeGraph(
        Authorizer.from_snapshot(rbac_lists(*objects)),
        Workloads.from_objects([], [], []),
        load_catalogue(),
    )
    readers = [k for k in graph.edges if isinstance(k, RoleKey) and k.role_name == "reader"]
    assert readers == [RoleKey("ClusterRole", "reader", "", NS)]
