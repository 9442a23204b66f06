"""PCI 1.5 offline: workload credentials only where required, service accounts with least
privilege. The four checks of tests_pci judged through replay on edited recordings of the
local clusters: pods and ServiceAccounts (real pods of the noncompliant cluster added to
the compliant one), bindings, the kube-apiserver's authorizer chain and the API server's
recorded SubjectAccessReview answers.
"""

from __future__ import annotations

import pytest

from tests import builders as b
from tests.support.evidence_cases import UNBOUND_REVIEWS, Evidence, Obj, recorded, with_flag

pytest_plugins = ["pytester"]

AUTOMOUNT = "pod-token-automount"
DEFAULT_IN_USE = "default-service-account-in-use"
DEFAULT_BINDINGS = "default-service-account-bindings"
PRIVILEGES = "service-account-privileges"
INJECTED = "in the admission-injected volume kube-api-access-jqdk4 (container httpd)"


@pytest.fixture
def compliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "compliant")


def injected_pod(namespace: str, account: str) -> Obj:
    """The noncompliant cluster's payments-api pod (its admission-injected token volume)."""
    pod = recorded("noncompliant", "pods", "payments-api")
    pod["metadata"]["namespace"] = namespace
    pod["spec"]["serviceAccountName"] = account
    return pod


def confirmed_by_the_server(evidence: Evidence, check: str) -> None:
    """Record the API server's answers (allowed) to every question the check asks."""
    for questions in list(evidence.unrecorded_questions(check)):
        evidence.answer_reviews(questions)


# ------------------------------------------------------------ pod-token-automount
def test_a_token_nobody_asked_for_fails_both_checks(compliant: Evidence) -> None:
    compliant.add("serviceaccounts", b.service_account("default", "shop"))
    compliant.add("pods", injected_pod("shop", "default"))
    judged = compliant.judge_each(AUTOMOUNT, DEFAULT_IN_USE)
    holds = (
        f"ServiceAccount shop/default credential {INJECTED}; neither pod nor ServiceAccount "
        "sets it; default true"
    )
    assert judged[AUTOMOUNT].failures() == [("Pod", "shop", "payments-api", holds)]
    assert judged[DEFAULT_IN_USE].failures() == [
        ("Pod", "shop", "payments-api", f"runs as the default ServiceAccount and holds {holds}")
    ]


def test_a_token_its_service_account_asks_for_passes_both(compliant: Evidence) -> None:
    compliant.add("serviceaccounts", b.service_account("shop-api", "shop", automount=True))
    compliant.add("pods", injected_pod("shop", "shop-api"))
    judged = compliant.judge_each(AUTOMOUNT, DEFAULT_IN_USE)
    assert judged[AUTOMOUNT].verdict == judged[DEFAULT_IN_USE].verdict == "passed"
    assert (
        f"Pod shop/payments-api: ServiceAccount shop/shop-api credential {INJECTED}; "
        "ServiceAccount shop/shop-api sets automountServiceAccountToken: true"
    ) in judged[AUTOMOUNT].evidence("Pods that hold a credential because they ask for it")


def test_a_pod_asking_for_the_default_accounts_token_is_explicit(compliant: Evidence) -> None:
    """1.5.1 holds (it asked); 1.5.2 does not (it is the default account's)."""
    pod = injected_pod("payments", "default")
    pod["spec"]["automountServiceAccountToken"] = True
    compliant.add("pods", pod)
    judged = compliant.judge_each(AUTOMOUNT, DEFAULT_IN_USE)
    assert judged[AUTOMOUNT].reason == "every credential a pod holds was explicitly requested"
    assert judged[DEFAULT_IN_USE].failures() == [
        (
            "Pod",
            "payments",
            "payments-api",
            "runs as the default ServiceAccount and holds ServiceAccount payments/default "
            f"credential {INJECTED}; pod sets automountServiceAccountToken: true",
        )
    ]


def test_without_token_secrets_automount_is_judged_with_a_limitation(compliant: Evidence) -> None:
    compliant.fails_to_collect("list-token-secrets", "cannot list token Secrets: 403 forbidden")
    judged = compliant.judge(AUTOMOUNT)
    assert judged.verdict == "passed"
    assert judged.evidence("Limitation") == (
        "legacy token Secrets could not be listed (cannot list token Secrets: 403 forbidden); "
        "a Secret a pod names is an explicit request either way, so the verdict does not depend "
        "on them"
    )


