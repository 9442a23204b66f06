"""``--from-evidence``: the shipped suite re-judges a recorded evidence pack, offline.

The packs were written by the suite on the local real clusters (tests/data/packs). Their
replay must give back every result field for field, make no network connection, and be
refused when the pack is not the evidence that was judged.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import pytest

from tests.support import replay

pytest_plugins = ["pytester"]

CONNECTS: list[Any] = []
_WATCHING: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHING and event in ("socket.connect", "socket.getaddrinfo"):
        CONNECTS.append((event, args[1:2]))


sys.addaudithook(_audit)


@pytest.fixture
def no_network() -> Any:
    """Record every socket connect and name lookup the code under test makes."""
    CONNECTS.clear()
    _WATCHING.append(True)
    yield CONNECTS
    _WATCHING.clear()


def recorded(profile: str) -> dict[str, dict[str, Any]]:
    document = json.loads((replay.PACKS / profile / "results.json").read_text())
    return {r["check_id"]: r for r in document["results"]}


@pytest.mark.parametrize("profile", replay.PROFILES)
def test_replay_reproduces_every_result(
    pytester: pytest.Pytester, profile: str, no_network: list[Any]
) -> None:
    pack = replay.stage(profile, pytester.path)
    run = replay.run(pytester, pack)
    assert run.results == recorded(profile)
    assert len(run.results) == len(replay.check_functions()) == 32
    assert no_network == []
    assert run.ret == (0 if profile == "compliant" else 1)


def test_replay_marks_the_scope_as_a_replay(pytester: pytest.Pytester) -> None:
    pack = replay.stage("compliant", pytester.path)
    replay.run(pytester, pack, "kubelet-config")
    scope = json.loads((pytester.path / "replayed" / "results.json").read_text())["scope"]
    original = json.loads((pack / "replay.json").read_text())
    assert scope["replay_of"] == {
        "evidence_pack": str(pack),
        "started_utc": original["started_utc"],
    }


def test_a_missing_record_errors_the_check_that_needs_it(pytester: pytest.Pytester) -> None:
    pack = replay.stage("compliant", pytester.path)
    replay.remove(pack, "kubelet-configz")
    run = replay.run(pytester, pack, "kubelet-config", "api-server-anonymous-probe")
    assert run.verdict("kubelet-config") == "error"
    assert "holds no 'kubelet-configz' record" in run.reason("kubelet-config")
    assert run.junit["kubelet-config"]["outcome"] == "failed"
    assert run.verdict("api-server-anonymous-probe") == "passed"
    assert run.ret == 2


def test_an_altered_pack_is_refused_naming_the_file(pytester: pytest.Pytester) -> None:
    pack = replay.stage("compliant", pytester.path)
    probes = replay.store(pack) / "probe-kubelet.json"
    probes.write_text(probes.read_text().replace("401", "200"))
    result = pytester.runpytest("--pyargs", "tests_pci", f"--from-evidence={pack}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*does not match its manifest*probe-kubelet.json*"])


def test_a_pack_of_another_suite_version_is_refused(pytester: pytest.Pytester) -> None:
    pack = replay.stage("compliant", pytester.path)
    document = json.loads((pack / "replay.json").read_text())
    document["suite_version"] = "0.0.1"
    (pack / "replay.json").write_text(json.dumps(document))
    replay.rehash(pack)
    result = pytester.runpytest("--pyargs", "tests_pci", f"--from-evidence={pack}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*written by kubepci 0.0.1*Replay it with kubepci 0.0.1*"])


@pytest.mark.parametrize(
    ("option", "value"),
    [("--kubeconfig", "/dev/null"), ("--context", "x"), ("--node-root", "/")],
)
def test_live_options_are_refused_with_a_replay(
    pytester: pytest.Pytester, option: str, value: str
) -> None:
    pack = replay.stage("compliant", pytester.path)
    result = pytester.runpytest("--pyargs", "tests_pci", f"--from-evidence={pack}", option, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option} cannot be given with it*"])


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "*no such directory*"),
        (lambda p: p.mkdir(), "*no manifest.json; not an evidence pack*"),
    ],
)
def test_a_directory_that_is_no_pack_is_refused(
    pytester: pytest.Pytester, setup: Any, message: str
) -> None:
    target = pytester.path / "not-a-pack"
    setup(target)
    result = pytester.runpytest("--pyargs", "tests_pci", f"--from-evidence={target}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_pack_without_replay_record_is_refused(pytester: pytest.Pytester) -> None:
    pack = replay.stage("compliant", pytester.path)
    (pack / "replay.json").unlink()
    replay.rehash(pack)
    result = pytester.runpytest("--pyargs", "tests_pci", f"--from-evidence={pack}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*replay.json: missing*without replay support*"])


def test_recorded_waivers_are_judged_on_the_day_of_the_run(pytester: pytest.Pytester) -> None:
    """A waiver valid when the audit ran stays in force in its replay, a year later."""
    pack = replay.stage("noncompliant", pytester.path)
    finding = recorded("noncompliant")["kubelet-config"]["findings"][0]
    document = json.loads((pack / "replay.json").read_text())
    document["waivers_checked_on"] = "2020-01-01"
    document["waivers"] = [
        {
            "check": "kubelet-config",
            "selector": {"kind": finding["kind"], "namespace": "*", "name": "*"},
            "class": "*",
            "justification": "accepted for the test",
            "approver": "qsa@example.com",
            "expires": "2020-06-30",
        }
    ]
    (pack / "replay.json").write_text(json.dumps(document))
    replay.rehash(pack)
    run = replay.run(pytester, pack, "kubelet-config")
    assert run.verdict("kubelet-config") == "waived"
    assert run.junit["kubelet-config"]["outcome"] == "skipped"


def test_replay_touches_no_socket_even_for_probe_checks(
    pytester: pytest.Pytester, no_network: list[Any]
) -> None:
    pack = replay.stage("noncompliant", pytester.path)
    run = replay.run(pytester, pack, "kubelet-anonymous-probe", "service-anonymous-probe")
    assert run.verdict("kubelet-anonymous-probe") == "failed"
    assert no_network == []
    # The hook does see connections: the assertion above could fail.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", 1), timeout=1):
        pass
    assert no_network


def test_recorded_attestations_are_replayed_on_the_day_of_the_run(
    pytester: pytest.Pytester,
) -> None:
    """An attestation in force when the audit ran keeps the check attested in its replay,
    though it has expired since; its document check is the one recorded then."""
    pack = replay.stage("compliant", pytester.path)
    document = json.loads((pack / "replay.json").read_text())
    document["waivers_checked_on"] = "2020-03-01"
    document["attestations"] = [
        {
            "entry": {
                "check": "break-glass-custody",
                "cluster": "*",
                "statement": "the break-glass kubeconfig is in the safe",
                "attested_by": "jane.doe@example.com",
                "role": "ISO",
                "date": "2020-01-15",
                "expires": "2020-06-30",
                "document": {"ref": "custody.md", "sha256": "ab" * 32},
            },
            "document_check": "SHA-256 verified against custody.md",
        }
    ]
    (pack / "replay.json").write_text(json.dumps(document))
    replay.rehash(pack)
    run = replay.run(pytester, pack, "break-glass-custody", "mfa-at-identity-provider")
    assert run.verdict("break-glass-custody") == "attested"
    assert "attested by jane.doe@example.com (ISO)" in run.reason("break-glass-custody")
    assert run.results["break-glass-custody"]["attestation"]["document"]["verified"] is True
    assert run.verdict("mfa-at-identity-provider") == "manual"


def test_attestations_cannot_be_given_with_a_replay(pytester: pytest.Pytester) -> None:
    pack = replay.stage("compliant", pytester.path)
    (pytester.path / "a.yaml").write_text("[]\n")
    result = pytester.runpytest(
        "--pyargs", "tests_pci", f"--from-evidence={pack}", "--attestations", "a.yaml"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--attestations cannot be given with it*"])


def test_recorded_answers_to_other_urls_are_not_judged(pytester: pytest.Pytester) -> None:
    """An edited pack whose kubelet configuration now names port 10266 must not be judged
    on the recorded answers of port 10255: fail closed, naming the mismatch."""
    pack = replay.stage("compliant", pytester.path)

    def port_10266(document: dict[str, Any]) -> None:
        for entry in document["ok"].values():  # stored as {"ok": ...} or {"error": ...}
            entry["config"]["readOnlyPort"] = 10266

    replay.edit(pack, "kubelet-configz", port_10266)
    run = replay.run(pytester, pack, "kubelet-read-only-port")
    assert run.verdict("kubelet-read-only-port") == "error"
    assert "answers are for other URLs than this run asks" in run.reason("kubelet-read-only-port")
    assert ":10266/pods" in run.reason("kubelet-read-only-port")
