"""Each way a check can end, as the plugin maps it onto pytest: the terminal status, the
JUnit record and the exit code agree with the verdict, and nothing but a judged pass is a
pass (fail closed).

Each case is a check body written for the test, bound to a catalogue id and run by the
real plugin over a replayed pack (so ``cluster`` is the real facade, with no cluster).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support import replay

pytest_plugins = ["pytester"]

BODIES = {
    "passed": "cluster.judge([], passed='all good')",
    "failed": "cluster.judge([Finding('Node', '', 'vm', 'bad')], passed='x')",
    "not_applicable": "cluster.not_applicable('managed control plane')",
    "manual": "cluster.manual('attest it')",
    "unavailable": "raise EvidenceUnavailable('forbidden: nodes/proxy')",
    "exception": "raise KeyError('status')",
    "no_verdict": "cluster.evidence('looked', 'and stopped')",
    "assertion": "assert False, 'a bare assert in a check'",
}
# verdict, pytest outcome in JUnit, exit code of a run holding only this check
EXPECTED = {
    "passed": ("passed", "passed", 0),
    "failed": ("failed", "failed", 1),
    "not_applicable": ("not_applicable", "skipped", 0),
    "manual": ("manual", "skipped", 0),
    "unavailable": ("error", "failed", 2),
    "exception": ("error", "failed", 2),
    "no_verdict": ("error", "failed", 2),
    "assertion": ("error", "failed", 2),
}


def _write_check(pytester: pytest.Pytester, body: str) -> None:
    pytester.makepyfile(
        test_case=f"""
from kubepci import check
from kubepci.verdict import EvidenceUnavailable, Finding


@check("kubelet-config")
def test_case(cluster):
    {body}
"""
    )


@pytest.fixture
def pack(pytester: pytest.Pytester) -> Path:
    return replay.stage("compliant", pytester.path)


def _junit_outcome(path: Path) -> tuple[str, dict[str, str]]:
    (case,) = ET.parse(path).getroot().iter("testcase")
    properties = {str(p.get("name")): str(p.get("value")) for p in case.iter("property")}
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        if case.find(tag) is not None:
            return outcome, properties
    return "passed", properties


@pytest.mark.parametrize("ending", sorted(BODIES))
def test_every_ending_maps_onto_pytest(pytester: pytest.Pytester, pack: Path, ending: str) -> None:
    _write_check(pytester, BODIES[ending])
    out = pytester.path / "out"
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--from-evidence={pack}",
        f"--evidence-dir={out}",
        f"--junitxml={out / 'junit.xml'}",
        "test_case.py",
    )
    verdict, junit, code = EXPECTED[ending]
    (entry,) = json.loads((out / "results.json").read_text())["results"]
    assert entry["verdict"] == verdict
    outcome, properties = _junit_outcome(out / "junit.xml")
    assert outcome == junit
    assert properties["verdict"] == verdict
    assert result.ret == code
    if verdict == "error":
        # The terminal names the verdict, not a pass.
        result.stdout.fnmatch_lines(["*ERROR*"])
        assert entry["reason"]


def test_a_check_without_a_verdict_names_itself(pytester: pytest.Pytester, pack: Path) -> None:
    _write_check(pytester, BODIES["no_verdict"])
    result = pytester.runpytest("-p", "no:cacheprovider", f"--from-evidence={pack}", "test_case.py")
    result.stdout.fnmatch_lines(["*kubelet-config: check did not finish*without a verdict*"])
    assert result.ret == 2


def test_a_waived_finding_is_neither_pass_nor_failure(pytester: pytest.Pytester) -> None:
    pack = replay.stage("noncompliant", pytester.path)
    document = json.loads((pack / "replay.json").read_text())
    document["waivers"] = [
        {
            "check": "kubelet-config",
            "selector": {"kind": "Node", "namespace": "", "name": "vm"},
            "class": "*",
            "justification": "accepted for the test",
            "approver": "qsa@example.com",
            "expires": "2099-01-01",
        }
    ]
    (pack / "replay.json").write_text(json.dumps(document))
    replay.rehash(pack)
    _write_check(pytester, BODIES["failed"])
    out = pytester.path / "out"
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--from-evidence={pack}",
        f"--junitxml={out / 'j.xml'}",
        "test_case.py",
    )
    outcome, properties = _junit_outcome(out / "j.xml")
    assert (outcome, properties["verdict"], result.ret) == ("skipped", "waived", 0)
    result.stdout.fnmatch_lines(["test_case.py W*", "*1 waived*"])


def test_a_non_audit_project_is_left_alone(pytester: pytest.Pytester) -> None:
    """Installed in an environment, the plugin stays passive in another project's run."""
    pytester.makepyfile(
        test_other="""
def test_prints_a_token(capsys):
    print("Authorization: Bearer abcdefghijklmnop")
    assert False, "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
"""
    )
    tmp = pytester.path / "tmp"
    tmp.mkdir()
    pytester._monkeypatch.setenv("TMPDIR", str(tmp))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "test_other.py", f"--html={pytester.path / 'other.html'}"
    )
    assert result.ret == 1
    html = (pytester.path / "other.html").read_text()
    assert 'data-column-type="check"' not in html and "PCI item" not in html
    assert not list(tmp.glob("kubepci-*"))
    # Their output is theirs: not redacted, no kubepci summary, no store left behind.
    result.stdout.fnmatch_lines(["*eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0*"])
    assert "kubepci:" not in result.stdout.str()
    assert "PCI Section 1" not in result.stdout.str()