# ------------------------------------------------------------ default-service-account-in-use
def test_without_token_secrets_a_secret_reference_leaves_no_verdict(compliant: Evidence) -> None:
    compliant.fails_to_collect("list-token-secrets", "cannot list token Secrets: 403 forbidden")
    judged = compliant.judge(DEFAULT_IN_USE)
    assert judged.reason == (
        "evidence unavailable: cannot list token Secrets: 403 forbidden: 1 Secret reference(s) "
        "in pods may be legacy ServiceAccount tokens"
    )
    assert judged.evidence("Secret references not resolved") == [
        "Pod payments/payments-api names Secret payments/payments-api-httpd (in volume "
        "httpd-conf (container httpd))"
    ]


def test_the_default_account_holding_no_credential_passes(compliant: Evidence) -> None:
    compliant.add("pods", b.pod("batch", "payments", sa="default", automount=False))
    judged = compliant.judge(DEFAULT_IN_USE)
    assert (judged.verdict, judged.reason) == (
        "passed",
        "no pod uses a default ServiceAccount's credential",
    )


def test_a_pod_reading_the_default_accounts_legacy_token_fails(compliant: Evidence) -> None:
    """The noncompliant cluster's pod and Secret: a token-mounter pod holding default's."""
    compliant.add(
        "token-secrets",
        recorded("noncompliant", "token-secrets", "default-legacy-token"),
    )
    compliant.add("serviceaccounts", b.service_account("token-mounter", "pci-tokens"))
    compliant.add("pods", recorded("noncompliant", "pods", "legacy-token-volume"))
    judged = compliant.judge(DEFAULT_IN_USE)
    assert judged.failures() == [
        (
            "Pod",
            "pci-tokens",
            "legacy-token-volume",
            "runs as ServiceAccount pci-tokens/token-mounter but holds the default account's "
            "ServiceAccount pci-tokens/default credential from legacy token Secret "
            "default-legacy-token in volume api (container app)",
        )
    ]


# ------------------------------------------------------------ default-service-account-bindings
def test_a_binding_naming_a_default_account_fails(compliant: Evidence) -> None:
    compliant.add(
        "rolebindings",
        b.role_binding(
            "default-view", "payments", "view", [b.subject_sa("default")], role_kind="ClusterRole"
        ),
    )
    judged = compliant.judge(DEFAULT_BINDINGS)
    assert judged.failures() == [
        (
            "RoleBinding",
            "payments",
            "default-view",
            "grants ClusterRole view: names the default ServiceAccount of payments",
        )
    ]
    assert judged.classes == ["default-service-account"]


def test_bindings_reaching_a_default_account_by_group_or_username_fail(
    compliant: Evidence,
) -> None:
    compliant.add(
        "rolebindings",
        b.role_binding(
            "all-sa-view",
            "payments",
            "view",
            [b.subject_group("system:serviceaccounts:payments")],
            role_kind="ClusterRole",
        ),
    )
    compliant.add(
        "clusterrolebindings",
        b.cluster_role_binding(
            "default-by-name", "view", [b.subject_user("system:serviceaccount:monitoring:default")]
        ),
    )
    judged = compliant.judge(DEFAULT_BINDINGS)
    assert judged.failures() == [
        (
            "ClusterRoleBinding",
            "",
            "default-by-name",
            "grants ClusterRole view: names the default ServiceAccount of monitoring by its "
            "username",
        ),
        (
            "RoleBinding",
            "payments",
            "all-sa-view",
            "grants ClusterRole view: Group system:serviceaccounts:payments includes default "
            "ServiceAccounts",
        ),
    ]


def test_a_binding_for_a_workloads_own_account_passes(compliant: Evidence) -> None:
    compliant.add(
        "rolebindings",
        b.role_binding(
            "api-view", "payments", "view", [b.subject_sa("payments-api")], role_kind="ClusterRole"
        ),
    )
    judged = compliant.judge(DEFAULT_BINDINGS)
    assert (judged.verdict, judged.reason) == (
        "passed",
        "no binding beyond the default policy reaches a default account",
    )


