"""A Judgement, how judging functions draft one, and how the facade concludes with it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kubepci import catalogue
from kubepci.analysis.judgement import (
    Draft,
    Gathered,
    Judgement,
    Plan,
    drafted,
    manual,
    pod_finding,
)
from kubepci.facade import Cluster, Settings
from kubepci.records.probes import ProbeResult
from kubepci.verdict import (
    Evidence,
    EvidenceUnavailable,
    Finding,
    ManualAttestation,
    NotApplicable,
    Verdict,
)

FINDING = Finding("Pod", "kube-system", "kube-apiserver-cp", "static token file in use")


def cluster() -> Cluster:
    session = SimpleNamespace(target=SimpleNamespace(id="c"))
    return Cluster(session, catalogue.load().checks["static-token-file"], [], Settings())  # type: ignore[arg-type]


@drafted
def _judged(draft: Draft, outcome: Exception | None, findings: list[Finding]) -> Judgement:
    draft.record("first", {"a": 1}, "objects")
    if outcome is not None:
        raise outcome
    draft.record("second", "text")
    return draft.judge(findings, passed="holds")


# ------------------------------------------------------------------ drafting
def test_a_draft_keeps_evidence_in_order_and_judges() -> None:
    judgement = _judged(None, [FINDING])
    assert [(e.title, e.content, e.kind) for e in judgement.evidence] == [
        ("first", {"a": 1}, "objects"),
        ("second", "text", "text"),
    ]
    assert judgement.findings == (FINDING,)
    assert judgement.passed == ""  # a judgement with findings has no pass reason
    assert not judgement.ends
    assert _judged(None, []).passed == "holds"


@pytest.mark.parametrize(
    ("outcome", "field"),
    [
        (EvidenceUnavailable("forbidden"), "unavailable"),
        (NotApplicable("managed"), "not_applicable"),
        (ManualAttestation("a person attests"), "manual"),
    ],
)
def test_an_outcome_raised_while_drafting_ends_with_the_evidence_so_far(
    outcome: Exception, field: str
) -> None:
    judgement = _judged(outcome, [FINDING])
    assert [e.title for e in judgement.evidence] == ["first"]
    assert getattr(judgement, field) == str(outcome)
    assert judgement.ends
    assert judgement.findings == () and judgement.passed == ""
    for other in {"unavailable", "not_applicable", "manual"} - {field}:
        assert getattr(judgement, other) == ""


def test_other_exceptions_are_not_taken_for_outcomes() -> None:
    with pytest.raises(KeyError):
        _judged(KeyError("bug"), [])


def test_drafted_keeps_the_function_name_and_doc() -> None:
    assert _judged.__name__ == "_judged"


def test_probe_evidence_is_the_transcript() -> None:
    draft = Draft()
    probe = ProbeResult("GET", "https://192.0.2.2:6443/api", 401)
    draft.probes("Requests", [probe])
    (item,) = draft.so_far().evidence
    assert item.kind == "probe"
    assert item.content == [probe.to_json()]


def test_so_far_is_a_step_without_an_ending() -> None:
    draft = Draft()
    draft.record("x", 1)
    step = draft.so_far()
    assert [e.title for e in step.evidence] == ["x"]
    assert not step.ends and not step.findings and not step.passed


def test_manual_and_pod_finding() -> None:
    item = Evidence("What to attest", "custody")
    judgement = manual("only a person can", item)
    assert judgement.manual == "only a person can" and judgement.evidence == (item,)
    assert judgement.ends
    assert pod_finding("kube-system/etcd-cp", "no client cert", "c") == Finding(
        "Pod", "kube-system", "etcd-cp", "no client cert", "c"
    )


def test_gathered_gives_the_value_or_raises_the_reason() -> None:
    assert Gathered([1]).get() == [1]
    with pytest.raises(EvidenceUnavailable, match="pods: forbidden"):
        Gathered([], "pods: forbidden").get()


def test_a_plan_holds_the_step_and_what_to_ask_next() -> None:
    plan = Plan(Judgement(), ["https://192.0.2.2:2379"])
    assert plan.then == ["https://192.0.2.2:2379"] and not plan.so_far.ends


# ------------------------------------------------------------------ the facade
def test_conclude_records_the_evidence_then_fails_with_the_findings() -> None:
    view = cluster()
    view.evidence("gathered by the facade", "first")
    with pytest.raises(pytest.fail.Exception):
        view.conclude(_judged(None, [FINDING, FINDING]))
    assert [e.title for e in view.result.evidence] == ["gathered by the facade", "first", "second"]
    assert view.result.verdict is Verdict.FAILED
    assert view.result.findings == [FINDING]
    assert view.result.reason == "1 finding(s)"


def test_conclude_passes_with_the_pass_reason() -> None:
    view = cluster()
    view.conclude(_judged(None, []))
    assert view.result.verdict is Verdict.PASSED
    assert view.result.reason == "holds"


@pytest.mark.parametrize(
    ("judgement", "raised"),
    [
        (Judgement(unavailable="timeout"), EvidenceUnavailable),
        (Judgement(not_applicable="managed"), NotApplicable),
        (Judgement(manual="attest"), ManualAttestation),
    ],
)
@pytest.mark.parametrize("final", [True, False])
def test_conclude_ends_as_the_judgement_says(
    judgement: Judgement, raised: type[Exception], final: bool
) -> None:
    view = cluster()
    step = Judgement(
        evidence=(Evidence("why", "x"),),
        unavailable=judgement.unavailable,
        not_applicable=judgement.not_applicable,
        manual=judgement.manual,
    )
    with pytest.raises(raised) as ended:
        view.conclude(step, final=final)
    assert str(ended.value) in {"timeout", "managed", "attest"}
    assert [e.title for e in view.result.evidence] == ["why"]
    assert view.result.verdict is Verdict.ERROR  # the plugin maps the outcome


def test_a_step_records_its_evidence_and_goes_on() -> None:
    view = cluster()
    view.conclude(Judgement(evidence=(Evidence("plan", "x"),)), final=False)
    assert [e.title for e in view.result.evidence] == ["plan"]
    assert view.result.verdict is Verdict.ERROR
    assert view.result.reason == "check did not finish"


@pytest.mark.parametrize("judgement", [Judgement(findings=(FINDING,)), Judgement(passed="holds")])
def test_a_step_that_holds_a_verdict_is_a_mistake(judgement: Judgement) -> None:
    with pytest.raises(ValueError, match="conclude it as final"):
        cluster().conclude(judgement, final=False)


def test_a_final_judgement_without_findings_or_pass_reason_does_not_pass() -> None:
    view = cluster()
    with pytest.raises(EvidenceUnavailable, match="neither findings nor a pass reason"):
        view.conclude(Judgement())
    assert view.result.verdict is not Verdict.PASSED
