"""PCI 1.1.6 judged: in-cluster services serve no content to callers without credentials.

Which Service ports are probed is decided in :mod:`kubepci.analysis.endpoints`, what each
answer means (and each port's verdict) in :mod:`kubepci.analysis.service_answers`; this
module turns the ports' verdicts into the check's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubepci.analysis import service_answers
from kubepci.analysis.endpoints import ServicePort, services_to_probe
from kubepci.analysis.judgement import Draft, Judgement, Plan, drafted
from kubepci.analysis.service_answers import PortJudgement, PortVerdict
from kubepci.records.probes import PathProbe
from kubepci.verdict import EvidenceUnavailable, NotApplicable

Obj = dict[str, Any]


def plan_service_probes(
    services: Sequence[Obj], endpoint_slices: Sequence[Obj]
) -> Plan[list[ServicePort]]:
    """Every TCP port of a Service with ready endpoints; with none, nothing applies."""
    draft = Draft()
    ports, skipped = services_to_probe(list(services), list(endpoint_slices))
    if skipped:
        draft.record("Services not probed", skipped)
    if not ports:
        return Plan(draft.ended(NotApplicable("no Service has ready endpoints to probe")), [])
    return Plan(draft.so_far(), ports)


def _with_verdict(judgements: Sequence[PortJudgement], verdict: PortVerdict) -> list[PortJudgement]:
    return [j for j in judgements if j.verdict is verdict]


def _passed(judgements: Sequence[PortJudgement]) -> str:
    demanded = len(_with_verdict(judgements, PortVerdict.DEMANDS_CREDENTIALS))
    nothing = [j.ref for j in _with_verdict(judgements, PortVerdict.SERVED_NOTHING)]
    cannot = [j.ref for j in _with_verdict(judgements, PortVerdict.CANNOT_SERVE)]
    passed = f"{demanded} service port(s) demanded credentials (401/403, a challenge or a sign-in)"
    if nothing:
        passed += (
            f"; {len(nothing)} served nothing on the probed paths and asked for no "
            f"credentials ({', '.join(nothing)})"
        )
    if cannot:
        passed += f"; {len(cannot)} cannot serve HTTP content ({', '.join(cannot)})"
    return passed


def _judge_service_probes(
    draft: Draft, ports: Sequence[ServicePort], answers: Sequence[Sequence[PathProbe]]
) -> Judgement:
    """Content on any path of any port is a finding. Without one, the check passes only
    when every port was judged: a port that could serve content but gave no judgeable
    answer, the API server refusing the suite's proxy requests, or no port answering HTTP
    at all leaves no verdict."""
    judgements = [
        service_answers.judge_port(port, list(paths))
        for port, paths in zip(ports, answers, strict=True)
    ]
    draft.probes(
        "Unauthenticated requests through the service proxy",
        [request for paths in answers for path in paths for request in path.requests],
    )
    draft.record("Verdict per service port", [j.line() for j in judgements])
    refused = _with_verdict(judgements, PortVerdict.SUITE_REFUSED)
    if refused:
        raise EvidenceUnavailable(
            "the API server refused the suite's services/proxy requests: "
            + "; ".join(j.ref for j in refused)
        )
    limits = [line for j in judgements if (line := service_answers.limitation(j))]
    if limits:
        draft.record("Limitations: service ports or paths not judged", limits)
    findings = [j.finding() for j in _with_verdict(judgements, PortVerdict.SERVED_CONTENT)]
    unjudged = _with_verdict(judgements, PortVerdict.NOT_JUDGED)
    if unjudged and not findings:
        # A port that could serve content and was never judged is never passed over.
        # Every one named (a fleet may hold hundreds); why, for the first five.
        raise EvidenceUnavailable(
            f"{len(unjudged)} service port(s) could not be judged "
            f"({', '.join(j.ref for j in unjudged)}): "
            + "; ".join(service_answers.limitation(j) for j in unjudged[:5])
        )
    if not findings and all(j.verdict is PortVerdict.CANNOT_SERVE for j in judgements):
        raise EvidenceUnavailable(
            "no probed service port answered HTTP or HTTPS: "
            + "; ".join(service_answers.limitation(j) for j in judgements[:5])
        )
    return draft.judge(findings, passed=_passed(judgements))


judge_service_probes = drafted(_judge_service_probes)
