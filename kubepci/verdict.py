"""Verdicts, findings and the outcomes a check can end in.

A check ends in exactly one verdict. Only ``passed`` (and ``waived``, which is a
failure an approver accepted in writing) say the control holds; ``manual`` and
``not_applicable`` say the suite cannot judge, ``attested`` says a named person vouches,
in a dated and unexpired attestation, for what the suite cannot see, and ``error`` says
the evidence could not be collected. None of those is ever reported as a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"
    WAIVED = "waived"
    # A manual check a named person attested, with a dated, unexpired attestation and a
    # hashed supporting document (kubepci.attestations): not judged by the suite.
    ATTESTED = "attested"


@dataclass(frozen=True, order=True)
class Finding:
    """One offending object or setting, named the way an operator would look it up."""

    kind: str
    namespace: str
    name: str
    detail: str
    # What the finding is, as a waiver names it: a privilege-class id from the RBAC risk
    # catalogue (``read-secrets``, ``admin-equivalent``) or a short reason code for other
    # checks. A waiver for one class leaves a new, worse finding on the same object open.
    finding_class: str = ""

    @property
    def ref(self) -> str:
        """``Kind namespace/name``, or ``Kind name`` when cluster-scoped.

        >>> Finding("ServiceAccount", "payments", "default", "x").ref
        'ServiceAccount payments/default'
        >>> Finding("ClusterRoleBinding", "", "anon", "x").ref
        'ClusterRoleBinding anon'
        """
        return (
            f"{self.kind} {self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind} {self.name}"
        )

    def line(self) -> str:
        """``ref: detail``, then `` [class]`` when the finding has one.

        >>> Finding("ServiceAccount", "kubepci", "auditor", "list secrets", "read-secrets").line()
        'ServiceAccount kubepci/auditor: list secrets [read-secrets]'
        """
        line = f"{self.ref}: {self.detail}"
        return f"{line} [{self.finding_class}]" if self.finding_class else line

    def to_json(self) -> dict[str, str]:
        # Spelled out: dataclasses.asdict deep-copies, which at 10,000 findings shows.
        # "class" is always present (empty when none), so results.json keeps one shape.
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "detail": self.detail,
            "class": self.finding_class,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Finding:
        """The inverse of :meth:`to_json`; a record written before classes has none."""
        return cls(
            str(raw["kind"]),
            str(raw["namespace"]),
            str(raw["name"]),
            str(raw["detail"]),
            str(raw.get("class") or ""),
        )


@dataclass
class Evidence:
    """Raw facts a verdict was judged from; rendered as a collapsible extra."""

    title: str
    content: Any
    # "probe", "objects", "rbac", "flags", "text": tells the report how to render it.
    kind: str = "text"

    def __post_init__(self) -> None:
        # A snapshot list (kubepci.records.listing.Records) is a sequence, not a list:
        # the evidence keeps its objects, in a form every output can write.
        content = self.content
        if isinstance(content, Sequence) and not isinstance(content, str | bytes | list | tuple):
            self.content = list(content)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "kind": self.kind, "content": self.content}


@dataclass
class CheckResult:
    check_id: str
    cluster: str
    verdict: Verdict
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)
    waived: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    # The attestation a manual check was matched with (in force or expired), else None.
    attestation: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "cluster": self.cluster,
            "verdict": str(self.verdict),
            "reason": self.reason,
            "findings": [f.to_json() for f in self.findings],
            "waived": self.waived,
            "evidence": [e.to_json() for e in self.evidence],
            "attestation": self.attestation,
        }


class CheckOutcome(Exception):
    """Base of the non-pass outcomes a check raises to end itself."""

    verdict: Verdict

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EvidenceUnavailable(CheckOutcome):
    """The evidence could not be collected (forbidden, unreachable, timeout, malformed)."""

    verdict = Verdict.ERROR


class NotApplicable(CheckOutcome):
    """The control cannot apply to this cluster or identity; the reason says why."""

    verdict = Verdict.NOT_APPLICABLE


class ManualAttestation(CheckOutcome):
    """Only a person can attest this; never counted as passed."""

    verdict = Verdict.MANUAL
