"""PCI 1.3.2 judged: beyond Kubernetes' default policy, nobody can mint credentials.

The credential-minting classes (client-certificate approval, node certificates,
TokenRequest, token Secrets) are the privilege classes of recommendation 1.3.2 in the
risk catalogue (kubepci/catalogue/privileges.yaml); who holds them, by which path, is
:mod:`kubepci.analysis.privilege_report`.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubepci.analysis import privilege_findings
from kubepci.analysis.judgement import Draft, Judgement, Plan, drafted
from kubepci.analysis.privilege_paths import Holding
from kubepci.analysis.privilege_report import PrivilegeReport

MINTING = "1.3.2"


def plan_minting_rights(report: PrivilegeReport) -> Plan[list[Holding]]:
    """Every credential-minting path (evidence), and the holdings judged here: the ones
    the API server's authorizer is asked to confirm before they are judged.

    Whoever holds every verb on everything can mint anything: that is judged, once, by
    the generic-account and service-account checks, not repeated here per credential.
    One that becomes admin *by* minting (a client-certificate approver) is judged here.
    """
    draft = Draft()
    minting = [h for h in report.holdings if h.privilege.recommendation == MINTING]
    wildcard_admins = report.direct_admins()
    judged = [h for h in minting if h.principal not in wildcard_admins]
    draft.record("Credential-minting paths", [h.to_json() for h in minting], "rbac")
    draft.record(
        "Kubernetes' default policy (set aside: exactly the upstream default)",
        sorted(
            {
                f"{h.principal.ref}: {h.privilege.id}"
                for h in report.set_aside
                if h.privilege.recommendation == MINTING
            }
        ),
    )
    return Plan(draft.so_far(), judged)


def _judge_minting_rights(draft: Draft, judged: Sequence[Holding]) -> Judgement:
    """Each confirmed minting holding is a finding, with its class and path."""
    return draft.judge(
        [privilege_findings.finding(h) for h in judged],
        passed="only Kubernetes' own default policy can mint credentials",
    )


judge_minting_rights = drafted(_judge_minting_rights)
