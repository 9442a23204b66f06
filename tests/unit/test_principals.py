"""The identities and holders the privilege graph reasons about (``analysis.principals``).

A member of a group is judged with only what membership implies; a rules holder (the
rules a binding could apply) names the one namespace it applies them in.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.authorizer import Binding, Identity, Rule
from kubepci.analysis.principals import CLUSTER_WIDE, RulesHolder, group_member

UNAUTHENTICATED = "system:unauthenticated"
AUTHENTICATED = "system:authenticated"
SOURCE = Binding("RoleBinding", "payments", "b", "Role", "r", ())


@pytest.mark.parametrize(
    ("group", "identity"),
    [
        # No User subject can match the member: RBAC refuses a subject without a name
        # (pkg/apis/rbac/validation ValidateRoleBindingSubject), and the anonymous
        # authenticator's group carries no system:authenticated.
        (UNAUTHENTICATED, Identity("", (UNAUTHENTICATED,))),
        (
            "system:serviceaccounts:payments",
            Identity(
                "", ("system:serviceaccounts", "system:serviceaccounts:payments", AUTHENTICATED)
            ),
        ),
        (AUTHENTICATED, Identity("", (AUTHENTICATED,))),
        ("system:serviceaccounts", Identity("", ("system:serviceaccounts", AUTHENTICATED))),
        ("ops", Identity("", ("ops", AUTHENTICATED))),
    ],
)
def test_a_group_member_carries_only_what_membership_implies(
    group: str, identity: Identity
) -> None:
    assert group_member(group) == identity


def test_a_cluster_wide_holder_names_no_namespace_of_its_own() -> None:
    rules = [Rule(("get",), ("",), ("pods",))]
    assert list(RulesHolder(rules, CLUSTER_WIDE, SOURCE).namespaces()) == []
    assert list(RulesHolder(rules, "payments", SOURCE).namespaces()) == ["payments"]
