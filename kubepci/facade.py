"""The ``cluster`` fixture: what a check sees, and the only ways it can end.

A check reads evidence (``cluster.snapshot``, ``cluster.rbac``, ``cluster.flags(...)``,
probes), hands it to a judging function of :mod:`kubepci.analysis` and ends with
:meth:`Cluster.conclude` on the :class:`~kubepci.analysis.judgement.Judgement` it returns
(which records its evidence, then judges, or ends not applicable, manual or in error).
:meth:`Cluster.judge`, :meth:`Cluster.not_applicable` and :meth:`Cluster.manual` are the
endings it maps to. Evidence that cannot be collected raises
:class:`~kubepci.verdict.EvidenceUnavailable` from wherever it is read, which the plugin
reports as an error: a check has no path to "passed" without judging evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

from kubepci.access.auditlog import AuditLogRead
from kubepci.access.cluster import ClusterSession
from kubepci.access.kubeconfig import IN_CLUSTER, Credential, Target
from kubepci.access.snapshot import Snapshot
from kubepci.analysis.access_review import (
    UNBOUND_PROBE,
    AccessAnswer,
    authorization_mode_findings,
    confirmations,
    pair_json,
    permissive_authorizer_findings,
    probe_disagreements,
)
from kubepci.analysis.authorizer import Identity, Request
from kubepci.analysis.endpoints import NodeAddress, ReadOnlyTarget, ServicePort
from kubepci.analysis.flags import ComponentFlags
from kubepci.analysis.judgement import Judgement
from kubepci.analysis.privilege_paths import Holding
from kubepci.analysis.privilege_report import PrivilegeReport
from kubepci.analysis.rbac import RbacGraph
from kubepci.catalogue import Check
from kubepci.records.node_files import KeyFile
from kubepci.records.probes import PathProbe, ProbeResult
from kubepci.verdict import (
    CheckResult,
    Evidence,
    EvidenceUnavailable,
    Finding,
    ManualAttestation,
    NotApplicable,
    Verdict,
)
from kubepci.waivers import Waiver, split

MAX_LISTED = 50


@dataclass(frozen=True)
class Settings:
    """User-set policy for the run."""

    token_lifetime_limit: int = 86400
    node_root: str = ""


class Cluster:
    """One check's view of one cluster."""

    def __init__(
        self,
        session: ClusterSession,
        check: Check,
        waivers: list[Waiver],
        settings: Settings,
    ) -> None:
        self.session = session
        self.check = check
        self.settings = settings
        self._waivers = waivers
        self.result = CheckResult(
            check.id, session.target.id, Verdict.ERROR, "check did not finish"
        )

    # ------------------------------------------------------------------ evidence
    @property
    def target(self) -> Target:
        return self.session.target

    @property
    def snapshot(self) -> Snapshot:
        return self.session.snapshot

    @property
    def rbac(self) -> RbacGraph:
        return self.session.rbac

    @property
    def node_addresses(self) -> list[NodeAddress]:
        return self.session.node_addresses

    # Live probes: made once per cluster and run, recorded, replayed from the record.
    def api_server_probes(self) -> list[ProbeResult]:
        return self.session.api_server_probes()

    def component_probes(self, component: str, flags: ComponentFlags) -> list[ProbeResult]:
        return self.session.component_probes(component, flags)

    def kubelet_probes(self) -> list[ProbeResult]:
        return self.session.kubelet_probes()

    def read_only_port_probes(self, targets: list[ReadOnlyTarget]) -> list[ProbeResult]:
        return self.session.read_only_port_probes(targets)

    def etcd_probes(self, urls: list[str]) -> list[ProbeResult]:
        return self.session.etcd_probes(urls)

    def service_probes(self, ports: list[ServicePort]) -> list[list[PathProbe]]:
        return self.session.service_probes(ports)

    def kubelet_configz(self) -> dict[str, dict[str, Any]]:
        """Each node's effective kubelet configuration (through the node proxy)."""
        return self.session.kubelet_configz()

    # Node files under --node-root: owner and mode only, never contents.
    def signing_keys(self) -> list[KeyFile]:
        return self.session.signing_keys()

    def private_keys(self) -> list[KeyFile]:
        return self.session.private_keys()

    @property
    def privileges(self) -> PrivilegeReport:
        """Privilege classes held by every principal, with their paths."""
        return self.session.privileges

    @property
    def identity(self) -> dict[str, Any]:
        return self.session.identity

    @property
    def distribution(self):
        return self.session.distribution

    def flags(self, component: str) -> list[ComponentFlags]:
        """The component's settings on every instance (with the settings files it names,
        read under ``--node-root``), or why they cannot be read."""
        control_plane = self.session.control_plane
        found = control_plane[component]
        set_aside = getattr(control_plane, "set_aside", {}).get(component)
        if set_aside:
            self.evidence(f"kube-system pods not judged as {component}", set_aside)
        unresolved = getattr(control_plane, "unresolved", {}).get(component)
        if unresolved:
            raise EvidenceUnavailable(
                f"{component} may run in a static pod whose command line cannot be read: "
                + "; ".join(unresolved)
            )
        refused = [f"{f.pod}: {'; '.join(f.refused)}" for f in found if f.refused]
        if refused:
            raise EvidenceUnavailable(
                f"{component} would not start with the command line of its static pod, so "
                f"these flags do not describe a running {component}: " + " | ".join(refused)
            )
        if found:
            for instance in found:
                if instance.notes:
                    self.evidence(f"Limits of what was read from {instance.pod}", instance.notes)
            return self.session.config_files(component, found)
        distribution = self.distribution
        if distribution.managed:
            raise NotApplicable(
                f"{distribution.name.upper()} runs {component} in the provider's managed "
                "control plane; its flags are not visible through the API"
            )
        raise EvidenceUnavailable(
            f"no {component} pod in kube-system, so its flags cannot be read "
            f"(distribution: {distribution.name}); the control plane may run outside pods"
        )

    def visible_flags(self, component: str) -> list[ComponentFlags]:
        """The component's flags where its pods are visible, else [] (no verdict from it)."""
        return self.session.control_plane[component]

    def csr_audit_log(self) -> AuditLogRead | None:
        """The API server audit log's CSR writes under ``--node-root``; None, with the
        reason recorded as evidence, when it cannot be read.

        The path is ``--audit-log-path`` as the visible kube-apiserver pods set it (kubeadm
        mounts the log directory at the same path on the host). Only this node's files
        are read: another control-plane node's API server writes its own log.
        """
        why_not = ""
        paths = sorted({f.get("audit-log-path") for f in self.visible_flags("kube-apiserver")})
        if not self.settings.node_root:
            why_not = "no --node-root given: the audit log on the control-plane node was not read"
        elif not paths:
            why_not = "no kube-apiserver pod is visible, so its audit log cannot be located"
        elif paths == [""]:
            why_not = "kube-apiserver writes no audit log file (--audit-log-path is not set)"
        elif "-" in paths:
            why_not = "kube-apiserver writes its audit log to stdout (--audit-log-path=-)"
        if why_not:
            self.evidence("API server audit log not read", why_not)
            return None
        read = self.session.csr_audit_log(next(p for p in paths if p))
        self.evidence("API server audit log read (CSR writes only)", read.to_json(), "objects")
        if not read.files:
            self.evidence("API server audit log not read", read.coverage())
            return None
        return read

    def access_reviews(self, pairs: list[tuple[Identity, Request]]) -> list[AccessAnswer]:
        """The API server's authorizer on each (identity, request): one SubjectAccessReview
        per distinct pair, recorded as evidence; EvidenceUnavailable if they cannot be made."""
        answers = self.session.access_reviews(pairs)
        self.evidence(
            "SubjectAccessReview answers",
            [
                {**pair_json(identity, request), "answer": answer.to_json()}
                for (identity, request), answer in zip(pairs, answers, strict=True)
            ],
            "objects",
        )
        return answers

    def authorization_config(self, flags: ComponentFlags) -> dict[str, Any] | None:
        """The AuthorizationConfiguration named by ``--authorization-config``, read under
        ``--node-root``; None (and the reason, as evidence) when it is not set or not read.

        The path is the one in the flag: kubeadm mounts the file into the static pod at the
        same path on the host, which is what this assumes.
        """
        path = flags.explicit.get("authorization-config", "")
        if not path:
            return None
        root = self.settings.node_root
        if not root:
            self.evidence(
                f"AuthorizationConfiguration of {flags.pod} not read",
                f"--authorization-config={path}: the file is on the control-plane node; "
                "run with --node-root there to read it",
            )
            return None
        read = self.session.node_yaml(path)
        if "document" not in read:
            self.evidence(
                f"AuthorizationConfiguration of {flags.pod} not read",
                f"--authorization-config={path}: {read['reason']}",
            )
            return None
        document: dict[str, Any] = read["document"]
        self.evidence(
            f"AuthorizationConfiguration of {flags.pod} ({read['read_from']})", document, "objects"
        )
        return document

    def confirm(self, holdings: list[Holding]) -> None:
        """Ask the API server's authorizer about each finding's first request.

        Every finding's path starts with a request the evaluator allows; the server must
        allow it too. One review per finding, recorded; a disagreement is the suite's
        error and ends the check as one, never as a pass or a silent drop.
        """
        if not holdings:
            return
        witnesses = [h.witness for h in holdings]
        lines, disagreements = confirmations(witnesses, self.access_reviews(witnesses))
        self.evidence(
            "Authorizer confirmation of each finding (SubjectAccessReview)",
            [
                f"{h.principal.ref} [{h.privilege.id}]: {line}"
                for h, line in zip(holdings, lines, strict=True)
            ],
        )
        if disagreements:
            raise EvidenceUnavailable(
                f"{len(disagreements)} finding(s) the API server's authorizer does not "
                f"confirm (an error of the suite): {disagreements[0]}"
            )

    def authorizer_findings(self) -> list[Finding]:
        """Is anything but RBAC granting? The kube-apiserver's authorizer chain where its
        flags are visible, and a live probe with an identity that nothing binds."""
        findings: list[Finding] = []
        for flags in self.session.control_plane["kube-apiserver"]:
            found, lines = authorization_mode_findings(flags, self.authorization_config(flags))
            findings += found
            self.evidence(f"Authorizer chain ({flags.pod})", lines)
        report = self.privileges
        assert report.authorizer is not None
        probe = list(UNBOUND_PROBE)
        rbac_allows = [report.authorizer.allows(i, r) for i, r in probe]
        answers = self.access_reviews(probe)
        disagreements = probe_disagreements(probe, rbac_allows, answers)
        if disagreements:
            raise EvidenceUnavailable(
                "the API server's authorizer refuses what RBAC allows an unbound identity "
                f"(an error of the suite): {disagreements[0]}"
            )
        return findings + permissive_authorizer_findings(probe, rbac_allows, answers)

    def interactive_credential(self) -> Credential:
        """The kubeconfig credential of the person running the audit, as client-go sends it.

        Only the suite's own in-cluster ServiceAccount (a pod's projected token) is a
        workload identity to which a person's credential checks do not apply. A
        ServiceAccount token in a kubeconfig is a person holding one: it is judged. The
        SelfSubjectReview is recorded with it, since it says whom the API server saw.
        """
        if self.target.kubeconfig == IN_CLUSTER:
            raise NotApplicable(
                f"running in-cluster as {self.identity['username'] or 'a ServiceAccount'} with "
                "this pod's projected token: a workload identity, not a person's kubeconfig"
            )
        credential = self.target.credential
        self.evidence(
            "Kubeconfig user credential, as client-go sends it (types and claims only)",
            {"user": self.target.user, **credential.to_json()},
            "objects",
        )
        self.evidence(
            "Whom the API server authenticated (SelfSubjectReview of the suite's own requests)",
            {"username": self.identity["username"], "groups": self.identity["groups"]},
            "objects",
        )
        return credential

    def evidence(self, title: str, content: Any, kind: str = "text") -> None:
        self.result.evidence.append(Evidence(title, content, kind))

    def probes_evidence(self, title: str, probes: list[ProbeResult]) -> None:
        self.evidence(title, [p.to_json() for p in probes], "probe")

    # ------------------------------------------------------------------ endings
    def judge(self, findings: list[Finding], passed: str) -> None:
        """Fail listing every unwaived finding; otherwise pass (or waive) with ``passed``."""
        __tracebackhide__ = True
        findings = sorted(set(findings))
        open_findings, waived = split(self.check.id, findings, self._waivers)
        self.result.findings = findings
        self.result.waived = [{"finding": f.to_json(), "waiver": w.to_json()} for f, w in waived]
        if open_findings:
            self.result.verdict = Verdict.FAILED
            lines = [f.line() for f in open_findings[:MAX_LISTED]]
            if len(open_findings) > MAX_LISTED:
                lines.append(f"… and {len(open_findings) - MAX_LISTED} more (see the evidence)")
            self.result.reason = f"{len(open_findings)} finding(s)"
            pytest.fail(
                f"{self.check.title}: {len(open_findings)} finding(s)\n" + "\n".join(lines),
                pytrace=False,
            )
        if waived:
            self.result.verdict = Verdict.WAIVED
            self.result.reason = "; ".join(
                f"{f.ref} waived by {w.approver} until {w.expires.isoformat()}: {w.justification}"
                for f, w in waived
            )
            pytest.xfail(f"waived: {self.result.reason}")
        self.result.verdict = Verdict.PASSED
        self.result.reason = passed

    def conclude(self, judgement: Judgement, final: bool = True) -> None:
        """Record the judgement's evidence in order, then end as it says: not applicable,
        manual, evidence unavailable, or :meth:`judge` with its findings and pass reason.

        ``final=False`` concludes a step (:class:`~kubepci.analysis.judgement.Plan`): its
        evidence is recorded and an ending ends the check; otherwise the check gathers on.
        """
        __tracebackhide__ = True
        self.result.evidence.extend(judgement.evidence)
        if judgement.not_applicable:
            raise NotApplicable(judgement.not_applicable)
        if judgement.manual:
            raise ManualAttestation(judgement.manual)
        if judgement.unavailable:
            raise EvidenceUnavailable(judgement.unavailable)
        if not final:
            if judgement.findings or judgement.passed:
                raise ValueError("a step's judgement holds a verdict: conclude it as final")
            return
        if not judgement.findings and not judgement.passed:
            # Fail closed: a judgement that names no finding must say why the control holds.
            raise EvidenceUnavailable("the judgement gave neither findings nor a pass reason")
        self.judge(list(judgement.findings), passed=judgement.passed)

    def not_applicable(self, reason: str) -> NoReturn:
        raise NotApplicable(reason)

    def manual(self, reason: str) -> NoReturn:
        raise ManualAttestation(reason)
