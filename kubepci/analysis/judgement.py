"""What a check concludes from its evidence: a :class:`Judgement`, built by a pure function.

A check in ``tests_pci`` gathers evidence through the ``cluster`` facade and hands it to a
function of this package, which returns a :class:`Judgement`: the evidence to record (in
order), then one ending: findings and the pass reason, or evidence unavailable, not
applicable, or manual. :meth:`kubepci.facade.Cluster.conclude` records and ends with it.

A check that must gather more after judging part of its evidence (the probes of the URLs a
configuration names, the authorizer's confirmation of findings) concludes in steps: a
:class:`Plan` holds the judgement so far (evidence to record before the next request, or an
ending when there is nothing to ask) and what to ask next. The check records it with
``cluster.conclude(plan.so_far, final=False)`` before it asks, so the evidence keeps the
order it was judged in, and is kept when the next request fails.

Judging functions are written like the checks they came from: they record evidence on a
:class:`Draft` and raise :class:`~kubepci.verdict.EvidenceUnavailable` (or
``NotApplicable``, ``ManualAttestation``) where the evidence does not allow a verdict;
:func:`drafted` turns that into the judgement, keeping the evidence recorded before it.
It is applied by assignment (``judge_x = drafted(_judge_x)``), not as a decorator: mutmut 3
leaves decorated functions unmutated, and these are the judging rules ``make mutation``
must reach.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from kubepci.records.probes import ProbeResult
from kubepci.verdict import (
    CheckOutcome,
    Evidence,
    EvidenceUnavailable,
    Finding,
    ManualAttestation,
    NotApplicable,
)

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Judgement:
    """A check's conclusion: evidence to record, then exactly one way to end.

    ``unavailable``, ``not_applicable`` and ``manual`` end the check as an error, not
    applicable or manual with that reason; otherwise it fails with ``findings``, or passes
    with ``passed``. A judgement of a step (:class:`Plan`) carries evidence and, at most, an
    ending: neither findings nor a pass reason.
    """

    findings: tuple[Finding, ...] = ()
    passed: str = ""
    evidence: tuple[Evidence, ...] = ()
    unavailable: str = ""
    not_applicable: str = ""
    manual: str = ""

    @property
    def ends(self) -> bool:
        """The check ends here whatever else it could gather."""
        return bool(self.unavailable or self.not_applicable or self.manual)


@dataclass(frozen=True)
class Plan(Generic[T]):
    """A step of a check: the judgement so far, and what to gather next (``then``)."""

    so_far: Judgement
    then: T


def manual(reason: str, *evidence: Evidence) -> Judgement:
    """Only a person can attest this; ``evidence`` says what to attest."""
    return Judgement(evidence=evidence, manual=reason)


def pod_finding(pod: str, detail: str, finding_class: str = "") -> Finding:
    """A finding on a control-plane (mirror) pod named ``namespace/name``."""
    namespace, _, name = pod.partition("/")
    return Finding("Pod", namespace, name, detail, finding_class)


class Draft:
    """A judgement being written: evidence in the order it is judged, then its ending."""

    def __init__(self) -> None:
        self.evidence: list[Evidence] = []

    def record(self, title: str, content: Any, kind: str = "text") -> None:
        self.evidence.append(Evidence(title, content, kind))

    def probes(self, title: str, probes: Iterable[ProbeResult]) -> None:
        """Probe transcripts, as the report renders them."""
        self.record(title, [p.to_json() for p in probes], "probe")

    def judge(self, findings: Sequence[Finding], passed: str) -> Judgement:
        """Fail with ``findings``; with none, pass for the reason ``passed``.

        A judgement with findings carries no pass reason: ``passed`` is set exactly when the
        control holds, so reading it never mistakes a failure for a pass.
        """
        return Judgement(tuple(findings), "" if findings else passed, tuple(self.evidence))

    def so_far(self) -> Judgement:
        """The evidence recorded so far, with no ending: the check goes on gathering."""
        return Judgement(evidence=tuple(self.evidence))

    def ended(self, outcome: CheckOutcome) -> Judgement:
        """The evidence so far, ended as ``outcome`` says."""
        evidence = tuple(self.evidence)
        if isinstance(outcome, NotApplicable):
            return Judgement(evidence=evidence, not_applicable=outcome.reason)
        if isinstance(outcome, ManualAttestation):
            return Judgement(evidence=evidence, manual=outcome.reason)
        return Judgement(evidence=evidence, unavailable=outcome.reason)


def drafted(judging: Callable[Concatenate[Draft, P], Judgement]) -> Callable[P, Judgement]:
    """Call ``judging`` with a fresh :class:`Draft`; an outcome it raises (evidence
    unavailable, not applicable, manual) ends the judgement with the evidence drafted so far.
    """

    @functools.wraps(judging)
    def judge(*args: P.args, **kwargs: P.kwargs) -> Judgement:
        draft = Draft()
        try:
            return judging(draft, *args, **kwargs)
        except CheckOutcome as outcome:
            return draft.ended(outcome)

    return judge


@dataclass(frozen=True)
class Gathered(Generic[T]):
    """Evidence as the facade gave it, or why it could not (``missing``).

    For a read whose failure ends the check only where the judgement reaches it: the
    evidence recorded before that point is kept, as when the check read it there.
    """

    value: T
    missing: str = ""

    def get(self) -> T:
        """The value; EvidenceUnavailable with the reason when it was not gathered."""
        if self.missing:
            raise EvidenceUnavailable(self.missing)
        return self.value
