"""PCI 1.3.2 judged: no client certificate was issued to anything but a kubelet, judged
from the CSR list and, where it was read, the API server audit log.

The CSR rules are in :mod:`kubepci.analysis.certificates`, the audit-log history in
:mod:`kubepci.analysis.csr_history`. How far back the verdict reaches is part of it:
csrcleaner leaves an issued CSR in the list for an hour or two only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from kubepci.analysis import certificates, csr_history
from kubepci.analysis.flags import ComponentFlags
from kubepci.analysis.judgement import Draft, Judgement, Plan, drafted
from kubepci.verdict import CheckOutcome

Obj = dict[str, Any]
NOT_READ = "the API server audit log was not read (see the evidence)"


class AuditLog(Protocol):
    """The API server audit log's CSR writes as read (kubepci.access.auditlog)."""

    @property
    def events(self) -> Sequence[Obj]: ...

    def coverage(self) -> str: ...


def _listed_csrs(draft: Draft, csrs: Sequence[Obj]) -> Judgement:
    """A step: every client-certificate CSR the API lists, as evidence."""
    _, seen = certificates.listed_findings(list(csrs))
    draft.record("Client-certificate CSRs listed", seen, "objects")
    return draft.so_far()


listed_csrs = drafted(_listed_csrs)


def plan_retention(controller_managers: Sequence[ComponentFlags]) -> Plan[str]:
    """How long a CSR stays listed: csrcleaner's windows, unless a visible controller
    manager runs without it (then CSRs stay until someone deletes them)."""
    draft = Draft()
    retention = certificates.RETENTION
    try:
        for flags in controller_managers:
            draft.record(
                f"kube-controller-manager flags ({flags.pod})",
                flags.evidence(["controllers"]),
                "flags",
            )
            if not certificates.cleaner_enabled(flags.get("controllers")):
                retention = (
                    f"csrcleaner is disabled on {flags.pod} (--controllers="
                    f"{flags.get('controllers')}): CSRs stay listed until someone deletes them"
                )
    except CheckOutcome as outcome:
        return Plan(draft.ended(outcome), "")
    return Plan(draft.so_far(), retention)


def _judge_client_certificates(
    draft: Draft, csrs: Sequence[Obj], retention: str, log: AuditLog | None
) -> Judgement:
    """Every approved client-certificate CSR listed, and every one the audit log shows
    after the list lost it, was a kubelet's; the pass says how far back that reaches."""
    findings, seen = certificates.listed_findings(list(csrs))
    coverage = NOT_READ
    if log is not None:
        lives, unnamed = csr_history.lifecycles(list(log.events))
        listed = {str(c["metadata"]["name"]) for c in csrs}
        history = csr_history.judge(lives, listed)
        findings += history.findings
        draft.record("CSRs judged from the audit log", history.judged)
        draft.record("Taken as kubelet certificates (audit log)", history.kubelet_assumed)
        draft.record("Approvals the audit log cannot tie to a request", history.unjudged)
        coverage = (
            f"{log.coverage()}; {len(history.judged)} CSR(s) no longer listed judged from it, "
            f"{len(history.kubelet_assumed)} taken as kubelets', {len(unnamed)} unnamed "
            f"filing(s), {len(history.unjudged)} approval(s) it cannot tie to a request"
        )
    draft.record("CSR retention", f"{retention}; {coverage}")
    return draft.judge(
        findings,
        passed=f"no client certificate issued beyond kubelets among {len(seen)} listed "
        f"client CSR(s) ({retention}); {coverage}",
    )


judge_client_certificates = drafted(_judge_client_certificates)
