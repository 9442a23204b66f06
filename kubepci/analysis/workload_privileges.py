"""PCI 1.5.2 / 1.5.3 judged: no binding beyond the default policy reaches a default
ServiceAccount, and no ServiceAccount holds a risky privilege class.

Who holds which class by which path is :mod:`kubepci.analysis.privilege_report`; one
finding per principal and class, :mod:`kubepci.analysis.privilege_findings`.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubepci.analysis import privilege_findings
from kubepci.analysis.authorizer import Binding
from kubepci.analysis.judgement import Draft, Judgement, Plan, drafted
from kubepci.analysis.privilege_paths import Holding
from kubepci.analysis.privilege_report import (
    PrivilegeReport,
    is_workload_principal,
    latent_risk,
    reaches_default_account,
)
from kubepci.verdict import Finding


def _judge_default_account_bindings(draft: Draft, beyond_default: Sequence[Binding]) -> Judgement:
    """A binding beyond the default policy that reaches a default ServiceAccount, by name,
    by its username or by a group it is in, is a finding (every subject that does)."""
    findings = [
        Finding(
            binding.kind,
            binding.namespace,
            binding.name,
            f"grants {binding.role_ref}: {why}",
            finding_class="default-service-account",
        )
        for binding in beyond_default
        for subject in binding.subjects
        if (why := reaches_default_account(subject))
    ]
    return draft.judge(
        findings, passed="no binding beyond the default policy reaches a default account"
    )


judge_default_account_bindings = drafted(_judge_default_account_bindings)


def plan_service_account_privileges(report: PrivilegeReport) -> Plan[list[Holding]]:
    """Every workload principal's privilege paths, the default policy recognised, latent
    grants and limitations (evidence), and the holdings judged: summarised per principal
    (admin-equivalent alone), each to be confirmed by the API server's authorizer."""
    draft = Draft()
    workload = [h for h in report.holdings if is_workload_principal(h.principal)]
    draft.record(
        "Privilege paths (principal → binding → role → rule → … → class)",
        [h.to_json() for h in workload],
        "rbac",
    )
    draft.record("Kubernetes' default policy recognised (set aside)", report.default_bindings)
    if report.dangling:
        draft.record(
            "Bindings to roles that do not exist yet (latent grants)",
            [f"{b.ref} → {b.role_ref}" for b in report.dangling],
        )
    for limitation in report.limitations:
        draft.record("Limitation", limitation)
    return Plan(draft.so_far(), privilege_findings.summarised(workload))


def _judge_service_account_privileges(
    draft: Draft,
    judged: Sequence[Holding],
    dangling: Sequence[Binding],
    authorizer_findings: Sequence[Finding],
) -> Judgement:
    """Each confirmed holding, each latent grant to a catch-all or default subject, and
    anything an authorizer other than RBAC grants, is a finding."""
    findings = [privilege_findings.finding(h) for h in judged]
    findings += [
        Finding(
            b.kind,
            b.namespace,
            b.name,
            f"{latent_risk(b)} and grants {b.role_ref}, "
            "which does not exist yet: whoever creates it grants it here",
            finding_class="latent-grant",
        )
        for b in dangling
        if latent_risk(b)
    ]
    findings += authorizer_findings
    return draft.judge(findings, passed="no ServiceAccount holds a risky privilege class")


judge_service_account_privileges = drafted(_judge_service_account_privileges)
