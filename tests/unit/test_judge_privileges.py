"""1.2.1, 1.3.2, 1.5.2 and 1.5.3 judged from the privilege report
(kubepci.analysis.admin_accounts, minting_rights, workload_privileges). Built on the
privilege reports of both local profiles' recorded RBAC and workloads, and on bindings
varied by hand (latent grants, a default account named by its username)."""

from __future__ import annotations

from kubepci.analysis.admin_accounts import (
    CUSTODY,
    judge_audit_identity,
    judge_break_glass_custody,
    judge_generic_admins,
    plan_generic_admins,
)
from kubepci.analysis.authorizer import Binding, Subject
from kubepci.analysis.minting_rights import MINTING, judge_minting_rights, plan_minting_rights
from kubepci.analysis.privilege_report import ADMIN, PrivilegeReport
from kubepci.analysis.workload_privileges import (
    judge_default_account_bindings,
    judge_service_account_privileges,
    plan_service_account_privileges,
)
from kubepci.verdict import Finding
from tests.support.judge_evidence import evidence, lines, recorded, titles

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")
INVENTORY = (
    "Every cluster-admin equivalent principal and its path "
    "(system:masters members are not visible through the API)"
)
DEFAULT_POLICY = "Kubernetes' default policy (set aside: exactly the upstream default)"


def binding(*subjects: Subject, role: str = "pod-reader", kind: str = "RoleBinding") -> Binding:
    return Binding(kind, "payments", "grant", "Role", role, subjects)


# ------------------------------------------------------------------ 1.2.1 generic admins
def test_generic_accounts_that_are_cluster_admin_are_findings() -> None:
    plan = plan_generic_admins(NONCOMPLIANT.privileges)
    assert titles(plan.so_far) == [INVENTORY, DEFAULT_POLICY]
    assert len(plan.then) == 5 and all(h.privilege.id == ADMIN for h in plan.then)
    judgement = judge_generic_admins(plan.then)
    assert len(judgement.findings) == 5
    assert all(f.finding_class == ADMIN for f in judgement.findings)
    assert all(", and is cluster-admin equivalent: " in f.detail for f in judgement.findings)
    assert "Group system:masters" not in {f.ref for f in judgement.findings}


def test_only_individuals_as_cluster_admin_pass() -> None:
    plan = plan_generic_admins(COMPLIANT.privileges)
    assert plan.then == []
    assert len(evidence(plan.so_far, INVENTORY)) == len(COMPLIANT.privileges.of_class(ADMIN))
    assert judge_generic_admins(plan.then).passed == "only individuals are cluster-admin equivalent"


def test_the_audit_identity_is_judged() -> None:
    generic = judge_audit_identity(NONCOMPLIANT.identity)
    assert lines(generic) == [
        "User kubernetes-admin: user 'kubernetes-admin' is a shared or distribution-default account"
    ]
    masters = judge_audit_identity({"username": "jane", "groups": ["system:masters"]})
    assert lines(masters) == [
        "User jane: member of system:masters, which bypasses RBAC and cannot be revoked"
    ]
    individual = judge_audit_identity(COMPLIANT.identity)
    assert individual.passed == "running as oidc:auditor@example.com, an individual identity"
    assert evidence(individual, "SelfSubjectReview of the audit's credentials") == (
        COMPLIANT.identity
    )


def test_break_glass_custody_is_for_its_owner_to_attest() -> None:
    judgement = judge_break_glass_custody("kubeadm")
    assert judgement.manual == CUSTODY
    assert evidence(judgement, "What to attest").startswith("Distribution kubeadm: show where")


# ------------------------------------------------------------------ 1.3.2 minting
def test_minting_paths_beyond_the_default_policy_are_findings() -> None:
    report = NONCOMPLIANT.privileges
    plan = plan_minting_rights(report)
    direct = report.direct_admins()
    assert plan.then and all(h.principal not in direct for h in plan.then)
    assert all(h.privilege.recommendation == MINTING for h in plan.then)
    minting = [h for h in report.holdings if h.privilege.recommendation == MINTING]
    assert len(evidence(plan.so_far, "Credential-minting paths")) == len(minting) > len(plan.then)
    judgement = judge_minting_rights(plan.then)
    assert len(judgement.findings) == 179
    assert {f.finding_class for f in judgement.findings} <= {h.privilege.id for h in plan.then}


