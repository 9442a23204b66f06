"""Non-resource URL grants as kube-apiserver matches them (pkg/apis/rbac/v1
evaluation_helpers.go NonResourceURLMatches: ``strings.TrimRight(ruleURL, "*")``).

Found by ``make mutation`` (tests/mutation/): no grant ended in a letter before its star,
so trimming more than stars went unnoticed. ``/logs/nodeX*`` (kube-apiserver serves its
host's /var/log under /logs/) must not widen to every path under ``/logs/node``.

Also: a binding whose role does not exist is latent, not granting (pkg/registry/rbac/
validation/rule.go GetRoleReferenceRules returns an error, VisitRulesFor visits no rule),
and only such bindings are reported as dangling.

Second round: a ClusterRoleBinding is cluster-wide whatever namespace its record carries;
ServiceAccount usernames split as SplitUsername does; aggregated ClusterRoles are marked;
a binding is visited once however many of its subjects apply (VisitRulesFor); identities a
scope cannot tell apart share one computed answer; a non-resource request consults no
RoleBinding.
"""

from __future__ import annotations

import pytest

from kubepci.analysis.authorizer import (
    Authorizer,
    Binding,
    Identity,
    Request,
    Rule,
    Subject,
    non_resource_url_matches,
    split_service_account_username,
)
from tests.builders import (
    cluster_role,
    cluster_role_binding,
    rbac_lists,
    role,
    role_binding,
    rule,
    subject_group,
    subject_sa,
    subject_user,
)

GRANT = Rule(verbs=("get",), non_resource_urls=("/logs/nodeX*",))


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/logs/nodeX", True),
        ("/logs/nodeX/kubelet.log", True),
        ("/logs/nodeXX", True),
        ("/logs/node", False),
        ("/logs/node1/kubelet.log", False),
        ("/logs/nodex", False),  # paths are case-sensitive
    ],
)
def test_only_trailing_stars_are_trimmed(path: str, allowed: bool) -> None:
    assert non_resource_url_matches(GRANT, path) is allowed


def test_every_trailing_star_is_trimmed() -> None:
    rule = Rule(verbs=("get",), non_resource_urls=("/metrics**",))
    assert non_resource_url_matches(rule, "/metrics/cadvisor")
    assert not non_resource_url_matches(rule, "/metric")


def test_only_bindings_whose_role_is_missing_are_dangling() -> None:
    # GetRoleReferenceRules finds the ClusterRole and the Role in the binding's namespace;
    # a Role of the same name in another namespace does not exist for the binding.
    jane = [subject_user("jane")]
    authz = Authorizer.from_snapshot(
        rbac_lists(
            cluster_role("present", [rule(["get"], ["pods"])]),
            role("present-role", "payments", [rule(["get"], ["pods"])]),
            cluster_role_binding("bound", "present", jane),
            cluster_role_binding("latent", "absent", jane),
            role_binding("bound-role", "payments", "present-role", jane),
            role_binding("elsewhere", "web", "present-role", jane),
        )
    )
    assert sorted(b.name for b in authz.dangling()) == ["elsewhere", "latent"]


# --- Survivors of the second mutation round (surv2-authorizer) -------------------------
#
# Binding parsing, ServiceAccount usernames, aggregated ClusterRoles, how often a binding
# is visited, the per-scope answer sharing, and the scope of a non-resource request.


def test_a_cluster_role_binding_is_cluster_wide_whatever_namespace_its_record_carries() -> None:
    # A ClusterRoleBinding is cluster-scoped: the API server clears any namespace a client
    # sends (k8s.io/apiserver pkg/registry/rest/meta.go EnsureObjectNamespaceMatchesRequest
    # Namespace, "cluster-scoped, clear namespace"), so it grants in every namespace, and
    # an unqualified ServiceAccount subject in it matches nobody (rule.go appliesToUser).
    crb = cluster_role_binding("readers", "reader", [subject_user("jane"), subject_sa("web")])
    crb["metadata"]["namespace"] = "payments"
    authz = Authorizer([cluster_role("reader", [rule(["get"], ["pods"])])], [crb], [], [])
    for namespace in ("", "payments", "web"):
        pods = Request("get", resource="pods", namespace=namespace)
        assert authz.allows(Identity.authenticated_user("jane"), pods)
        assert not authz.allows(Identity.service_account("payments", "web"), pods)


@pytest.mark.parametrize(
    ("username", "split"),
    [
        ("system:serviceaccount:payments:web", ("payments", "web")),
        ("system:serviceaccount::web", None),  # no namespace
        ("system:serviceaccount:payments:", None),  # no name
        ("system:serviceaccount::", None),
        ("system:serviceaccount:payments:web:extra", None),  # three parts
        ("system:serviceaccount:payments", None),  # one part
        ("system:serviceaccounts:payments", None),  # the group, not a user
        ("jane", None),
    ],
)
def test_a_service_account_username_is_exactly_namespace_colon_name(
    username: str, split: tuple[str, str] | None
) -> None:
    # k8s.io/apiserver pkg/authentication/serviceaccount/util.go SplitUsername: the prefix,
    # then exactly two ":"-separated parts, each a valid (so non-empty) name.
    assert split_service_account_username(username) == split


