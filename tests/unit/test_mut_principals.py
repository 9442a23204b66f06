"""The base identity a principal is compared with, and how holders are named in evidence.

``base_identity`` is "the same kind of identity with nothing of its own": what it holds,
every identity like it holds (through the groups the authenticators give every such
identity), so a privilege it shares is reported once, under the group that gives it. The
groups follow the authenticators of Kubernetes v1.35.4:

- ``k8s.io/apiserver/pkg/authentication/serviceaccount/util.go`` MakeGroupNames: a
  ServiceAccount is in ``system:serviceaccounts`` and ``system:serviceaccounts:<ns>``;
- ``k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go``: every
  authenticated user is in ``system:authenticated``;
- ``k8s.io/apiserver/pkg/authentication/request/anonymous``: the anonymous user is in
  ``system:unauthenticated`` only.

Its user is one no binding can name: "" (``pkg/apis/rbac/validation``
ValidateRoleBindingSubject refuses a subject without a name) or a probe name for a user.

``label`` names a holder in the path an auditor reads: a Role is named with its
namespace, a ClusterRole without (``pkg/registry/rbac/validation/rule.go``
GetRoleReferenceRules looks a Role up in the binding's namespace).
"""

from __future__ import annotations

import pytest

from kubepci.analysis.authorizer import (
    ANONYMOUS,
    AUTHENTICATED,
    SERVICE_ACCOUNTS,
    UNAUTHENTICATED,
    Authorizer,
    Identity,
)
from kubepci.analysis.principals import (
    BASE_ACCOUNT,
    CLUSTER_WIDE,
    IdentityHolder,
    Key,
    RoleKey,
    base_identity,
    group_member,
    label,
)
from tests.builders import (
    cluster_role,
    cluster_role_binding,
    rbac_lists,
    rule,
    subject_group,
    subject_sa,
    subject_user,
)

NS = "payments"
NS_GROUP = f"{SERVICE_ACCOUNTS}:{NS}"


@pytest.mark.parametrize(
    ("identity", "base"),
    [
        pytest.param(
            Identity.service_account(NS, "bot"),
            Identity.service_account(NS, BASE_ACCOUNT),
            id="a ServiceAccount: another account of its namespace",
        ),
        pytest.param(
            Identity.anonymous(),
            Identity("", (UNAUTHENTICATED,)),
            id="the anonymous user: its group, no name",
        ),
        pytest.param(
            Identity.authenticated_user("jane", ["devs"]),
            Identity(BASE_ACCOUNT, (AUTHENTICATED,)),
            id="a user: any authenticated user",
        ),
        pytest.param(
            group_member(NS_GROUP),
            Identity("", (SERVICE_ACCOUNTS, AUTHENTICATED)),
            id="a namespace's accounts: any ServiceAccount",
        ),
        pytest.param(
            group_member("pki-team"),
            Identity("", (AUTHENTICATED,)),
            id="a group's member: any authenticated user",
        ),
        pytest.param(
            group_member(SERVICE_ACCOUNTS),
            Identity("", (AUTHENTICATED,)),
            id="every ServiceAccount: any authenticated user",
        ),
        pytest.param(
            group_member(AUTHENTICATED), Identity("", ()), id="every authenticated user: nobody"
        ),
        pytest.param(
            group_member(UNAUTHENTICATED), Identity("", ()), id="every anonymous user: nobody"
        ),
    ],
)
def test_the_base_identity_keeps_only_the_groups_every_such_identity_has(
    identity: Identity, base: Identity
) -> None:
    assert base_identity(identity) == base


def test_the_base_identity_holds_what_its_kind_holds_and_nothing_bound_to_it() -> None:
    # Bindings to the account itself, to a user spelled like a probe name would be, and
    # to the anonymous user by name are its own; the namespace's group is shared.
    objects = [
        cluster_role("shared", [rule(["get"], ["configmaps"])]),
        cluster_role("own", [rule(["get"], ["secrets"])]),
        cluster_role_binding("shared", "shared", [subject_group(NS_GROUP)]),
        cluster_role_binding(
            "own",
            "own",
            [subject_sa("bot", NS), subject_user(ANONYMOUS), subject_user("XXXX")],
        ),
    ]
    authz = Authorizer.from_snapshot(rbac_lists(*objects))
    for identity in (Identity.service_account(NS, "bot"), Identity.anonymous()):
        base = base_identity(identity)
        names = {g.binding.name for g in IdentityHolder(authz, base).grants(CLUSTER_WIDE)}
        assert "own" not in names, identity
    bot_base = base_identity(Identity.service_account(NS, "bot"))
    assert {g.binding.name for g in IdentityHolder(authz, bot_base).grants("")} == {"shared"}


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (
            RoleKey("Role", "editor", NS, NS),
            f"the holder of Role {NS}/editor in namespace {NS}",
        ),
        (
            RoleKey("ClusterRole", "edit", "", NS),
            f"the holder of ClusterRole edit in namespace {NS}",
        ),
        (
            RoleKey("ClusterRole", "admin", "", CLUSTER_WIDE),
            "the holder of ClusterRole admin cluster-wide",
        ),
    ],
)
def test_a_role_holder_is_named_by_its_kind_and_where_it_is_bound(key: Key, text: str) -> None:
    assert label(key) == text
