"""How the facade maps a judgement onto a verdict, and what the verdict says.

Found by ``make mutation`` (tests/mutation/): no test gave evidence a snapshot list (a
``Records``, a sequence that is no list), judged exactly as many findings as are listed,
waived two findings at once, or looked at the reasons and the traceback a step's
judgement ends with. These are what an assessor reads: the reason of each verdict, the
failure listing, and a report free of kubepci's own frames.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from kubepci.analysis.judgement import Judgement
from kubepci.facade import MAX_LISTED
from kubepci.records.listing import Records
from kubepci.verdict import Evidence, EvidenceUnavailable, Finding, Verdict
from kubepci.waivers import Waiver
from tests.unit.test_verdicts import AUDITOR, AUDITOR_WAIVER, BOT, CHECK, view

pytest_plugins = ["pytester"]


# ------------------------------------------------------------------ evidence


def test_evidence_keeps_a_snapshot_lists_objects_as_a_list() -> None:
    # The report, JSON and OSCAL writers take a list; a Records is only a Sequence.
    pods = [{"metadata": {"name": "web"}}, {"metadata": {"name": "db"}}]
    evidence = Evidence("pods", Records.of(pods), "objects")
    assert type(evidence.content) is list
    assert evidence.content == pods
    assert json.loads(json.dumps(evidence.to_json()))["content"] == pods


@pytest.mark.parametrize("content", ["a text", b"bytes", ("a", "tuple"), ["a", "list"], None])
def test_evidence_keeps_other_content_as_given(content: object) -> None:
    assert Evidence("t", content).content is content


# ------------------------------------------------------------------ judge


def pods(count: int) -> list[Finding]:
    return [Finding("Pod", "ns", f"p{i:03}", "token") for i in range(count)]


def test_exactly_as_many_findings_as_are_listed_name_no_more() -> None:
    with pytest.raises(pytest.fail.Exception) as failure:
        view().judge(pods(MAX_LISTED), passed="unused")
    lines = failure.value.msg.splitlines()
    assert len(lines) == 1 + MAX_LISTED
    assert not any("more (see the evidence)" in line for line in lines)


def test_one_more_finding_than_listed_is_counted() -> None:
    with pytest.raises(pytest.fail.Exception) as failure:
        view().judge(pods(MAX_LISTED + 1), passed="unused")
    assert failure.value.msg.splitlines()[-1] == "… and 1 more (see the evidence)"


def test_every_waived_finding_is_named_in_the_reason() -> None:
    bot_waiver = Waiver(
        CHECK.id,
        "ServiceAccount",
        "payments",
        "deploy-bot",
        "admin-equivalent",
        "break-glass deployer",
        "qsa@example.com",
        dt.date(2099, 6, 30),
    )
    cluster = view([AUDITOR_WAIVER, bot_waiver])
    with pytest.raises(pytest.xfail.Exception):
        cluster.judge([BOT, AUDITOR], passed="unused")
    assert cluster.result.verdict is Verdict.WAIVED
    # Sorted findings, one waiver each, joined as one sentence per finding.
    assert cluster.result.reason == (
        "ServiceAccount kubepci/auditor waived by jane.doe@example.com until 2099-01-01: "
        "metadata-only secret listing; "
        "ServiceAccount payments/deploy-bot waived by qsa@example.com until 2099-06-30: "
        "break-glass deployer"
    )


# ------------------------------------------------------------------ conclude


def test_a_judgement_without_findings_or_pass_reason_is_an_error_that_says_so() -> None:
    # Fail closed, and the reason (the verdict's evidence) names why.
    with pytest.raises(EvidenceUnavailable) as error:
        view().conclude(Judgement())
    assert error.value.reason == "the judgement gave neither findings nor a pass reason"


@pytest.mark.parametrize("judgement", [Judgement(findings=(BOT,)), Judgement(passed="fine")])
def test_a_step_holding_a_verdict_is_refused_with_the_way_out(judgement: Judgement) -> None:
    with pytest.raises(ValueError) as error:
        view().conclude(judgement, final=False)
    assert str(error.value) == "a step's judgement holds a verdict: conclude it as final"


def test_a_refused_step_shows_the_checks_frame_not_the_facades(
    pytester: pytest.Pytester,
) -> None:
    # __tracebackhide__: the error points at the check that concluded wrongly; kubepci's
    # own conclude frame is not the assessor's (or the check author's) business.
    pytester.makepyfile(
        """
        from types import SimpleNamespace
        from kubepci import catalogue
        from kubepci.analysis.judgement import Judgement
        from kubepci.facade import Cluster, Settings

        CHECK = catalogue.load().checks["pod-token-automount"]

        def test_step():
            session = SimpleNamespace(target=SimpleNamespace(id="c"))
            Cluster(session, CHECK, [], Settings()).conclude(Judgement(passed="x"), final=False)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tb=long")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ValueError: a step's judgement holds a verdict*"])
    result.stdout.no_fnmatch_line("*facade.py*")


def test_a_failure_is_located_at_the_check_not_in_the_facade(pytester: pytest.Pytester) -> None:
    # --tb=line prints each failure as "file:line: message", the crash location pytest
    # takes from the last frame not hidden: the check's call to judge, never facade.py.
    pytester.makepyfile(
        test_check="""
        from types import SimpleNamespace
        from kubepci import catalogue
        from kubepci.facade import Cluster, Settings
        from kubepci.verdict import Finding

        CHECK = catalogue.load().checks["pod-token-automount"]

        def test_fails():
            session = SimpleNamespace(target=SimpleNamespace(id="c"))
            Cluster(session, CHECK, [], Settings()).judge([Finding("Pod", "a", "b", "c")], "x")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tb=line")
    result.assert_outcomes(failed=1)
    # Under mutmut the check calls judge through mutmut's trampoline, a frame pytest does
    # not hide, so the location is that frame: still never facade.py.
    where = (
        "*/mutmut/*trampoline.py:*" if "MUTANT_UNDER_TEST" in os.environ else "*/test_check.py:10"
    )
    result.stdout.fnmatch_lines([f"{where}: Failed: *1 finding(s)"])
    result.stdout.no_fnmatch_line("*facade.py*")