# Regression: the parts were not validated, so a user named like a ServiceAccount with an
# invalid part was judged as that (non-existent) ServiceAccount, with its groups.
@pytest.mark.parametrize(
    "username",
    [
        "system:serviceaccount:Payments:web",
        "system:serviceaccount:payments:Web",
        "system:serviceaccount:pay.ments:web",
        "system:serviceaccount:-payments:web",
        "system:serviceaccount:payments:web-",
        "system:serviceaccount:payments:web..bot",
        "system:serviceaccount:" + "p" * 64 + ":web",
        "system:serviceaccount:payments:" + "w" * 254,
    ],
)
def test_a_service_account_username_with_an_invalid_part_is_not_one(username: str) -> None:
    # util.go SplitUsername: ValidateNamespaceName (DNS-1123 label) and
    # ValidateServiceAccountName (DNS-1123 subdomain) must both pass.
    assert split_service_account_username(username) is None


@pytest.mark.parametrize(
    ("username", "parts"),
    [
        ("system:serviceaccount:payments:web.bot-1", ("payments", "web.bot-1")),
        ("system:serviceaccount:" + "p" * 63 + ":web", ("p" * 63, "web")),
        ("system:serviceaccount:payments:" + "w" * 253, ("payments", "w" * 253)),
    ],
)
def test_a_valid_service_account_username_splits_into_its_parts(
    username: str, parts: tuple[str, str]
) -> None:
    assert split_service_account_username(username) == parts


def test_only_cluster_roles_with_an_aggregation_rule_are_aggregated() -> None:
    # A ClusterRole with an aggregationRule has its rules written by the
    # clusterrole-aggregation controller (pkg/controller/clusterroleaggregation), so its
    # stored rules are not the author's: the authorizer marks exactly those.
    selector = {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/agg": "true"}}]}
    monitoring = cluster_role("monitoring", [rule(["get"], ["pods"])])
    monitoring["aggregationRule"] = selector
    authz = Authorizer([monitoring, cluster_role("plain", [rule(["get"], ["pods"])])], [], [], [])
    assert authz.aggregated == {"monitoring"}


def test_a_binding_several_of_whose_subjects_apply_is_visited_once() -> None:
    # rule.go VisitRulesFor walks each binding once; appliesTo stops at the first subject
    # that applies, so a binding naming the user and two of its groups grants its rules
    # once, not three times.
    subjects = [subject_user("jane"), subject_group("devs"), subject_group("ops")]
    authz = Authorizer.from_snapshot(
        rbac_lists(
            cluster_role("reader", [rule(["get"], ["pods"])]),
            role("reader", "payments", [rule(["get"], ["pods"])]),
            cluster_role_binding("everyone", "reader", subjects),
            role_binding("everyone", "payments", "reader", subjects),
        )
    )
    jane = Identity.authenticated_user("jane", ["devs", "ops"])
    assert [b.ref for b in authz.bindings_for(jane, "payments")] == [
        "ClusterRoleBinding everyone",
        "RoleBinding payments/everyone",
    ]
    grants = list(authz.grants_for(jane, "payments"))
    assert len(grants) == 2
    assert all(g.subject == Subject("User", "jane") for g in grants)


def test_service_accounts_no_binding_names_share_one_computed_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The sharing _scope_grants documents: identities a scope's bindings cannot tell apart
    # (here every ServiceAccount of a namespace, bound through its namespace group) get one
    # answer, computed once. Without it a 150,000-pod cluster resolves every role per pod.
    authz = Authorizer.from_snapshot(
        rbac_lists(
            role("reader", "payments", [rule(["get"], ["pods"])]),
            role_binding(
                "accounts", "payments", "reader", [subject_group("system:serviceaccounts:payments")]
            ),
        )
    )
    looked_up: list[str] = []
    role_rules = authz.role_rules

    def counting(binding: Binding) -> tuple[Rule, ...] | None:
        looked_up.append(binding.name)
        return role_rules(binding)

    monkeypatch.setattr(authz, "role_rules", counting)
    pods = Request("get", resource="pods", namespace="payments")
    for name in ("web", "api", "batch"):
        assert authz.allows(Identity.service_account("payments", name), pods)
    assert looked_up == ["accounts"]


def test_a_non_resource_request_never_consults_role_bindings() -> None:
    # A RoleBinding may reference a ClusterRole that lists nonResourceURLs, but a
    # non-resource request has no namespace (RequestInfo sets none), so only
    # ClusterRoleBindings grant it (rbac.go Authorize -> VisitRulesFor with namespace "").
    authz = Authorizer.from_snapshot(
        rbac_lists(
            cluster_role("metrics", [rule(["get"], urls=["/metrics"])]),
            role_binding(
                "metrics", "payments", "metrics", [subject_user("jane")], role_kind="ClusterRole"
            ),
        )
    )
    jane = Identity.authenticated_user("jane")
    assert not authz.allows(jane, Request("get", path="/metrics", namespace="payments"))
    assert not authz.allows(jane, Request("get", path="/metrics"))
