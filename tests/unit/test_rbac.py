"""RBAC grants as stored (``kubepci.analysis.rbac``), the anonymous-access judgement built
on them (PCI 1.1), and generic identities (PCI 1.2).

What a grant *allows* and what it leads to is tested against the authorizer and the
privilege closure: ``test_authorizer.py`` and ``test_privilege_paths.py``.
"""

from __future__ import annotations

import pytest

from kubepci.analysis import anonymous, identities
from kubepci.analysis.authorizer import Subject as AuthzSubject
from kubepci.analysis.rbac import RbacGraph, Rule, Subject, binding_findings
from tests.builders import (
    CLUSTER_ADMIN,
    cluster_role,
    cluster_role_binding,
    rbac_graph,
    role,
    role_binding,
    rule,
    subject_group,
    subject_sa,
    subject_user,
)


def r(*args, **kwargs) -> Rule:
    return Rule.from_json(rule(*args, **kwargs))


def test_rule_text_names_groups_resources_and_names() -> None:
    assert r(["get", "list"], ["pods"]).text() == "get,list on core/pods"
    assert r(["get"], ["secrets"], names=["a"]).text() == "get on core/secrets (names: a)"
    assert r(["get"], ["deployments"], ["apps"]).text() == "get on apps/deployments"
    assert r(["get"], urls=["/metrics"]).text() == "get on /metrics"
    several = r(["get"], ["deployments", "pods"], ["", "apps"], names=["a", "b"])
    assert several.text() == "get on core,apps/deployments,pods (names: a,b)"
    assert Rule(("get",), (), ("pods",)).text() == "get on core/pods"


# ----------------------------------------------------------------------------- RbacGraph


class TestRbacGraph:
    def test_cluster_role_binding_is_cluster_wide(self) -> None:
        graph = rbac_graph(
            cluster_role("reader", [rule(["get"], ["pods"])]),
            cluster_role_binding("reader", "reader", [subject_user("alice")]),
        )
        (only,) = graph.grants
        assert only.cluster_wide
        assert only.subject == Subject("User", "alice")
        assert only.path() == (
            "User alice → ClusterRoleBinding reader → ClusterRole reader → "
            "get on core/pods (cluster-wide)"
        )

    def test_role_binding_to_cluster_role_is_namespace_scoped(self) -> None:
        graph = rbac_graph(
            CLUSTER_ADMIN,
            role_binding("admins", "shop", "cluster-admin", [subject_user("bob")], "ClusterRole"),
        )
        assert {g.binding_namespace for g in graph.grants} == {"shop"}
        assert not any(g.cluster_wide for g in graph.grants)
        assert "in namespace shop" in next(iter(graph.grants)).path()
        assert next(iter(graph.grants)).role_ref == "ClusterRole cluster-admin"

    def test_role_is_looked_up_in_the_binding_namespace(self) -> None:
        graph = rbac_graph(
            role("edit", "a", [rule(["update"], ["pods"])]),
            role("edit", "b", [rule(["delete"], ["pods"])]),
            role_binding("edit", "b", "edit", [subject_user("carol")]),
        )
        (only,) = graph.grants
        assert only.rule.verbs == ("delete",)
        assert only.role_ref == "Role b/edit"
        assert only.binding_ref == "RoleBinding b/edit"

    def test_service_account_subject_defaults_to_binding_namespace(self) -> None:
        graph = rbac_graph(
            role("r", "shop", [rule(["get"], ["pods"])]),
            role_binding("rb", "shop", "r", [subject_sa("worker"), subject_sa("x", "other")]),
        )
        assert {g.subject for g in graph.grants} == {
            Subject("ServiceAccount", "worker", "shop"),
            Subject("ServiceAccount", "x", "other"),
        }

    def test_a_binding_to_a_missing_role_grants_nothing(self) -> None:
        # Such latent grants are reported by the privilege report (its ``dangling``).
        graph = rbac_graph(
            cluster_role_binding("ghost", "does-not-exist", [subject_user("dave")]),
            role_binding("ghost", "shop", "missing", [subject_user("dave")]),
        )
        assert list(graph.grants) == []

    def test_where_filters_by_subject(self) -> None:
        graph = rbac_graph(
            cluster_role("r", [rule(["get"], ["pods"]), rule(["get"], ["secrets"])]),
            cluster_role_binding("b", "r", [subject_user("u"), subject_sa("s", "ns")]),
        )
        found = list(graph.where(lambda s: s.kind == "ServiceAccount"))
        assert [(g.subject.name, g.rule.resources) for g in found] == [
            ("s", ("pods",)),
            ("s", ("secrets",)),
        ]

    def test_binding_findings_name_each_binding_and_subject_once(self) -> None:
        graph = rbac_graph(
            cluster_role("r", [rule(["get"], ["pods"]), rule(["get"], ["secrets"])]),
            cluster_role_binding("b", "r", [subject_user("u"), subject_user("v")]),
        )
        findings = binding_findings(graph.grants, lambda g: g.subject.name)
        assert [(f.kind, f.name, f.detail) for f in findings] == [
            ("ClusterRoleBinding", "b", "u"),
            ("ClusterRoleBinding", "b", "v"),
        ]


# ----------------------------------------------------------------------------- anonymous


PUBLIC_INFO = cluster_role(
    "public-info", [rule(["get"], urls=["/healthz", "/livez", "/readyz", "/version", "/version/"])]
)
ANONYMOUS = [subject_user("system:anonymous"), subject_group("system:unauthenticated")]