# ------------------------------------------------------------ service-account-privileges
def test_a_service_account_reading_kube_system_secrets_fails(compliant: Evidence) -> None:
    compliant.add("roles", b.role("read-secrets", "kube-system", [b.rule(["get"], ["secrets"])]))
    compliant.add(
        "rolebindings",
        b.role_binding(
            "api-reads-secrets",
            "kube-system",
            "read-secrets",
            [b.subject_sa("payments-api", "payments")],
        ),
    )
    confirmed_by_the_server(compliant, PRIVILEGES)
    judged = compliant.judge(PRIVILEGES)
    assert judged.failures() == [
        (
            "ServiceAccount",
            "payments",
            "payments-api",
            "read Secrets (high): read Secrets in namespace kube-system (ServiceAccount "
            "payments/payments-api → RoleBinding kube-system/api-reads-secrets → Role "
            "kube-system/read-secrets → get on core/secrets (in namespace kube-system))",
        )
    ]
    assert judged.classes == ["read-secrets"]


def test_a_permissive_webhook_granting_an_unbound_identity_fails(compliant: Evidence) -> None:
    """Same questions, other answers: the server allowed the made-up identity a request
    that RBAC over the recorded bindings does not grant."""

    def permissive(record: Obj) -> None:
        for review in record["ok"]:
            if review["request"].get("resource") == "secrets":
                review["answer"].update(allowed=True, reason="webhook: allowed")

    compliant.edit(UNBOUND_REVIEWS, permissive)
    judged = compliant.judge(PRIVILEGES)
    ((kind, namespace, name, detail),) = judged.failures()
    assert (kind, namespace, name) == ("AuthorizerChain", "", "kube-apiserver")
    assert detail.startswith(
        "a made-up identity, system:serviceaccount:kubepci-unbound-probe:kubepci-unbound-probe "
        "(groups: system:serviceaccounts, system:serviceaccounts:kubepci-unbound-probe, "
        "system:authenticated) to get secrets in namespace kube-system, is allowed"
    )
    assert detail.endswith("is granting everyone; the server's reason: webhook: allowed")
    assert judged.classes == ["permissive-authorizer"]


def test_always_allow_in_the_authorizer_chain_fails(compliant: Evidence) -> None:
    compliant.command(
        "kube-apiserver", lambda argv: with_flag(argv, "--authorization-mode=Node,RBAC,AlwaysAllow")
    )
    judged = compliant.judge(PRIVILEGES)
    assert judged.failures() == [
        (
            "Pod",
            "kube-system",
            "kube-apiserver-vm",
            "AlwaysAllow is in the authorizer chain (--authorization-mode=Node,RBAC,AlwaysAllow "
            "(set on pod kube-system/kube-apiserver-vm)): every request is authorized, whoever "
            "makes it",
        )
    ]
    assert judged.classes == ["always-allow-authorizer"]


def test_a_binding_to_a_role_not_yet_created_is_a_latent_grant(compliant: Evidence) -> None:
    compliant.add(
        "clusterrolebindings",
        b.cluster_role_binding(
            "future-role", "does-not-exist-yet", [b.subject_group("system:serviceaccounts")]
        ),
    )
    judged = compliant.judge(PRIVILEGES)
    assert judged.failures() == [
        (
            "ClusterRoleBinding",
            "",
            "future-role",
            "Group system:serviceaccounts includes default ServiceAccounts and grants ClusterRole "
            "does-not-exist-yet, which does not exist yet: whoever creates it grants it here",
        )
    ]
    assert judged.evidence("Bindings to roles that do not exist yet") == [
        "ClusterRoleBinding future-role → ClusterRole does-not-exist-yet"
    ]


def test_the_server_refusing_what_rbac_allows_everyone_errors(compliant: Evidence) -> None:
    """RBAC now lets every authenticated identity read kube-system Secrets, and the recorded
    answer about the unbound identity says the server did not: an error of the suite."""
    compliant.add("roles", b.role("read-secrets", "kube-system", [b.rule(["get"], ["secrets"])]))
    compliant.add(
        "rolebindings",
        b.role_binding(
            "everyone-reads",
            "kube-system",
            "read-secrets",
            [b.subject_group("system:authenticated")],
        ),
    )
    confirmed_by_the_server(compliant, PRIVILEGES)
    judged = compliant.judge(PRIVILEGES)
    assert judged.verdict == "error"
    assert judged.reason.startswith(
        "evidence unavailable: the API server's authorizer refuses what RBAC allows an unbound "
        "identity (an error of the suite): authorizer disagrees: the RBAC evaluator allows "
        "system:serviceaccount:kubepci-unbound-probe:kubepci-unbound-probe"
    )
