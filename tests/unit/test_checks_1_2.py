"""PCI 1.2 offline: generic admin accounts, the audit's own identity and break-glass
custody, judged through replay on edited recordings of the local clusters.

generic-cluster-admin-bindings confirms each finding with the API server's authorizer
(SubjectAccessReview answers recorded under the SHA-256 of the question set). A new
finding asks a new question: the replay of an edited pack then errors, fail closed, until
the pack also holds the server's answer, which these cases record as a live run would.
"""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from tests import builders as b
from tests.support.evidence_cases import Evidence, Obj

pytest_plugins = ["pytester"]

ADMINS = "generic-cluster-admin-bindings"
INVENTORY = "Every cluster-admin equivalent principal"


@pytest.fixture
def compliant(pytester: pytest.Pytester) -> Evidence:
    return Evidence(pytester, "compliant")


def bind_cluster_admin(evidence: Evidence, name: str, subject: k8s.RbacV1Subject) -> None:
    evidence.add("clusterrolebindings", b.cluster_role_binding(name, "cluster-admin", [subject]))


def confirmed_by_the_server(evidence: Evidence, check: str) -> None:
    """Record the API server's answers (allowed) to every question the check asks."""
    for questions in list(evidence.unrecorded_questions(check)):
        evidence.answer_reviews(questions)


# ------------------------------------------------------------ generic-cluster-admin-bindings
def test_an_individual_cluster_admin_passes_and_is_inventoried(compliant: Evidence) -> None:
    bind_cluster_admin(compliant, "jane-admin", b.subject_user("jane@example.com"))
    judged = compliant.judge(ADMINS)
    assert (judged.verdict, judged.reason) == (
        "passed",
        "only individuals are cluster-admin equivalent",
    )
    (admin,) = judged.evidence(INVENTORY)
    assert admin["principal"] == "User jane@example.com"
    assert admin["path"] == [
        "cluster-admin equivalent cluster-wide (User jane@example.com → ClusterRoleBinding "
        "jane-admin → ClusterRole cluster-admin → * on */* (cluster-wide))"
    ]


def test_a_new_finding_without_the_servers_answer_errors(compliant: Evidence) -> None:
    """Fail closed: the finding's confirmation was never asked of a server, so the replay
    has no answer to give and fetches none."""
    bind_cluster_admin(compliant, "shared-admin", b.subject_user("admin"))
    judged = compliant.judge(ADMINS)
    assert judged.verdict == "error"
    assert judged.reason.startswith(
        "evidence unavailable: the evidence pack holds no 'access-reviews-"
    )
    assert judged.reason.endswith(
        "' record (the run that wrote it did not collect it), and a replay fetches nothing"
    )
    assert (judged.junit, judged.ret) == ("failed", 2)


def test_a_shared_admin_account_confirmed_by_the_server_fails(compliant: Evidence) -> None:
    bind_cluster_admin(compliant, "shared-admin", b.subject_user("admin"))
    (questions,) = compliant.unrecorded_questions(ADMINS)
    assert [identity.user for identity, _ in questions] == ["admin"]
    compliant.answer_reviews(questions)
    judged = compliant.judge(ADMINS)
    assert judged.failures() == [
        (
            "User",
            "",
            "admin",
            "user 'admin' is a shared or distribution-default account, and is cluster-admin "
            "equivalent: cluster-admin equivalent cluster-wide (User admin → ClusterRoleBinding "
            "shared-admin → ClusterRole cluster-admin → * on */* (cluster-wide))",
        )
    ]
    assert judged.classes == ["admin-equivalent"]
    assert judged.evidence("Authorizer confirmation") == [
        "User admin [admin-equivalent]: authorizer: allowed"
    ]


def test_a_finding_the_server_does_not_confirm_errors(compliant: Evidence) -> None:
    bind_cluster_admin(compliant, "shared-admin", b.subject_user("admin"))
    (questions,) = compliant.unrecorded_questions(ADMINS)
    compliant.answer_reviews(questions, allowed=lambda _pair: False)
    judged = compliant.judge(ADMINS)
    assert judged.verdict == "error"
    assert judged.reason.startswith(
        "evidence unavailable: 1 finding(s) the API server's authorizer does not confirm (an "
        "error of the suite): authorizer disagrees: the RBAC evaluator allows admin (groups: "
        "system:authenticated) to get"
    )


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        (
            b.subject_group("system:authenticated"),
            "group 'system:authenticated' is not a set of named individuals",
        ),
        (
            b.subject_group("kubeadm:cluster-admins"),
            "group 'kubeadm:cluster-admins' is not a set of named individuals",
        ),
        (
            b.subject_sa("default", "payments"),
            "a namespace's default ServiceAccount is used by every pod that names no other",
        ),
    ],
)
def test_catch_all_subjects_holding_cluster_admin_fail(
    compliant: Evidence, subject: k8s.RbacV1Subject, reason: str
) -> None:
    bind_cluster_admin(compliant, "catch-all-admin", subject)
    confirmed_by_the_server(compliant, ADMINS)
    judged = compliant.judge(ADMINS)
    ((kind, namespace, name, detail),) = judged.failures()
    assert detail.startswith(f"{reason}, and is cluster-admin equivalent: ")
    assert "ClusterRoleBinding catch-all-admin → ClusterRole cluster-admin" in detail
    assert (kind, name) in {
        ("Group", "system:authenticated"),
        ("Group", "kubeadm:cluster-admins"),
        ("ServiceAccount", "default"),
    }
    assert namespace == ("payments" if kind == "ServiceAccount" else "")


