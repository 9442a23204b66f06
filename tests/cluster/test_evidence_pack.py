"""Audit evidence on the real local cluster: HTML report, JUnit XML and the evidence pack
agree with each other, the manifest's hashes hold, and ``-n 0`` and ``-n 2`` give the same
results.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.report import pack
from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite

Obj = dict[str, Any]


def run_with_outputs(cluster: LocalCluster, outdir: Path, workers: str) -> SuiteRun:
    return run_suite(
        cluster.kubeconfig,
        outdir,
        "-n",
        workers,
        f"--html={outdir / 'report.html'}",
        "--self-contained-html",
        f"--evidence-dir={outdir / 'evidence'}",
    )


@pytest.fixture(scope="module")
def parallel(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return run_with_outputs(local_cluster, tmp_path_factory.mktemp("n2"), "2")


@pytest.fixture(scope="module")
def serial(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return run_with_outputs(local_cluster, tmp_path_factory.mktemp("n0"), "0")


def results_json(run: SuiteRun) -> Obj:
    path = run.outdir / "evidence" / "results.json"
    assert path.is_file(), f"no results.json\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
    return json.loads(path.read_text())


def html_tests(run: SuiteRun) -> dict[str, list[Obj]]:
    """pytest-html's per-test data (rows and extras), from the report's JSON blob."""
    text = (run.outdir / "report.html").read_text()
    blob = re.search(r'data-jsonblob="([^"]*)"', text)
    assert blob, "no pytest-html data blob in the report"
    return json.loads(html.unescape(blob.group(1)))["tests"]


def summary_section(report: str, item: str) -> str:
    """The control-summary rows of one PCI item (up to the next item's header row)."""
    start = report.index(f"id='kp-item-{item}'")
    end = report.find("id='kp-item-", start + 1)
    return report[start : end if end > 0 else report.index("id='kp-scope'")]


def test_run_completed(parallel: SuiteRun) -> None:
    # 0 clean, 1 findings, 2 evidence incomplete: every one of them must leave evidence.
    # Which verdicts each profile must give is the detection matrix's business.
    assert parallel.returncode in (0, 1, 2), parallel.stdout[-3000:] + parallel.stderr[-2000:]
    for output in ("report.html", "junit.xml", "evidence/results.json", "evidence/manifest.json"):
        assert (parallel.outdir / output).stat().st_size > 0, output


def test_results_json_scope(parallel: SuiteRun, local_cluster: LocalCluster) -> None:
    data = results_json(parallel)
    scope = data["scope"]
    assert scope["tool_version"] and scope["started_utc"] <= scope["finished_utc"]
    assert "--evidence-dir" in " ".join(scope["command_line"])
    [cluster] = scope["clusters"]
    assert cluster["api_server"].startswith("https://")
    assert re.fullmatch(r"[0-9a-f-]{36}", cluster["kube_system_uid"])
    assert cluster["server_version"].startswith("v1.")
    assert cluster["identity"]["username"]
    assert cluster["distribution"]["name"] in ("kubeadm", "kind")
    assert [n["name"] for n in cluster["nodes"]] == [local_cluster.values.get("NODE_NAME", "vm")]


def test_every_check_has_a_result_with_its_pci_mapping(parallel: SuiteRun) -> None:
    cat = catalogue.load()
    data = results_json(parallel)
    assert [r["check_id"] for r in data["results"]] == list(cat.checks)
    for result in data["results"]:
        assert result["pci_items"] == [i.id for i in cat.items_of(result["check_id"])]
        assert result["dss"] == cat.dss_of(result["check_id"])
        assert result["verdict"] in ("passed", "failed", "error", "manual", "not_applicable")
        for finding in result["findings"]:
            assert set(finding) == {"kind", "namespace", "name", "detail", "class"}


def test_manifest_hashes_match_the_files(parallel: SuiteRun) -> None:
    evidence = parallel.outdir / "evidence"
    assert pack.verify(evidence) == []
    manifest = json.loads((evidence / "manifest.json").read_text())
    listed = {e["path"] for e in manifest["files"]}
    on_disk = {p.relative_to(evidence).as_posix() for p in evidence.rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json", "SHA256SUMS"}
    # The raw exports the checks judged from: RBAC, pods, Secret metadata, CSRs, probes.
    raw = {Path(p).name for p in listed if p.startswith("raw/")}
    for name in (
        "list-clusterrolebindings.json",
        "list-pods.json",
        "list-secrets.json",
        "list-certificatesigningrequests.json",
        "identity.json",
        "version.json",
        "probe-api-server.json",
    ):
        assert name in raw, sorted(raw)
    if shutil.which("sha256sum"):
        done = subprocess.run(
            ["sha256sum", "--quiet", "-c", "SHA256SUMS"],
            cwd=evidence,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_secret_exports_are_metadata_only(parallel: SuiteRun) -> None:
    [secrets] = (parallel.outdir / "evidence" / "raw").glob("*/list-secrets.json")
    listing = json.loads(secrets.read_text())
    assert listing["items"], "the cluster has Secrets; their metadata should be listed"
    for secret in listing["items"]:
        assert set(secret) == {"metadata"}, secret


def test_junit_properties_and_failure_messages_under_xdist(parallel: SuiteRun) -> None:
    data = results_json(parallel)
    by_check = {r["check_id"]: r for r in data["results"]}
    cases = list(ET.parse(parallel.outdir / "junit.xml").iter("testcase"))
    assert len(cases) == len(by_check)
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        result = by_check[str(props["check_id"])]
        assert props["pci_item"] == ",".join(result["pci_items"])
        assert props["recommendation"].startswith(result["recommendations"][0]["id"] + " ")
        failure = case.find("failure")
        if result["verdict"] == "failed":
            assert failure is not None, props["check_id"]
            message = failure.get("message", "") + "\n" + (failure.text or "")
            for finding in result["findings"][:50]:
                ref = (
                    f"{finding['kind']} {finding['namespace']}/{finding['name']}"
                    if finding["namespace"]
                    else f"{finding['kind']} {finding['name']}"
                )
                assert ref in message, (ref, message)


def test_html_shows_each_finding_under_its_pci_item(parallel: SuiteRun) -> None:
    data = results_json(parallel)
    report = (parallel.outdir / "report.html").read_text()
    tests = html_tests(parallel)
    extras = {
        check_id: " ".join(e["content"] for run in runs for e in run["extras"])
        for runs in tests.values()
        for check_id in re.findall(
            r'class="col-check">([a-z0-9-]+)<', runs[-1]["resultsTableRow"][3]
        )
    }
    assert set(extras) == {r["check_id"] for r in data["results"]}
    for result in data["results"]:
        for item in result["pci_items"]:
            section = summary_section(report, item)
            assert f"<code>{result['check_id']}</code>" in section
            assert f"kp-v-{result['verdict']}" in section
        extra = extras[result["check_id"]]
        assert f"kp-v-{result['verdict']}" in extra
        assert html.escape(result["remediation"]) in extra
        for finding in result["findings"][:300]:
            assert html.escape(finding["name"]) in extra, (result["check_id"], finding)
        for evidence in result["evidence"]:
            assert html.escape(evidence["title"]) in extra, (result["check_id"], evidence)


def test_noncompliant_findings_reach_every_item(
    parallel: SuiteRun, local_cluster: LocalCluster
) -> None:
    """One misconfiguration per recommendation is planted: the control summary shows
    every PCI item failed, each with its failing checks listed under it."""
    if local_cluster.profile != "noncompliant":
        return
    summary = {i["item"]: i["verdict"] for i in results_json(parallel)["control_summary"]}
    assert summary == {f"1.{n}": "failed" for n in range(1, 7)}


def test_limitations_cover_every_unjudged_check(parallel: SuiteRun) -> None:
    data = results_json(parallel)
    listed = {(e.get("check_id"), e["reason"]) for e in data["limitations"]}
    for result in data["results"]:
        if result["verdict"] in ("error", "manual", "not_applicable"):
            assert (result["check_id"], result["reason"]) in listed
    report = (parallel.outdir / "report.html").read_text()
    assert "id='kp-limitations'" in report


def test_terminal_summary_is_the_last_thing_kubepci_prints(parallel: SuiteRun) -> None:
    lines = parallel.stdout.splitlines()
    items = [i for i, line in enumerate(lines) if line.startswith("PCI 1.")]
    assert [lines[i].split(":")[0] for i in items] == [f"PCI 1.{n}" for n in range(1, 7)]
    assert items == list(range(items[0], items[0] + 6))
    ours = [i for i, line in enumerate(lines) if line.startswith("kubepci:")]
    assert any("evidence pack written" in lines[i] for i in ours)
    assert max(ours) < items[0]


def _comparable(data: Obj) -> list[tuple[Any, ...]]:
    return [
        (
            r["check_id"],
            r["cluster"],
            r["verdict"],
            tuple((f["kind"], f["namespace"], f["name"]) for f in r["findings"]),
            tuple(e["title"] for e in r["evidence"]),
        )
        for r in data["results"]
    ]


def _differences(serial: SuiteRun, parallel: SuiteRun) -> list[str]:
    one, two = results_json(serial), results_json(parallel)
    out = [
        f"-n 0: {a}\n-n 2: {b}"
        for a, b in zip(_comparable(one), _comparable(two), strict=True)
        if a != b
    ]
    if one["control_summary"] != two["control_summary"]:
        out.append("control summaries differ")
    if serial.returncode != parallel.returncode:
        out.append(f"exit codes differ: {serial.returncode} vs {parallel.returncode}")
    return out


def test_serial_and_parallel_runs_agree(
    parallel: SuiteRun,
    serial: SuiteRun,
    local_cluster: LocalCluster,
    tmp_path: Path,
) -> None:
    differ = _differences(serial, parallel)
    if differ:
        # Two runs are seconds apart on a live cluster that other tests may be changing;
        # a difference that xdist causes survives a second pair of runs, drift does not.
        again = _differences(
            run_with_outputs(local_cluster, tmp_path / "n0", "0"),
            run_with_outputs(local_cluster, tmp_path / "n2", "2"),
        )
        assert not again, "\n".join(["first pair:", *differ, "second pair:", *again])