class TestAnonymous:
    @pytest.mark.parametrize("subject", ANONYMOUS)
    def test_health_and_version_paths_are_fine(self, subject) -> None:
        grants = anonymous.anonymous_grants(
            rbac_graph(PUBLIC_INFO, cluster_role_binding("p", "public-info", [subject]))
        )
        assert len(grants) == 1
        assert anonymous.excessive_anonymous_grant(grants[0]) == ""

    @pytest.mark.parametrize("subject", ANONYMOUS)
    def test_metrics_is_excessive(self, subject) -> None:
        metrics = cluster_role("metrics", [rule(["get"], urls=["/healthz", "/metrics"])])
        (g,) = anonymous.anonymous_grants(
            rbac_graph(metrics, cluster_role_binding("m", "metrics", [subject]))
        )
        assert anonymous.excessive_anonymous_grant(g) == "grants get on /metrics"

    @pytest.mark.parametrize("subject", ANONYMOUS)
    def test_every_extra_path_and_verb_is_named(self, subject) -> None:
        urls = ["/healthz", "/metrics", "/logs/*"]
        wide = cluster_role("wide", [rule(["get", "post"], urls=urls)])
        (g,) = anonymous.anonymous_grants(
            rbac_graph(wide, cluster_role_binding("w", "wide", [subject]))
        )
        assert anonymous.excessive_anonymous_grant(g) == "grants get,post on /metrics, /logs/*"

    @pytest.mark.parametrize("subject", ANONYMOUS)
    def test_resource_grant_is_excessive_through_a_role_binding_too(self, subject) -> None:
        reader = role("reader", "payments", [rule(["get", "list"], ["pods"])])
        (g,) = anonymous.anonymous_grants(
            rbac_graph(reader, role_binding("r", "payments", "reader", [subject]))
        )
        why = anonymous.excessive_anonymous_grant(g)
        assert why == "grants get,list on core/pods on API resources"

    def test_other_subjects_are_not_anonymous(self) -> None:
        reader = cluster_role("reader", [rule(["get"], ["pods"])])
        graph = rbac_graph(
            reader,
            cluster_role_binding(
                "r",
                "reader",
                [
                    subject_group("system:authenticated"),
                    subject_user("anonymous"),
                    subject_group("system:anonymous"),
                ],
            ),
        )
        assert anonymous.anonymous_grants(graph) == []


# ----------------------------------------------------------------------------- identities


class TestIdentities:
    @pytest.mark.parametrize(
        ("subject", "fragment"),
        [
            (AuthzSubject("User", "kubernetes-admin"), "shared or distribution-default"),
            (AuthzSubject("User", "admin"), "shared or distribution-default"),
            (AuthzSubject("Group", "system:masters"), "not a set of named individuals"),
            (AuthzSubject("Group", "kubeadm:cluster-admins"), "not a set of named individuals"),
            (AuthzSubject("Group", "system:authenticated"), "not a set of named individuals"),
            (AuthzSubject("Group", "system:serviceaccounts:payments"), "every ServiceAccount"),
            (AuthzSubject("ServiceAccount", "default", "payments"), "default ServiceAccount"),
        ],
    )
    def test_generic_subjects(self, subject: AuthzSubject, fragment: str) -> None:
        assert fragment in identities.generic_reason(subject)

    @pytest.mark.parametrize(
        "subject",
        [
            AuthzSubject("User", "jane@example.com"),
            AuthzSubject("Group", "oidc:platform-admins"),
            AuthzSubject("ServiceAccount", "argocd", "argocd"),
            AuthzSubject("Group", "admin"),  # a group name is judged as a group, not a user
        ],
    )
    def test_individual_subjects(self, subject: AuthzSubject) -> None:
        assert identities.generic_reason(subject) == ""

    def test_identity_reason(self) -> None:
        assert "system:masters" in identities.identity_reason(
            "kubernetes-super-admin", ["system:masters", "system:authenticated"]
        )
        assert "shared" in identities.identity_reason(
            "kubernetes-admin", ["kubeadm:cluster-admins", "system:authenticated"]
        )
        assert "kubeadm:cluster-admins" in identities.identity_reason(
            "ci-bot", ["kubeadm:cluster-admins", "system:authenticated"]
        )
        assert identities.identity_reason("jane@example.com", ["system:authenticated"]) == ""

    def test_dedicated_service_account_running_the_audit_is_individual(self) -> None:
        # Regression: every ServiceAccount is put in system:serviceaccounts by the
        # authenticator, which made every in-cluster audit fail as "generic".
        groups = [
            "system:serviceaccounts",
            "system:serviceaccounts:kubepci",
            "system:authenticated",
        ]
        assert (
            identities.identity_reason("system:serviceaccount:kubepci:kubepci-auditor", groups)
            == ""
        )

    def test_default_service_account_running_the_audit_is_generic(self) -> None:
        groups = ["system:serviceaccounts", "system:serviceaccounts:ops", "system:authenticated"]
        assert identities.identity_reason("system:serviceaccount:ops:default", groups) == (
            "a namespace's default ServiceAccount"
        )


def test_grants_are_walked_afresh_and_the_same_each_time() -> None:
    """The graph holds the bindings, not their grants: two walks give equal grants, and a
    walk does not exhaust them (a one-shot iterator of bindings is listed first)."""
    bindings = iter(
        [
            {
                "metadata": {"name": "b", "namespace": "shop"},
                "roleRef": {"kind": "ClusterRole", "name": "r"},
                "subjects": [{"kind": "User", "name": "u"}, {"kind": "Group", "name": "g"}],
            }
        ]
    )
    role = {"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "resources": ["pods"]}]}
    graph = RbacGraph.from_objects([role], [], [], bindings)
    first, second = list(graph.grants), list(graph.grants)
    assert first == second
    assert [g.subject.name for g in first] == ["u", "g"]