def test_a_default_account_admin_of_one_namespace_is_not_cluster_admin(
    compliant: Evidence,
) -> None:
    compliant.add(
        "rolebindings",
        b.role_binding(
            "default-admin", "payments", "admin", [b.subject_sa("default")], role_kind="ClusterRole"
        ),
    )
    judged = compliant.judge(ADMINS)
    assert (judged.verdict, judged.evidence(INVENTORY)) == ("passed", [])


# ------------------------------------------------------------ suite-identity-not-generic
def who(username: str, *groups: str) -> Obj:
    return {"username": username, "groups": [*groups, "system:authenticated"], "uid": ""}


@pytest.mark.parametrize(
    ("identity", "reason"),
    [
        (
            who("kubernetes-admin", "kubeadm:cluster-admins"),
            "user 'kubernetes-admin' is a shared or distribution-default account",
        ),
        (
            who("oidc:auditor@example.com", "system:masters"),
            "member of system:masters, which bypasses RBAC and cannot be revoked",
        ),
        (
            who("system:serviceaccount:ci:default", "system:serviceaccounts"),
            "a namespace's default ServiceAccount",
        ),
        (
            who("jane", "system:unauthenticated"),
            "authenticates through generic group(s) system:unauthenticated",
        ),
    ],
)
def test_a_generic_audit_identity_fails(compliant: Evidence, identity: Obj, reason: str) -> None:
    compliant.edit("identity", lambda record: record.update(ok=identity))
    judged = compliant.judge("suite-identity-not-generic")
    assert judged.failures() == [("User", "", identity["username"], reason)]


def test_a_named_service_account_is_an_individual_identity(compliant: Evidence) -> None:
    account = "system:serviceaccount:ci:kubepci-auditor"
    compliant.edit("identity", lambda record: record.update(ok=who(account)))
    judged = compliant.judge("suite-identity-not-generic")
    assert (judged.verdict, judged.reason) == (
        "passed",
        f"running as {account}, an individual identity",
    )


def test_a_run_that_could_not_review_itself_errors_every_check(compliant: Evidence) -> None:
    """The SelfSubjectReview is the first contact: without it nothing is judged, not even
    the checks that are a person's attestation."""
    compliant.fails_to_collect("identity", "cannot review: 403 forbidden")
    judged = compliant.judge_each("suite-identity-not-generic", "break-glass-custody")
    for check in judged.values():
        assert (check.verdict, check.reason) == (
            "error",
            "evidence unavailable: cannot connect: cannot review: 403 forbidden",
        )


# ------------------------------------------------------------ break-glass-custody
def test_break_glass_custody_names_the_distribution_to_attest(compliant: Evidence) -> None:
    compliant.edit("version", lambda record: record["ok"].update(gitVersion="v1.35.4-eks-1-35-7"))
    judged = compliant.judge("break-glass-custody")
    assert (judged.verdict, judged.reason) == (
        "manual",
        "custody of the break-glass credential can only be attested by its owner",
    )
    assert judged.evidence("What to attest").startswith("Distribution eks-distro: show where")
    assert (judged.junit, judged.ret) == ("skipped", 0)


def test_break_glass_custody_on_a_managed_control_plane(compliant: Evidence) -> None:
    compliant.managed_by_eks()
    judged = compliant.judge("break-glass-custody")
    assert judged.verdict == "manual"
    assert judged.evidence("What to attest").startswith("Distribution eks: show where")


def test_break_glass_custody_without_the_pods_to_tell_the_distribution(
    compliant: Evidence,
) -> None:
    compliant.fails_to_collect("list-pods", "cannot list pods: 403 forbidden")
    judged = compliant.judge("break-glass-custody")
    assert (judged.verdict, judged.reason) == (
        "error",
        "evidence unavailable: cannot list pods: 403 forbidden",
    )
