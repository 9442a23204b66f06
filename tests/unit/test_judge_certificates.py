"""1.3.2 judged (kubepci.analysis.certificate_issuance): client certificates issued, from
the CSR list and the API server audit log. Built on the recorded CSRs, controller-manager
pod and audit log of both local profiles, varied by hand (the list emptied by csrcleaner,
csrcleaner disabled, the log not read)."""

from __future__ import annotations

import dataclasses

from kubepci.access.auditlog import AuditLogRead
from kubepci.analysis.certificate_issuance import (
    NOT_READ,
    judge_client_certificates,
    listed_csrs,
    plan_retention,
)
from kubepci.analysis.certificates import RETENTION
from kubepci.analysis.flags import ComponentFlags
from tests.support.judge_evidence import evidence, recorded, titles

COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")
LOG_TITLES = [
    "CSRs judged from the audit log",
    "Taken as kubelet certificates (audit log)",
    "Approvals the audit log cannot tie to a request",
    "CSR retention",
]


def log(r: object) -> AuditLogRead:
    return AuditLogRead.from_record(r.audit_log_record())  # type: ignore[attr-defined]


def controller_manager(**flags: str) -> ComponentFlags:
    return ComponentFlags(
        "kube-controller-manager", "kube-system/kcm-cp", "cp", dict(flags),
    )  # fmt: skip


def test_every_client_csr_listed_is_evidence() -> None:
    step = listed_csrs(NONCOMPLIANT.items("certificatesigningrequests"))
    assert [row["name"] for row in evidence(step, "Client-certificate CSRs listed")] == [
        "csr-mqpdr", "kubepci-fixture-fake-node", "kubepci-fixture-jane",
        "kubepci-fixture-masters",
    ]  # fmt: skip
    assert not step.ends and not step.findings


def test_approved_client_certificates_beyond_kubelets_are_findings() -> None:
    csrs = NONCOMPLIANT.items("certificatesigningrequests")
    retention = plan_retention(NONCOMPLIANT.flags("kube-controller-manager"))
    assert retention.then == RETENTION
    assert titles(retention.so_far) == [
        "kube-controller-manager flags (kube-system/kube-controller-manager-vm)"
    ]
    judgement = judge_client_certificates(csrs, retention.then, log(NONCOMPLIANT))
    assert [f.finding_class for f in sorted(judgement.findings)] == [
        "node-client-certificate", "client-certificate", "system-masters",
    ]  # fmt: skip
    assert titles(judgement) == LOG_TITLES


def test_kubelet_certificates_alone_pass_and_say_how_far_back() -> None:
    csrs = COMPLIANT.items("certificatesigningrequests")
    judgement = judge_client_certificates(csrs, RETENTION, log(COMPLIANT))
    assert judgement.passed.startswith(
        "no client certificate issued beyond kubelets among 1 listed client CSR(s) "
        "(kube-controller-manager's csrcleaner runs hourly"
    )
    assert judgement.passed.endswith(
        "reaches back to 2026-12-01T11:50:50.531518Z: 3 CSR write(s); 0 CSR(s) no longer "
        "listed judged from it, 0 taken as kubelets', 1 unnamed filing(s), 0 approval(s) it "
        "cannot tie to a request"
    )


def test_the_audit_log_judges_csrs_the_list_lost() -> None:
    judgement = judge_client_certificates([], "R", log(NONCOMPLIANT))
    assert [f.finding_class for f in judgement.findings] == ["client-certificate-in-audit-log"] * 2
    assert len(evidence(judgement, "CSRs judged from the audit log")) == 3
    assert evidence(judgement, "Taken as kubelet certificates (audit log)")[0].startswith(
        "csr-mqpdr: auto-approved by the certificate-controller"
    )
    assert evidence(judgement, "CSR retention").startswith(
        "R; the API server audit log /var/log/kubernetes/audit/audit.log (1 file(s))"
    )


def test_without_the_audit_log_the_list_alone_decides() -> None:
    csrs = COMPLIANT.items("certificatesigningrequests")
    judgement = judge_client_certificates(csrs, RETENTION, None)
    assert titles(judgement) == ["CSR retention"]
    assert judgement.passed.endswith(f"({RETENTION}); {NOT_READ}")
    assert (
        len(
            judge_client_certificates(
                NONCOMPLIANT.items("certificatesigningrequests"), RETENTION, None
            ).findings
        )
        == 3
    )


def test_csrcleaner_disabled_keeps_csrs_listed() -> None:
    plan = plan_retention([controller_manager(controllers="*,-csrcleaner")])
    assert plan.then == (
        "csrcleaner is disabled on kube-system/kcm-cp (--controllers=*,-csrcleaner): CSRs "
        "stay listed until someone deletes them"
    )
    assert plan_retention([]).then == RETENTION


def test_controllers_that_cannot_be_read_leave_no_verdict() -> None:
    hidden = dataclasses.replace(controller_manager(), unresolved={"controllers": "from $(C)"})
    plan = plan_retention([controller_manager(), hidden])
    assert plan.so_far.unavailable == "kube-system/kcm-cp: --controllers cannot be read: from $(C)"
    assert len(plan.so_far.evidence) == 2 and plan.then == ""