def test_only_the_default_policy_minting_passes() -> None:
    plan = plan_minting_rights(COMPLIANT.privileges)
    assert plan.then == []
    assert evidence(plan.so_far, DEFAULT_POLICY)  # the default minters, named
    assert (
        judge_minting_rights(plan.then).passed
        == "only Kubernetes' own default policy can mint credentials"
    )


# ------------------------------------------------------------------ 1.5.2 bindings
def test_bindings_reaching_a_default_account_are_findings() -> None:
    judgement = judge_default_account_bindings(NONCOMPLIANT.privileges.beyond_default)
    assert len(judgement.findings) == 10
    assert {f.finding_class for f in judgement.findings} == {"default-service-account"}
    passing = judge_default_account_bindings(COMPLIANT.privileges.beyond_default)
    assert passing.passed == "no binding beyond the default policy reaches a default account"


def test_every_way_of_naming_a_default_account_is_a_finding() -> None:
    bindings = [
        binding(Subject("ServiceAccount", "default", "payments")),
        binding(Subject("User", "system:serviceaccount:shop:default")),
        binding(Subject("Group", "system:serviceaccounts:shop")),
        binding(Subject("User", "alice"), Subject("ServiceAccount", "api", "payments")),
    ]
    assert lines(judge_default_account_bindings(bindings)) == [
        "RoleBinding payments/grant: grants Role payments/pod-reader: Group "
        "system:serviceaccounts:shop includes default ServiceAccounts [default-service-account]",
        "RoleBinding payments/grant: grants Role payments/pod-reader: names the default "
        "ServiceAccount of payments [default-service-account]",
        "RoleBinding payments/grant: grants Role payments/pod-reader: names the default "
        "ServiceAccount of shop by its username [default-service-account]",
    ]


# ------------------------------------------------------------------ 1.5.3 privileges
def test_service_account_privileges_are_summarised_per_principal() -> None:
    report = NONCOMPLIANT.privileges
    plan = plan_service_account_privileges(report)
    assert titles(plan.so_far) == [
        "Privilege paths (principal → binding → role → rule → … → class)",
        "Kubernetes' default policy recognised (set aside)",
        "Limitation",
    ]
    admins = {h.principal for h in plan.then if h.privilege.id == ADMIN}
    assert admins and all(h.privilege.id == ADMIN for h in plan.then if h.principal in admins)
    judgement = judge_service_account_privileges(plan.then, report.dangling, [])
    assert len(judgement.findings) == 365


def test_no_risky_class_held_passes() -> None:
    plan = plan_service_account_privileges(COMPLIANT.privileges)
    assert plan.then == []
    judgement = judge_service_account_privileges(plan.then, [], [])
    assert judgement.passed == "no ServiceAccount holds a risky privilege class"


def test_latent_grants_to_catch_all_subjects_and_authorizer_findings_are_findings() -> None:
    latent = binding(Subject("Group", "system:unauthenticated"), role="not-yet")
    harmless = binding(Subject("User", "alice"), role="later")
    report = PrivilegeReport([], [], [latent, harmless], ["ClusterRoleBinding system:basic-user"])
    plan = plan_service_account_privileges(report)
    assert evidence(plan.so_far, "Bindings to roles that do not exist yet (latent grants)") == [
        "RoleBinding payments/grant → Role payments/not-yet",
        "RoleBinding payments/grant → Role payments/later",
    ]
    assert evidence(plan.so_far, "Kubernetes' default policy recognised (set aside)") == [
        "ClusterRoleBinding system:basic-user"
    ]
    authorizer = Finding("APIServer", "", "kube-apiserver-cp", "AlwaysAllow grants everyone")
    judgement = judge_service_account_privileges(plan.then, report.dangling, [authorizer])
    assert lines(judgement) == [
        "APIServer kube-apiserver-cp: AlwaysAllow grants everyone",
        "RoleBinding payments/grant: names Group system:unauthenticated and grants Role "
        "payments/not-yet, which does not exist yet: whoever creates it grants it here "
        "[latent-grant]",
    ]
