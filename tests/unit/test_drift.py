"""Drift against a baseline pack: finding identity, new / resolved / unchanged / not
re-examined, expiries in between, the baseline's validation and the exit status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubepci.report import assessor, drift, pack

Obj = dict[str, Any]
UID = "5d0c6a43-1b7e-4c1e-9d55-0c2f1f7b9a10"
OTHER_UID = "9f1e0c2a-7d3b-4f6e-8a21-3c4d5e6f7a8b"


def finding(name: str, cls: str = "admin-equivalent", detail: str = "why", **kw: str) -> Obj:
    return {
        "kind": kw.get("kind", "ServiceAccount"),
        "namespace": kw.get("namespace", "payments"),
        "name": name,
        "detail": detail,
        "class": cls,
    }


def result(
    check_id: str,
    verdict: str,
    findings: list[Obj] = (),  # type: ignore[assignment]
    cluster: str = "prod",
    waived: list[Obj] = (),  # type: ignore[assignment]
) -> Obj:
    return {
        "check_id": check_id,
        "cluster": cluster,
        "verdict": verdict,
        "reason": "",
        "findings": list(findings),
        "waived": [{"finding": f, "waiver": {}} for f in waived],
    }


def document(
    *results: Obj,
    started: str = "2026-06-01T02:00:00Z",
    clusters: list[Obj] | None = None,
    **sections: Any,
) -> Obj:
    return {
        "format": drift.RESULTS_FORMAT,
        "scope": {
            "started_utc": started,
            "finished_utc": started,
            "tool_version": "0.1.0",
            "clusters": clusters
            if clusters is not None
            else [{"cluster": "prod", "kube_system_uid": UID, "api_server": "https://10.0.0.1"}],
        },
        "results": list(results),
        **sections,
    }


def refs(records: list[Obj]) -> list[tuple[str, str, str]]:
    return [(r["check_id"], r["name"], r["class"]) for r in records]


# ------------------------------------------------------------------ identity and comparison
def test_one_fixed_one_planted_one_kept() -> None:
    before = document(result("service-account-privileges", "failed", [finding("a"), finding("b")]))
    after = document(
        result(
            "service-account-privileges", "failed", [finding("b", detail="reworded"), finding("c")]
        )
    )
    section = drift.compare(before, after)
    assert refs(section["new"]) == [("service-account-privileges", "c", "admin-equivalent")]
    assert refs(section["resolved"]) == [("service-account-privileges", "a", "admin-equivalent")]
    # The detail text is not identity: a reworded finding is the same finding.
    assert refs(section["unchanged"]) == [("service-account-privileges", "b", "admin-equivalent")]
    assert section["counts"] == {
        "new": 1,
        "new_open": 1,
        "resolved": 1,
        "unchanged": 1,
        "not_reexamined": 0,
        "expired": 0,
    }
    assert section["new"][0]["fingerprint"] == f"kube-system:{UID}"
    assert section["new"][0]["baseline_judged"] is True


def test_a_new_class_on_the_same_object_is_a_new_finding() -> None:
    before = document(
        result("service-account-privileges", "failed", [finding("a", "read-secrets")])
    )
    after = document(
        result(
            "service-account-privileges",
            "failed",
            [finding("a", "read-secrets"), finding("a", "admin-equivalent")],
        )
    )
    section = drift.compare(before, after)
    assert refs(section["new"]) == [("service-account-privileges", "a", "admin-equivalent")]
    assert section["counts"]["unchanged"] == 1


def test_the_cluster_is_known_by_its_kube_system_uid_not_its_context_name() -> None:
    renamed = [{"cluster": "prod-eu", "kube_system_uid": UID, "api_server": "https://lb"}]
    before = document(result("service-account-privileges", "failed", [finding("a")]))
    after = document(
        result("service-account-privileges", "failed", [finding("a")], cluster="prod-eu"),
        clusters=renamed,
    )
    assert drift.compare(before, after)["counts"]["unchanged"] == 1
    rebuilt = [{"cluster": "prod", "kube_system_uid": OTHER_UID, "api_server": "https://10.0.0.1"}]
    other = document(
        result("service-account-privileges", "failed", [finding("a")]), clusters=rebuilt
    )
    section = drift.compare(before, other)
    # Another cluster behind the same name: nothing is "unchanged", nothing "resolved".
    assert (section["counts"]["new"], section["counts"]["not_reexamined"]) == (1, 1)
    assert section["counts"]["resolved"] == 0 and section["new"][0]["baseline_judged"] is False


def test_without_a_uid_the_server_url_is_the_fingerprint() -> None:
    assert drift.fingerprints(
        {"clusters": [{"cluster": "c", "kube_system_uid": "", "api_server": "https://k:6443"}]}
    ) == {"c": "server:https://k:6443"}


@pytest.mark.parametrize("now", ["error", "manual", "not_applicable"])
def test_a_finding_is_never_resolved_by_a_check_that_was_not_judged(now: str) -> None:
    before = document(result("service-account-privileges", "failed", [finding("a")]))
    after = document(result("service-account-privileges", now))
    section = drift.compare(before, after)
    assert section["resolved"] == []
    assert refs(section["not_reexamined"]) == [
        ("service-account-privileges", "a", "admin-equivalent")
    ]


def test_a_check_not_run_at_all_resolves_nothing() -> None:
    before = document(result("service-account-privileges", "failed", [finding("a")]))
    section = drift.compare(before, document())
    assert section["counts"]["resolved"] == 0 and section["counts"]["not_reexamined"] == 1


def test_passing_now_resolves_and_a_waived_new_finding_is_not_open() -> None:
    before = document(
        result("service-account-privileges", "failed", [finding("a")]),
        result("pod-token-automount", "passed"),
    )
    pod = finding("web", "automount", kind="Pod", namespace="shop")
    after = document(
        result("service-account-privileges", "passed"),
        result("pod-token-automount", "waived", [pod], waived=[pod]),
    )
    section = drift.compare(before, after)
    assert refs(section["resolved"]) == [("service-account-privileges", "a", "admin-equivalent")]
    assert [(r["name"], r["waived"]) for r in section["new"]] == [("web", True)]
    assert section["counts"]["new_open"] == 0


def test_identity_ids_are_stable_and_distinct() -> None:
    one = drift.compare(document(), document(result("x", "failed", [finding("a")])))
    two = drift.compare(document(), document(result("x", "failed", [finding("a", detail="z")])))
    other = drift.compare(document(), document(result("x", "failed", [finding("b")])))
    assert one["new"][0]["id"] == two["new"][0]["id"] != other["new"][0]["id"]
    assert len(one["new"][0]["id"]) == 16


# ------------------------------------------------------------------ expiries in between
def waiver(expires: str, check: str = "service-account-privileges") -> Obj:
    return {
        "check": check,
        "selector": {"kind": "ServiceAccount", "namespace": "kubepci", "name": "auditor"},
        "class": "read-secrets",
        "approver": "jane",
        "expires": expires,
        "status": "applied",
    }


def attestation(expires: str) -> Obj:
    return {
        "check": "break-glass-custody",
        "cluster": "*",
        "attested_by": "jane",
        "role": "ISO",
        "expires": expires,
        "status": "applied",
    }


def test_waivers_and_attestations_that_expired_in_between() -> None:
    before = document(
        started="2026-06-01T02:00:00Z",
        waiver_register=[waiver("2026-05-31"), waiver("2026-06-01"), waiver("2026-06-20")],
        attestations=[attestation("2026-06-10")],
    )
    after = document(
        started="2026-06-15T02:00:00Z",
        waiver_register=[],
        # This run's own attestation list: one that expired yesterday, already in force
        # when the baseline ran, is the same entry and is listed once.
        attestations=[attestation("2026-06-10"), attestation("2026-06-14")],
    )
    expired = drift.compare(before, after)["expired"]
    assert [(e["type"], e["expires"]) for e in expired] == [
        ("waiver", "2026-06-01"),  # valid on the baseline's day, gone by this run
        ("attestation", "2026-06-10"),
        ("attestation", "2026-06-14"),
    ]
    # Already expired at the baseline, or still valid today: not "in between".
    assert all(e["expires"] not in ("2026-05-31", "2026-06-20") for e in expired)


# ------------------------------------------------------------------ the baseline pack
def write_pack(directory: Path, view: Obj) -> Path:
    pack.write(directory, view, {})
    return directory


def test_a_pack_written_by_the_suite_is_a_baseline(tmp_path: Path) -> None:
    view = document(result("service-account-privileges", "failed", [finding("a")]))
    baseline = drift.load(str(write_pack(tmp_path / "pack", view)))
    assert baseline.results["results"][0]["findings"][0]["name"] == "a"
    assert len(baseline.results_sha256) == 64


def test_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(drift.BaselineError, match="not a directory"):
        drift.load(str(tmp_path / "results.json"))


def test_not_a_pack(tmp_path: Path) -> None:
    with pytest.raises(drift.BaselineError, match="not a kubepci evidence pack"):
        drift.load(str(tmp_path))


def test_a_manifest_of_another_tool(tmp_path: Path) -> None:
    directory = write_pack(tmp_path / "pack", document())
    (directory / "manifest.json").write_text(json.dumps({"format": "cosign-bundle/1"}))
    with pytest.raises(drift.BaselineError, match="not a kubepci manifest"):
        drift.load(str(directory))


def test_another_results_format(tmp_path: Path) -> None:
    directory = write_pack(tmp_path / "pack", {**document(), "format": "kubepci-results/0"})
    with pytest.raises(drift.BaselineError, match="format 'kubepci-results/0'"):
        drift.load(str(directory))


def test_results_changed_after_the_pack_was_written(tmp_path: Path) -> None:
    directory = write_pack(tmp_path / "pack", document(result("x", "failed", [finding("a")])))
    path = directory / "results.json"
    path.write_text(path.read_text().replace('"a"', '"b"'))
    with pytest.raises(drift.BaselineError, match="changed after the pack was written"):
        drift.load(str(directory))


def test_the_options_become_usage_errors(tmp_path: Path) -> None:
    def config(**option: Any) -> Any:
        values = {"attestations": None, "baseline": None, "fail_on_new_only": False, **option}
        return type("C", (), {"option": type("O", (), values)(), "stash": pytest.Stash()})()

    with pytest.raises(pytest.UsageError, match="needs --baseline"):
        assessor.start(config(fail_on_new_only=True))
    with pytest.raises(pytest.UsageError, match="not a kubepci evidence pack"):
        assessor.start(config(baseline=str(tmp_path)))
    good = config(baseline=str(write_pack(tmp_path / "pack", document())), fail_on_new_only=True)
    assessor.start(good)
    assert good.stash[assessor.BASELINE].path == str(tmp_path / "pack")


# ------------------------------------------------------------------ --fail-on-new-only
@pytest.mark.parametrize(
    ("status", "new_open", "other", "expected"),
    [
        (1, 0, 0, 0),  # only findings the baseline had: clean
        (1, 1, 0, 1),  # a new finding not waived
        (1, 0, 1, 1),  # a failure that is not a finding (a crashed fixture) stays
        (2, 0, 0, 2),  # evidence not collected stays an error
        (0, 0, 0, 0),
        (4, 0, 0, 4),
    ],
)
def test_exit_status(status: int, new_open: int, other: int, expected: int) -> None:
    section = {"counts": {"new_open": new_open}}
    assert assessor.exit_status(status, section, other) == expected


def test_without_a_drift_section_the_status_stands() -> None:
    assert assessor.exit_status(1, None, 0) == 1
