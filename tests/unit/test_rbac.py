"""RBAC privilege paths: rule matching, the grant graph, and the judgements built on it.

Every planted misconfiguration is also tried in the shapes a check tuned to fixture
names would miss: another namespace, a group instead of a user, a RoleBinding instead of
a ClusterRoleBinding.
"""

from __future__ import annotations

import pytest

from kubepci.analysis import anonymous, identities, privileges
from kubepci.analysis.rbac import (
    Grant,
    Rule,
    Subject,
    dangerous_permissions,
    is_cluster_admin,
    subject_is_service_account_like,
)
from tests.builders import (
    BOOTSTRAP,
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


def grant(rule_: Rule, binding_kind: str = "ClusterRoleBinding", **kwargs) -> Grant:
    namespace = "" if binding_kind == "ClusterRoleBinding" else kwargs.pop("ns", "payments")
    return Grant(
        kwargs.pop("subject", Subject("ServiceAccount", "bot", "payments")),
        binding_kind,
        namespace,
        kwargs.pop("binding", "b"),
        kwargs.pop("role_kind", "ClusterRole"),
        kwargs.pop("role_name", "r"),
        rule_,
        kwargs.pop("bootstrap", False),
    )


# ----------------------------------------------------------------------------- Rule.allows


class TestRuleAllows:
    def test_exact_match(self) -> None:
        assert r(["get"], ["pods"]).allows("get", "", "pods")

    @pytest.mark.parametrize(
        ("verb", "group", "resource"),
        [("list", "", "pods"), ("get", "apps", "pods"), ("get", "", "secrets")],
    )
    def test_other_verb_group_or_resource_is_refused(
        self, verb: str, group: str, resource: str
    ) -> None:
        assert not r(["get"], ["pods"]).allows(verb, group, resource)

    def test_wildcard_verb_group_and_resource(self) -> None:
        assert r(["*"], ["pods"]).allows("delete", "", "pods")
        assert r(["get"], ["deployments"], ["*"]).allows("get", "apps", "deployments")
        assert r(["get"], ["*"]).allows("get", "", "secrets")

    def test_wildcard_resource_covers_subresources(self) -> None:
        assert r(["get"], ["*"]).allows("get", "", "nodes/proxy")

    def test_subresource_needs_its_own_grant(self) -> None:
        nodes = r(["get"], ["nodes"])
        assert nodes.allows("get", "", "nodes")
        assert not nodes.allows("get", "", "nodes/proxy")
        assert r(["get"], ["nodes/proxy"]).allows("get", "", "nodes/proxy")

    def test_star_slash_subresource_matches_that_subresource_of_any_resource(self) -> None:
        proxy = r(["get"], ["*/proxy"])
        assert proxy.allows("get", "", "nodes/proxy")
        assert proxy.allows("get", "", "services/proxy")
        assert not proxy.allows("get", "", "nodes")
        assert not proxy.allows("get", "", "pods/log")

    def test_resource_slash_star_is_not_an_rbac_wildcard(self) -> None:
        # The authorizer (pkg/apis/rbac/v1 ResourceMatches) knows "*" and "*/sub" only;
        # "nodes/*" is a literal that no request matches, so it grants nothing.
        assert not r(["get"], ["nodes/*"]).allows("get", "", "nodes/proxy")
        assert not r(["get"], ["nodes/*"]).allows("get", "", "nodes")

    def test_resource_names(self) -> None:
        named = r(["get"], ["secrets"], names=["db-password"])
        assert named.allows("get", "", "secrets", "db-password")
        assert not named.allows("get", "", "secrets", "other")
        # Without a name the question is "can it reach some object?", and it can.
        assert named.allows("get", "", "secrets")

    def test_resource_rule_does_not_allow_urls_and_url_rule_no_resources(self) -> None:
        assert not r(["get"], ["*"], ["*"]).allows_url("get", "/metrics")
        assert not r(["*"], urls=["*"]).allows("get", "", "pods")

    def test_allows_url(self) -> None:
        health = r(["get"], urls=["/healthz", "/version"])
        assert health.allows_url("get", "/healthz")
        assert not health.allows_url("get", "/metrics")
        assert not health.allows_url("post", "/healthz")
        assert r(["get"], urls=["*"]).allows_url("get", "/metrics")
        assert r(["*"], urls=["/debug/*"]).allows_url("get", "/debug/pprof/")
        assert not r(["get"], urls=["/debug/*"]).allows_url("get", "/metrics")

    def test_text_names_groups_resources_and_names(self) -> None:
        assert r(["get", "list"], ["pods"]).text() == "get,list on core/pods"
        assert r(["get"], ["secrets"], names=["a"]).text() == "get on core/secrets (names: a)"
        assert r(["get"], urls=["/metrics"]).text() == "get on /metrics"

    def test_is_wildcard_all(self) -> None:
        assert r(["*"], ["*"], ["*"]).is_wildcard_all
        assert not r(["*"], ["*"], [""]).is_wildcard_all
        assert not r(["*"], ["*"], ["*"], names=["x"]).is_wildcard_all


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
        assert not any(is_cluster_admin(g) for g in graph.grants)
        assert "in namespace shop" in graph.grants[0].path()
        assert graph.grants[0].role_ref == "ClusterRole cluster-admin"

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
        subjects = {g.subject for g in graph.grants}
        assert subjects == {
            Subject("ServiceAccount", "worker", "shop"),
            Subject("ServiceAccount", "x", "other"),
        }
        assert Subject("ServiceAccount", "worker", "shop").username == (
            "system:serviceaccount:shop:worker"
        )

    def test_dangling_role_refs_are_reported_not_granted(self) -> None:
        graph = rbac_graph(
            cluster_role_binding("ghost", "does-not-exist", [subject_user("dave")]),
            role_binding("ghost", "shop", "missing", [subject_user("dave")]),
        )
        assert graph.grants == []
        assert {(d.binding_ref, d.role_ref) for d in graph.dangling} == {
            ("ClusterRoleBinding ghost", "ClusterRole does-not-exist"),
            ("RoleBinding shop/ghost", "Role shop/missing"),
        }

    def test_bootstrap_label_is_carried_to_grants(self) -> None:
        graph = rbac_graph(
            CLUSTER_ADMIN,
            cluster_role_binding(
                "cluster-admin", "cluster-admin", [subject_group("system:masters")], BOOTSTRAP
            ),
            cluster_role_binding("mine", "cluster-admin", [subject_user("erin")]),
        )
        by_binding = {g.binding_name: g.bootstrap for g in graph.grants}
        assert by_binding == {"cluster-admin": True, "mine": False}

    def test_where_filters_subject_and_rule(self) -> None:
        graph = rbac_graph(
            cluster_role("r", [rule(["get"], ["pods"]), rule(["get"], ["secrets"])]),
            cluster_role_binding("b", "r", [subject_user("u"), subject_sa("s", "ns")]),
        )
        found = list(
            graph.where(
                lambda s: s.kind == "ServiceAccount", lambda x: x.allows("get", "", "secrets")
            )
        )
        assert [(g.subject.name, g.rule.resources) for g in found] == [("s", ("secrets",))]


def test_is_cluster_admin() -> None:
    assert is_cluster_admin(grant(r(["get"], urls=["/x"]), role_name="cluster-admin"))
    assert is_cluster_admin(grant(r(["*"], ["*"], ["*"]), role_name="custom"))
    assert not is_cluster_admin(grant(r(["*"], ["*"], ["*"]), "RoleBinding"))
    assert not is_cluster_admin(grant(r(["*"], ["pods"], ["*"]), role_name="custom"))


def test_service_account_like_subjects() -> None:
    assert subject_is_service_account_like(Subject("ServiceAccount", "x", "ns"))
    assert subject_is_service_account_like(Subject("Group", "system:serviceaccounts"))
    assert subject_is_service_account_like(Subject("Group", "system:serviceaccounts:ns"))
    assert subject_is_service_account_like(Subject("Group", "system:authenticated"))
    assert not subject_is_service_account_like(Subject("Group", "developers"))
    assert not subject_is_service_account_like(Subject("User", "system:serviceaccounts"))


# ----------------------------------------------------------------------------- dangerous


class TestDangerousPermissions:
    @pytest.mark.parametrize(
        ("rule_", "binding_kind", "label"),
        [
            (r(["*"], ["*"], ["*"]), "ClusterRoleBinding", "cluster-admin equivalent"),
            (r(["*"], ["*"], ["*"]), "RoleBinding", "all verbs on all resources in the namespace"),
            (r(["*"], ["configmaps"]), "RoleBinding", "wildcard verbs"),
            (r(["get"], ["*"]), "RoleBinding", "wildcard resources"),
            (r(["get"], ["widgets"], ["*"]), "RoleBinding", "wildcard resources"),
            (
                r(["escalate"], ["clusterroles"], ["rbac.authorization.k8s.io"]),
                "ClusterRoleBinding",
                "escalate on roles",
            ),
            (
                r(["bind"], ["roles"], ["rbac.authorization.k8s.io"]),
                "RoleBinding",
                "bind on roles",
            ),
            (r(["impersonate"], ["users"]), "ClusterRoleBinding", "impersonate"),
            (r(["impersonate"], ["groups"]), "ClusterRoleBinding", "impersonate"),
            (r(["impersonate"], ["serviceaccounts"]), "RoleBinding", "impersonate"),
            (r(["list"], ["secrets"]), "ClusterRoleBinding", "read secrets cluster-wide"),
            (r(["get"], ["nodes/proxy"]), "ClusterRoleBinding", "nodes/proxy (kubelet API)"),
            (r(["create"], ["*/proxy"]), "ClusterRoleBinding", "nodes/proxy (kubelet API)"),
            (r(["create"], ["pods"]), "ClusterRoleBinding", "create pods cluster-wide"),
            (
                r(
                    ["update", "approve"],
                    ["certificatesigningrequests/approval", "signers"],
                    ["certificates.k8s.io"],
                ),
                "ClusterRoleBinding",
                "approve certificate signing requests",
            ),
            (
                r(["create"], ["serviceaccounts/token"]),
                "RoleBinding",
                "create service account tokens",
            ),
        ],
    )
    def test_each_label_fires(self, rule_: Rule, binding_kind: str, label: str) -> None:
        assert label in dangerous_permissions(grant(rule_, binding_kind))

    def test_wildcards_are_summarised_by_one_label(self) -> None:
        assert dangerous_permissions(grant(r(["*"], ["*"], ["*"]))) == ["cluster-admin equivalent"]
        assert dangerous_permissions(grant(r(["*"], ["*"], ["*"]), "RoleBinding")) == [
            "all verbs on all resources in the namespace"
        ]

    @pytest.mark.parametrize(
        "rule_",
        [
            r(["get", "list", "watch"], ["pods", "configmaps", "services"]),
            r(["get"], ["pods/log"]),
            r(["get"], ["nodes"]),
            r(["update"], ["certificatesigningrequests/approval"], ["certificates.k8s.io"]),
            r(["get"], urls=["*"]),
            r(["create"], ["serviceaccounts"]),
        ],
    )
    def test_narrow_rules_fire_nothing(self, rule_: Rule) -> None:
        assert dangerous_permissions(grant(rule_)) == []

    @pytest.mark.parametrize(
        "rule_",
        [
            r(["get"], ["nodes/proxy"]),
            r(["impersonate"], ["users", "groups"]),
            r(
                ["update", "approve"],
                ["certificatesigningrequests/approval", "signers"],
                ["certificates.k8s.io"],
            ),
        ],
    )
    def test_a_role_binding_grants_nothing_cluster_scoped(self, rule_: Rule) -> None:
        """Over-reporting fixed: a RoleBinding applies only to requests in its namespace,
        and requests for nodes, users, groups, CSRs and signers have none."""
        assert dangerous_permissions(grant(rule_, "RoleBinding")) == []
        assert dangerous_permissions(grant(rule_, "ClusterRoleBinding")) != []

    def test_a_role_binding_can_bind_a_cluster_role_but_not_escalate_one(self) -> None:
        cluster_roles = ["clusterroles"]
        group = ["rbac.authorization.k8s.io"]
        escalate = grant(r(["escalate"], cluster_roles, group), "RoleBinding")
        bind = grant(r(["bind"], cluster_roles, group), "RoleBinding")
        assert dangerous_permissions(escalate) == []
        assert dangerous_permissions(bind) == ["bind on roles"]
        assert dangerous_permissions(grant(r(["escalate"], ["roles"], group), "RoleBinding")) == [
            "escalate on roles"
        ]

    def test_scope_matters_for_secrets_and_pods(self) -> None:
        namespaced = [r(["get"], ["secrets"]), r(["create"], ["pods"])]
        for rule_ in namespaced:
            assert dangerous_permissions(grant(rule_, "RoleBinding")) == []
            assert dangerous_permissions(grant(rule_)) != []


# ----------------------------------------------------------------------------- privileges


WILDCARD_ROLE = cluster_role("everything", [rule(["*"], ["*"], ["*"])])
IMPERSONATOR = cluster_role("impersonator", [rule(["impersonate"], ["users", "groups"])])


def _sa_findings(*objects):
    findings, set_aside = privileges.service_account_privileges(rbac_graph(*objects))
    return {(f.subject, f.permission) for f in findings}, set_aside


class TestServiceAccountPrivileges:
    def test_direct_service_account_grant(self) -> None:
        found, _ = _sa_findings(
            IMPERSONATOR,
            cluster_role_binding("b", "impersonator", [subject_sa("support-bot", "payments")]),
        )
        assert found == {(Subject("ServiceAccount", "support-bot", "payments"), "impersonate")}

    @pytest.mark.parametrize(
        "group",
        ["system:serviceaccounts", "system:serviceaccounts:billing", "system:authenticated"],
    )
    def test_grant_through_a_group_every_service_account_is_in(self, group: str) -> None:
        found, _ = _sa_findings(
            WILDCARD_ROLE, cluster_role_binding("b", "everything", [subject_group(group)])
        )
        assert found == {(Subject("Group", group), "cluster-admin equivalent")}

    def test_a_group_of_people_is_not_a_service_account(self) -> None:
        found, _ = _sa_findings(
            WILDCARD_ROLE, cluster_role_binding("b", "everything", [subject_group("sre")])
        )
        assert found == set()

    @pytest.mark.parametrize("namespace", ["payments", "kube-public", "team-z"])
    def test_default_service_account_with_cluster_admin_in_any_namespace(
        self, namespace: str
    ) -> None:
        found, _ = _sa_findings(
            CLUSTER_ADMIN,
            cluster_role_binding("x", "cluster-admin", [subject_sa("default", namespace)]),
        )
        # One finding: the wildcard summary, not one per label it trivially matches.
        assert found == {
            (Subject("ServiceAccount", "default", namespace), "cluster-admin equivalent")
        }

    def test_role_binding_to_cluster_admin_is_caught_as_namespace_wide(self) -> None:
        found, _ = _sa_findings(
            CLUSTER_ADMIN,
            role_binding(
                "x", "payments", "cluster-admin", [subject_sa("default")], role_kind="ClusterRole"
            ),
        )
        assert (
            Subject("ServiceAccount", "default", "payments"),
            "all verbs on all resources in the namespace",
        ) in found

    def test_role_binding_token_creation_is_caught(self) -> None:
        found, _ = _sa_findings(
            role("minter", "shop", [rule(["create"], ["serviceaccounts/token"])]),
            role_binding("minter", "shop", "minter", [subject_sa("ci")]),
        )
        assert found == {(Subject("ServiceAccount", "ci", "shop"), "create service account tokens")}

    def test_bootstrap_grants_to_kube_system_are_set_aside(self) -> None:
        controller = cluster_role(
            "system:controller:clusterrole-aggregation-controller",
            [
                rule(
                    ["escalate", "get", "list", "watch", "update", "patch"],
                    ["clusterroles"],
                    ["rbac.authorization.k8s.io"],
                )
            ],
            labels=BOOTSTRAP,
        )
        binding = cluster_role_binding(
            "system:controller:clusterrole-aggregation-controller",
            "system:controller:clusterrole-aggregation-controller",
            [subject_sa("clusterrole-aggregation-controller", "kube-system")],
            labels=BOOTSTRAP,
        )
        found, set_aside = _sa_findings(controller, binding)
        assert found == set()
        assert [g.subject.name for g in set_aside] == ["clusterrole-aggregation-controller"]

    def test_same_grant_without_bootstrap_label_is_judged(self) -> None:
        found, set_aside = _sa_findings(
            WILDCARD_ROLE,
            cluster_role_binding("b", "everything", [subject_sa("helper", "kube-system")]),
        )
        assert set_aside == []
        assert found == {
            (Subject("ServiceAccount", "helper", "kube-system"), "cluster-admin equivalent")
        }

    def test_subject_added_by_hand_to_a_bootstrap_binding_is_judged(self) -> None:
        binding = cluster_role_binding(
            "cluster-admin",
            "cluster-admin",
            [subject_group("system:masters"), subject_sa("deploy-bot", "payments")],
            labels=BOOTSTRAP,
        )
        found, set_aside = _sa_findings(CLUSTER_ADMIN, binding)
        assert (
            Subject("ServiceAccount", "deploy-bot", "payments"),
            "cluster-admin equivalent",
        ) in found
        assert all(g.subject.name != "deploy-bot" for g in set_aside)

    @pytest.mark.parametrize(
        "group",
        ["system:serviceaccounts", "system:serviceaccounts:payments", "system:authenticated"],
    )
    def test_service_account_group_added_to_a_bootstrap_binding_is_judged(self, group: str) -> None:
        # Regression: these groups start with "system:" and were set aside as if they were
        # control-plane identities, hiding cluster-admin for every ServiceAccount.
        binding = cluster_role_binding(
            "cluster-admin",
            "cluster-admin",
            [subject_group("system:masters"), subject_group(group)],
            labels=BOOTSTRAP,
        )
        found, set_aside = _sa_findings(CLUSTER_ADMIN, binding)
        assert (Subject("Group", group), "cluster-admin equivalent") in found
        assert all(g.subject.name != group for g in set_aside)

    def test_default_bootstrap_grants_to_every_caller_are_harmless(self) -> None:
        basic = cluster_role(
            "system:basic-user",
            [
                rule(
                    ["create"],
                    ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    ["authorization.k8s.io"],
                )
            ],
            labels=BOOTSTRAP,
        )
        binding = cluster_role_binding(
            "system:basic-user",
            "system:basic-user",
            [subject_group("system:authenticated")],
            labels=BOOTSTRAP,
        )
        found, _ = _sa_findings(basic, binding)
        assert found == set()

    def test_csr_approval_split_across_two_roles(self) -> None:
        approval = cluster_role(
            "approval",
            [rule(["update"], ["certificatesigningrequests/approval"], ["certificates.k8s.io"])],
        )
        signer = cluster_role(
            "signer",
            [
                rule(
                    ["approve"],
                    ["signers"],
                    ["certificates.k8s.io"],
                    names=["kubernetes.io/kube-apiserver-client"],
                )
            ],
        )
        bot = subject_sa("issuer", "pki")
        findings, _ = privileges.service_account_privileges(
            rbac_graph(
                approval,
                signer,
                cluster_role_binding("a", "approval", [bot]),
                cluster_role_binding("s", "signer", [bot]),
            )
        )
        (finding,) = findings
        assert finding.permission == "approve certificate signing requests"
        assert finding.subject == Subject("ServiceAccount", "issuer", "pki")
        assert {g.binding_name for g in finding.grants} == {"a", "s"}
        assert len(finding.paths()) == 2

    def test_half_of_csr_approval_is_not_approval(self) -> None:
        approval = cluster_role(
            "approval",
            [rule(["update"], ["certificatesigningrequests/approval"], ["certificates.k8s.io"])],
        )
        found, _ = _sa_findings(
            approval, cluster_role_binding("a", "approval", [subject_sa("x", "ns")])
        )
        assert found == set()


CSR_APPROVER = cluster_role(
    "csr-approver",
    [
        rule(["get", "list", "create"], ["certificatesigningrequests"], ["certificates.k8s.io"]),
        rule(["update"], ["certificatesigningrequests/approval"], ["certificates.k8s.io"]),
        rule(
            ["approve"],
            ["signers"],
            ["certificates.k8s.io"],
            names=["kubernetes.io/kube-apiserver-client"],
        ),
    ],
)


class TestCsrApprovers:
    @pytest.mark.parametrize(
        "subject",
        [subject_user("jane"), subject_group("pki-team"), subject_sa("issuer", "tools")],
    )
    def test_anyone_holding_both_rights_is_found(self, subject) -> None:
        found, admins = privileges.csr_approvers(
            rbac_graph(CSR_APPROVER, cluster_role_binding("x", "csr-approver", [subject]))
        )
        assert [s.name for s, _ in found] == [subject.name]
        assert admins == []

    def test_control_plane_and_masters_are_not_approvers(self) -> None:
        found, _ = privileges.csr_approvers(
            rbac_graph(
                CSR_APPROVER,
                cluster_role_binding(
                    "x",
                    "csr-approver",
                    [
                        subject_user("system:kube-controller-manager"),
                        subject_group("system:masters"),
                    ],
                ),
            )
        )
        assert found == []

    def test_cluster_admin_holders_are_returned_apart(self) -> None:
        found, admins = privileges.csr_approvers(
            rbac_graph(
                CLUSTER_ADMIN, cluster_role_binding("ops", "cluster-admin", [subject_user("ops")])
            )
        )
        assert found == []
        assert {g.subject.name for g in admins} == {"ops"}

    def test_creators(self) -> None:
        creators = privileges.csr_creators(
            rbac_graph(CSR_APPROVER, cluster_role_binding("x", "csr-approver", [subject_user("j")]))
        )
        assert [g.subject.name for g in creators] == ["j"]


# ----------------------------------------------------------------------------- anonymous


PUBLIC_INFO = cluster_role(
    "public-info", [rule(["get"], urls=["/healthz", "/livez", "/readyz", "/version", "/version/"])]
)


class TestAnonymous:
    @pytest.mark.parametrize(
        "subject", [subject_user("system:anonymous"), subject_group("system:unauthenticated")]
    )
    def test_health_and_version_paths_are_fine(self, subject) -> None:
        grants = anonymous.anonymous_grants(
            rbac_graph(PUBLIC_INFO, cluster_role_binding("p", "public-info", [subject]))
        )
        assert len(grants) == 1
        assert anonymous.excessive_anonymous_grant(grants[0]) == ""

    @pytest.mark.parametrize(
        "subject", [subject_user("system:anonymous"), subject_group("system:unauthenticated")]
    )
    def test_metrics_is_excessive(self, subject) -> None:
        metrics = cluster_role("metrics", [rule(["get"], urls=["/healthz", "/metrics"])])
        (g,) = anonymous.anonymous_grants(
            rbac_graph(metrics, cluster_role_binding("m", "metrics", [subject]))
        )
        assert anonymous.excessive_anonymous_grant(g) == "grants get on /metrics"

    @pytest.mark.parametrize(
        "subject", [subject_user("system:anonymous"), subject_group("system:unauthenticated")]
    )
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
            (Subject("User", "kubernetes-admin"), "shared or distribution-default"),
            (Subject("User", "admin"), "shared or distribution-default"),
            (Subject("Group", "system:masters"), "not a set of named individuals"),
            (Subject("Group", "kubeadm:cluster-admins"), "not a set of named individuals"),
            (Subject("Group", "system:authenticated"), "not a set of named individuals"),
            (Subject("Group", "system:serviceaccounts:payments"), "every ServiceAccount"),
            (Subject("ServiceAccount", "default", "payments"), "default ServiceAccount"),
        ],
    )
    def test_generic_subjects(self, subject: Subject, fragment: str) -> None:
        assert fragment in identities.generic_reason(subject)

    @pytest.mark.parametrize(
        "subject",
        [
            Subject("User", "jane@example.com"),
            Subject("Group", "oidc:platform-admins"),
            Subject("ServiceAccount", "argocd", "argocd"),
            Subject("Group", "admin"),  # a group name is judged as a group, not a user
        ],
    )
    def test_individual_subjects(self, subject: Subject) -> None:
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

    @pytest.mark.parametrize(
        "binding",
        [
            cluster_role_binding("a", "cluster-admin", [subject_user("admin")]),
            cluster_role_binding("b", "cluster-admin", [subject_group("kubeadm:cluster-admins")]),
            cluster_role_binding("c", "everything", [subject_sa("default", "tools")]),
        ],
    )
    def test_cluster_admin_holders_with_generic_subjects(self, binding) -> None:
        holders = identities.cluster_admin_holders(
            rbac_graph(CLUSTER_ADMIN, WILDCARD_ROLE, binding)
        )
        assert holders
        assert all(identities.generic_reason(g.subject) for g in holders)

    def test_namespace_admin_is_not_a_cluster_admin_holder(self) -> None:
        graph = rbac_graph(
            CLUSTER_ADMIN,
            role_binding("x", "ns", "cluster-admin", [subject_user("admin")], "ClusterRole"),
        )
        assert identities.cluster_admin_holders(graph) == []

    def test_a_role_binding_to_an_approver_role_approves_nothing(self) -> None:
        """CSRs and signers are cluster-scoped, so a RoleBinding cannot grant approval."""
        found, _ = privileges.csr_approvers(
            rbac_graph(
                CSR_APPROVER,
                role_binding(
                    "x", "pki", "csr-approver", [subject_user("jane")], role_kind="ClusterRole"
                ),
            )
        )
        assert found == []
