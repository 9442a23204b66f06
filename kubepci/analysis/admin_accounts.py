"""PCI 1.2.1 judged: no generic account is cluster-admin equivalent, the audit runs as an
individual, and the default admin credential is in break-glass custody (attested).

What makes an identity generic is in :mod:`kubepci.analysis.identities`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubepci.analysis import identities
from kubepci.analysis.judgement import Draft, Judgement, Plan, drafted
from kubepci.analysis.privilege_paths import Holding
from kubepci.analysis.privilege_report import ADMIN, PrivilegeReport
from kubepci.verdict import Finding, ManualAttestation

CUSTODY = "custody of the break-glass credential can only be attested by its owner"


def plan_generic_admins(report: PrivilegeReport) -> Plan[list[Holding]]:
    """The inventory of every admin-equivalent principal (evidence), and those among them
    that are generic accounts: the findings the API server's authorizer is asked to
    confirm before they are judged."""
    draft = Draft()
    admins = report.of_class(ADMIN)
    draft.record(
        "Every cluster-admin equivalent principal and its path "
        "(system:masters members are not visible through the API)",
        [h.to_json() for h in admins],
        "rbac",
    )
    draft.record(
        "Kubernetes' default policy (set aside: exactly the upstream default)",
        sorted({h.principal.ref for h in report.set_aside if h.privilege.id == ADMIN}),
    )
    return Plan(draft.so_far(), [h for h in admins if identities.generic_reason(h.principal)])


def _judge_generic_admins(draft: Draft, generic: Sequence[Holding]) -> Judgement:
    """Each generic account that is cluster-admin equivalent is a finding, with its path."""
    findings = [
        Finding(
            h.principal.kind,
            h.principal.namespace,
            h.principal.name,
            f"{identities.generic_reason(h.principal)}, and is cluster-admin equivalent: "
            f"{h.path()}",
            finding_class=ADMIN,
        )
        for h in generic
    ]
    return draft.judge(findings, passed="only individuals are cluster-admin equivalent")


judge_generic_admins = drafted(_judge_generic_admins)


def _judge_audit_identity(draft: Draft, identity: Mapping[str, Any]) -> Judgement:
    """The identity running the audit (SelfSubjectReview) is not a generic account or a
    member of system:masters."""
    draft.record("SelfSubjectReview of the audit's credentials", identity, "objects")
    why = identities.identity_reason(identity["username"], identity["groups"])
    findings = [Finding("User", "", identity["username"], why)] if why else []
    return draft.judge(
        findings, passed=f"running as {identity['username']}, an individual identity"
    )


judge_audit_identity = drafted(_judge_audit_identity)


def _judge_break_glass_custody(draft: Draft, distribution: str) -> Judgement:
    """Custody of the distribution's default admin credential is outside the cluster: a
    person attests it; the evidence says what to show."""
    draft.record(
        "What to attest",
        f"Distribution {distribution}: show where the initial admin credential is "
        "stored, who can retrieve it, and the access log of its last retrievals.",
    )
    raise ManualAttestation(CUSTODY)


judge_break_glass_custody = drafted(_judge_break_glass_custody)
