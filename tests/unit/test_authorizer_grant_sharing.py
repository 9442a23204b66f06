"""Grants shared between identities a scope's bindings cannot tell apart
(Authorizer._scope_grants) are exactly the grants each identity gets alone.

Differential: an authorizer that has answered for many identities first (its shared
answers warm) against a fresh one per identity, over generated bindings whose subjects
mix users, groups and ServiceAccounts of overlapping names, in both binding kinds.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kubepci.analysis.authorizer import Authorizer, Grant, Identity, subject_applies

NAMESPACES = ["", "a", "b"]
USERS = ["alice", "bob", "system:serviceaccount:a:app", "system:serviceaccount:b:default"]
GROUPS = [
    "system:authenticated",
    "system:serviceaccounts",
    "system:serviceaccounts:a",
    "system:serviceaccounts:b",
    "ops",
]

subject = st.one_of(
    st.builds(lambda n: {"kind": "User", "name": n}, st.sampled_from(USERS)),
    st.builds(lambda n: {"kind": "Group", "name": n}, st.sampled_from(GROUPS)),
    st.builds(
        lambda ns, n: {"kind": "ServiceAccount", "namespace": ns, "name": n},
        st.sampled_from(["a", "b", ""]),
        st.sampled_from(["app", "default"]),
    ),
)
role_names = st.sampled_from(["view", "edit", "missing"])


@st.composite
def bindings(draw):  # type: ignore[no-untyped-def]
    crbs, rbs = [], []
    for i in range(draw(st.integers(0, 6))):
        subjects = draw(st.lists(subject, min_size=1, max_size=3))
        ref = {"kind": "ClusterRole", "name": draw(role_names)}
        crbs.append({"metadata": {"name": f"crb{i}"}, "roleRef": ref, "subjects": subjects})
    for i in range(draw(st.integers(0, 8))):
        subjects = draw(st.lists(subject, min_size=1, max_size=3))
        namespace = draw(st.sampled_from(["a", "b"]))
        kind = draw(st.sampled_from(["ClusterRole", "Role"]))
        ref = {"kind": kind, "name": draw(role_names)}
        meta = {"name": f"rb{i}", "namespace": namespace}
        rbs.append({"metadata": meta, "roleRef": ref, "subjects": subjects})
    return crbs, rbs


def _roles() -> tuple[list[dict], list[dict]]:
    rules = {"view": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}
    rules["edit"] = [
        {"verbs": ["create"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]},
    ]
    cluster = [{"metadata": {"name": n}, "rules": r} for n, r in rules.items()]
    local = [{"metadata": {"name": n, "namespace": ns}, "rules": r} for n, r in rules.items()
             for ns in ("a", "b")]  # fmt: skip
    return cluster, local


IDENTITIES = [
    Identity.service_account("a", "app"),
    Identity.service_account("a", "other"),
    Identity.service_account("b", "default"),
    Identity.service_account("b", "app"),
    Identity.authenticated_user("alice"),
    Identity.authenticated_user("carol", ["ops"]),
    Identity.authenticated_user("dave"),
    Identity("", ("system:serviceaccounts", "system:serviceaccounts:a", "system:authenticated")),
]


@settings(max_examples=300, deadline=None)
@given(bindings(), st.permutations(IDENTITIES))
def test_shared_grants_are_each_identitys_own(drawn, order) -> None:  # type: ignore[no-untyped-def]
    crbs, rbs = drawn
    cluster, local = _roles()
    warm = Authorizer(cluster, crbs, local, rbs)
    for identity in order:
        for namespace in NAMESPACES:
            # rbac.go VisitRulesFor, spelled out: each applying binding's role rules,
            # under the first of its subjects that applies to this identity.
            alone = Authorizer(cluster, crbs, local, rbs)
            expected = [
                Grant(b, next(s for s in b.subjects if subject_applies(s, identity)), rule)
                for b in alone.bindings_for(identity, namespace)
                for rule in alone.role_rules(b) or ()
            ]
            assert list(warm.grants_for(identity, namespace)) == expected
            assert [(g.binding.name, g.subject) for g in expected] == [
                (g.binding.name, g.subject) for g in warm.grants_for(identity, namespace)
            ]
