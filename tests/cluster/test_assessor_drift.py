"""Evidence across runs on the real local cluster: an attested manual check (and its
attestation expiring), the waiver register, and drift against the first run's pack.

Planted by this test, not by the suite (kubectl with the admin kubeconfig; removed in a
``finally``), on whichever profile is up: a Role in namespace ``default`` that grants
nothing risky (get one named ConfigMap), and RoleBindings of it to the namespace's
``default`` ServiceAccount. Each binding is one ``default-service-account-bindings``
finding on both profiles. The first run sees binding A; the second sees B instead of A,
so against the first run's pack it must report exactly one resolved finding (A) and one
new (B). A third run against the second's pack finds nothing new: with
``--fail-on-new-only`` it exits 0 (2 if some evidence could not be collected).

Run it inside the cluster lock (``flock /tmp/kubepci-cluster.lock``): it changes RBAC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.kubectl import Kubectl
from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite

Obj = dict[str, Any]
NAMESPACE = "default"
ROLE = "kubepci-drift-fixture"
FIXED = "kubepci-drift-a"  # present in the first run only
PLANTED = "kubepci-drift-b"  # present from the second run on
CHECK = "default-service-account-bindings"
JUDGED_CHECK = "generic-cluster-admin-bindings"
TODAY = dt.datetime.now(dt.UTC).date()
DOCUMENT = b"Break-glass custody, attested for the kubepci cluster test.\n"


def role() -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": ROLE, "namespace": NAMESPACE},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": ["kubepci-drift-none"],
                "verbs": ["get"],
            }
        ],
    }


def binding(name: str) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": NAMESPACE}],
    }


def attestation(check: str, date: dt.date, expires: dt.date) -> Obj:
    return {
        "check": check,
        "statement": "the initial admin credential is held in the vault for break-glass use",
        "attested_by": "jane.doe@example.com",
        "role": "Information Security Officer",
        "date": date.isoformat(),
        "expires": expires.isoformat(),
        "document": {"ref": "custody.md", "sha256": hashlib.sha256(DOCUMENT).hexdigest()},
    }


def write_yaml(path: Path, document: Any) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Runs:
    first: SuiteRun
    second: SuiteRun
    third: SuiteRun


def _suite(cluster: LocalCluster, outdir: Path, *extra: str) -> SuiteRun:
    return run_suite(
        cluster.kubeconfig,
        outdir,
        f"--evidence-dir={outdir / 'evidence'}",
        f"--html={outdir / 'report.html'}",
        "--self-contained-html",
        *extra,
    )


@pytest.fixture(scope="module")
def runs(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    tmp = tmp_path_factory.mktemp("assessor")
    (tmp / "custody.md").write_bytes(DOCUMENT)
    yesterday = TODAY - dt.timedelta(days=1)
    in_force = write_yaml(
        tmp / "attestations.yaml",
        [
            attestation("break-glass-custody", yesterday, TODAY + dt.timedelta(days=30)),
            # Expired yesterday: the check stays manual and says so.
            attestation("mfa-at-identity-provider", TODAY - dt.timedelta(days=30), yesterday),
            # A check the suite judges from evidence: never attested, listed as unused.
            attestation(JUDGED_CHECK, yesterday, TODAY + dt.timedelta(days=30)),
        ],
    )
    expired = write_yaml(
        tmp / "attestations-expired.yaml",
        [attestation("break-glass-custody", TODAY - dt.timedelta(days=30), yesterday)],
    )
    waivers = write_yaml(
        tmp / "waivers.yaml",
        [
            {
                "check": CHECK,
                "selector": {"kind": "RoleBinding", "namespace": NAMESPACE, "name": FIXED},
                "class": "default-service-account",
                "justification": "cluster test: accepted until it is removed",
                "approver": "jane.doe@example.com",
                "expires": (TODAY + dt.timedelta(days=30)).isoformat(),
            },
            {
                "check": CHECK,
                "selector": {"kind": "RoleBinding", "namespace": NAMESPACE, "name": "gone"},
                "class": "*",
                "justification": "cluster test: matches nothing (stale)",
                "approver": "jane.doe@example.com",
                "expires": (TODAY + dt.timedelta(days=30)).isoformat(),
            },
        ],
    )
    admin = Kubectl(Path(local_cluster.admin_kubeconfig))
    try:
        admin.apply_objects([role(), binding(FIXED)])
        first = _suite(
            local_cluster, tmp / "first", f"--attestations={in_force}", f"--waivers={waivers}"
        )
        admin.run("delete", "rolebinding", "-n", NAMESPACE, FIXED)
        admin.apply_objects([binding(PLANTED)])
        second = _suite(
            local_cluster,
            tmp / "second",
            f"--attestations={expired}",
            f"--baseline={tmp / 'first' / 'evidence'}",
            "--fail-on-new-only",
        )
        third = _suite(
            local_cluster,
            tmp / "third",
            f"--baseline={tmp / 'second' / 'evidence'}",
            "--fail-on-new-only",
        )
    finally:
        for name in (FIXED, PLANTED):
            admin.run("delete", "rolebinding", "-n", NAMESPACE, name, "--ignore-not-found")
        admin.run("delete", "role", "-n", NAMESPACE, ROLE, "--ignore-not-found")
    return Runs(first, second, third)


def results(run: SuiteRun) -> Obj:
    path = run.outdir / "evidence" / "results.json"
    assert path.is_file(), run.stdout[-3000:] + run.stderr[-2000:]
    return json.loads(path.read_text(encoding="utf-8"))


def by_check(run: SuiteRun) -> dict[str, Obj]:
    return {r["check_id"]: r for r in results(run)["results"]}


def junit(run: SuiteRun) -> dict[str, dict[str, str]]:
    """check id → its JUnit properties."""
    out = {}
    for case in ET.parse(run.outdir / "junit.xml").iter("testcase"):
        props = {str(p.get("name")): str(p.get("value")) for p in case.iter("property")}
        out[props["check_id"]] = props
    return out


def check_extra(run: SuiteRun, check_id: str) -> str:
    """The HTML report's expanded row of one check (pytest-html's data blob)."""
    text = (run.outdir / "report.html").read_text(encoding="utf-8")
    blob = re.search(r'data-jsonblob="([^"]*)"', text)
    assert blob, "no pytest-html data blob in the report"
    for runs in json.loads(html.unescape(blob.group(1)))["tests"].values():
        row = runs[-1]
        if f'class="col-check">{check_id}<' in " ".join(row["resultsTableRow"]):
            return " ".join(e["content"] for e in row["extras"])
    raise AssertionError(f"no row for {check_id} in the HTML report")


def errored(run: SuiteRun) -> bool:
    return any(r["verdict"] == "error" for r in results(run)["results"])


# ------------------------------------------------------------------ attestations
def test_an_attested_manual_check_is_attested_in_every_output(runs: Runs) -> None:
    result = by_check(runs.first)["break-glass-custody"]
    assert result["verdict"] == "attested", result["reason"]
    record = result["attestation"]
    assert (record["attested_by"], record["role"], record["status"]) == (
        "jane.doe@example.com",
        "Information Security Officer",
        "in force",
    )
    assert record["expires"] == (TODAY + dt.timedelta(days=30)).isoformat()
    assert record["document"]["sha256"] == hashlib.sha256(DOCUMENT).hexdigest()
    assert record["document"]["verified"] is True
    props = junit(runs.first)["break-glass-custody"]
    assert props["verdict"] == "attested"
    assert props["attested_by"] == "jane.doe@example.com"
    assert props["attestation_document_sha256"] == record["document"]["sha256"]
    extra = check_extra(runs.first, "break-glass-custody")
    assert "kp-v-attested" in extra and "Information Security Officer" in extra
    report = (runs.first.outdir / "report.html").read_text(encoding="utf-8")
    assert "id='kp-attestations'" in report
    # Attested is not a failure: the terminal says ATTESTED, not FAILED.
    assert "ATTESTED" in runs.first.stdout or "attested" in runs.first.stdout.lower()


def test_an_expired_attestation_leaves_the_check_manual_and_says_so(runs: Runs) -> None:
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    mfa = by_check(runs.first)["mfa-at-identity-provider"]
    assert mfa["verdict"] == "manual"
    assert f"expired on {yesterday}: renew it" in mfa["reason"]
    assert mfa["attestation"]["status"] == "expired"
    # The same check, attested in the first run, flips back once its attestation expired.
    custody = by_check(runs.second)["break-glass-custody"]
    assert custody["verdict"] == "manual"
    assert f"expired on {yesterday}" in custody["reason"]
    assert junit(runs.second)["break-glass-custody"]["verdict"] == "manual"
    assert junit(runs.second)["break-glass-custody"]["attestation_status"] == "expired"
    assert "kp-v-manual" in check_extra(runs.second, "break-glass-custody")


def test_an_attestation_never_replaces_a_judged_verdict(runs: Runs) -> None:
    judged = by_check(runs.first)[JUDGED_CHECK]
    assert judged["verdict"] in ("passed", "failed"), judged["reason"]
    assert judged["attestation"] is None
    [entry] = [a for a in results(runs.first)["attestations"] if a["check"] == JUDGED_CHECK]
    assert entry["status"] == "unused" and entry["applied_to"] == []
    assert list(entry["ended"].values()) == [judged["verdict"]]
    assert "kubepci: attestations: 3: 1 applied, 1 unused, 1 expired" in runs.first.stdout


# ------------------------------------------------------------------ waiver register
def test_the_waiver_register_names_what_each_waiver_matched(runs: Runs) -> None:
    register = results(runs.first)["waiver_register"]
    assert [(w["selector"]["name"], w["status"]) for w in register] == [
        (FIXED, "applied"),
        ("gone", "stale"),
    ]
    assert [m["finding"] for m in register[0]["matched"]] == [f"RoleBinding {NAMESPACE}/{FIXED}"]
    report = (runs.first.outdir / "report.html").read_text(encoding="utf-8")
    assert "id='kp-waiver-register'" in report
    assert "kubepci: waiver register: 2 waiver(s): 1 applied (1 finding(s)), 1 stale" in (
        runs.first.stdout
    )


# ------------------------------------------------------------------ drift
def test_one_fixed_and_one_planted_are_one_resolved_and_one_new(runs: Runs) -> None:
    assert results(runs.first)["drift"] is None
    drift = results(runs.second)["drift"]
    assert drift["counts"]["new"] == 1, drift["new"]
    assert drift["counts"]["resolved"] == 1, drift["resolved"]
    [new], [resolved] = drift["new"], drift["resolved"]
    assert (new["check_id"], new["kind"], new["namespace"], new["name"], new["class"]) == (
        CHECK,
        "RoleBinding",
        NAMESPACE,
        PLANTED,
        "default-service-account",
    )
    assert (resolved["check_id"], resolved["name"]) == (CHECK, FIXED)
    uid = results(runs.second)["scope"]["clusters"][0]["kube_system_uid"]
    assert new["fingerprint"] == f"kube-system:{uid}"
    assert drift["counts"]["unchanged"] == len(drift["unchanged"])
    assert (
        drift["baseline"]["results_sha256"]
        == hashlib.sha256(
            (runs.first.outdir / "evidence" / "results.json").read_bytes()
        ).hexdigest()
    )


def test_drift_is_what_the_html_shows_first_and_the_terminal_prints(runs: Runs) -> None:
    report = (runs.second.outdir / "report.html").read_text(encoding="utf-8")
    assert report.index("id='kp-drift'") < report.index("id='kp-control-summary'")
    assert f"{NAMESPACE}</td><td>{PLANTED}" in report
    assert "kubepci: drift against" in runs.second.stdout
    assert "1 new (1 not waived), 1 resolved" in runs.second.stdout
    assert f"  new: {CHECK} on " in runs.second.stdout


def test_fail_on_new_only_exit_codes(runs: Runs) -> None:
    # The second run has one new finding: 1 (2 if some evidence was not collected).
    assert runs.second.returncode == (2 if errored(runs.second) else 1), runs.second.stdout[-2000:]
    # The third has none new, whatever the profile's backlog: 0 (or 2).
    third = results(runs.third)["drift"]
    assert third["counts"]["new"] == 0, third["new"]
    assert third["counts"]["unchanged"] >= 1  # the planted binding, at least
    assert runs.third.returncode == (2 if errored(runs.third) else 0), runs.third.stdout[-2000:]
