"""The evidence pack writer, its manifest, and the run-level summary it carries."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.report import pack, summary
from kubepci.report.redact import MASK

Obj = dict[str, Any]


# ------------------------------------------------------------------ builders
def result(check_id: str, verdict: str, cluster: str = "ctx", reason: str = "why") -> Obj:
    """A payload as plugin.py's makereport builds it (see kubepci.report.results.payload)."""
    cat = catalogue.load()
    check = cat.checks[check_id]
    return {
        "check_id": check_id,
        "cluster": cluster,
        "verdict": verdict,
        "reason": reason,
        "findings": [],
        "waived": [],
        "evidence": [],
        "title": check.title,
        "severity": check.severity,
        "remediation": check.remediation,
        "evidence_source": check.evidence,
        "pci_items": [i.id for i in cat.items_of(check_id)],
        "recommendations": [
            {"id": r, "text": cat.recommendations[r].text} for r in check.recommendations
        ],
        "dss": cat.dss_of(check_id),
    }


def scope(*clusters: Obj) -> Obj:
    return {
        "tool": "kubepci",
        "tool_version": "0.0.0",
        "python": "3",
        "pytest": "9",
        "started_utc": "2026-01-01T00:00:00Z",
        "finished_utc": "2026-01-01T00:01:00Z",
        "command_line": ["pytest", "--pyargs", "tests_pci"],
        "working_directory": "/",
        "options": {},
        "clusters": list(clusters),
    }


def cluster_scope(name: str = "ctx", managed: bool = False) -> Obj:
    return {
        "cluster": name,
        "api_server": "https://192.0.2.2:6443",
        "context": name,
        "kubeconfig": "/k",
        "kubeconfig_user": "u",
        "credential": {"kind": "exec", "detail": "exec plugin x"},
        "server_version": "v1.35.4",
        "server_platform": "linux/amd64",
        "identity": {"username": "alice", "groups": ["system:authenticated"], "uid": ""},
        "distribution": {
            "name": "eks" if managed else "kubeadm",
            "managed": managed,
            "reasons": ["server version v1.35.4-eks-1"] if managed else ["kubeadm annotations"],
        },
        "managed": managed,
        "kube_system_uid": "0f0e0d0c-uid",
        "nodes": [],
        "unavailable": [],
    }


def view(results: list[Obj], clusters: list[str] | None = None) -> Obj:
    names = clusters or ["ctx"]
    cat = catalogue.load()
    run_scope = scope(*(cluster_scope(n) for n in names))
    ordered = summary.ordered(results, cat)
    return {
        "format": "kubepci-results/1",
        "scope": run_scope,
        "clusters": names,
        "control_summary": summary.control_summary(cat, ordered, names),
        "limitations": summary.limitations(cat, ordered, run_scope, names),
        "results": ordered,
    }


def store(tmp_path: Path, name: str = "ctx") -> Path:
    directory = tmp_path / "store" / name
    directory.mkdir(parents=True)
    (directory / "version.json").write_text(json.dumps({"ok": {"gitVersion": "v1.35.4"}}))
    (directory / "list-secrets.json").write_text(
        json.dumps({"items": [{"metadata": {"name": "s", "namespace": "n"}}], "error": ""})
    )
    # A probe body that quoted a credential: the pack must not carry it.
    (directory / "probe-services.json").write_text(
        json.dumps({"ok": [{"url": "http://x", "body_excerpt": "token=leaky-token-value-1"}]})
    )
    (directory / "list-secrets.lock").write_text("")  # not evidence: never exported
    return directory


# ------------------------------------------------------------------ the pack
def test_pack_layout_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    written = pack.write(
        out, view([result("static-token-file", "failed")]), {"ctx": store(tmp_path)}
    )
    names = sorted(p.relative_to(out).as_posix() for p in written)
    assert names == [
        "SHA256SUMS",
        "manifest.json",
        "raw/ctx/list-secrets.json",
        "raw/ctx/probe-services.json",
        "raw/ctx/version.json",
        "results.json",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {e["path"] for e in manifest["files"]}
    # Every file of the pack except the manifest itself (and the sums, which cover it).
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json", "SHA256SUMS"}
    for entry in manifest["files"]:
        assert entry["sha256"] == pack.sha256(out / entry["path"])
        assert entry["bytes"] == (out / entry["path"]).stat().st_size
    assert manifest["scope"]["clusters"][0]["kube_system_uid"] == "0f0e0d0c-uid"
    assert pack.verify(out) == []


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum absent")
def test_sums_file_verifies_with_coreutils(tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    pack.write(out, view([]), {"ctx": store(tmp_path)})
    done = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_tampering_is_detected(tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    pack.write(out, view([]), {"ctx": store(tmp_path)})
    (out / "raw/ctx/version.json").write_text("{}")
    (out / "results.json").unlink()
    assert sorted(pack.verify(out)) == [
        "raw/ctx/version.json: SHA-256 differs from the manifest",
        "results.json: missing",
    ]


def test_raw_exports_are_redacted(tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    pack.write(out, view([]), {"ctx": store(tmp_path)})
    text = (out / "raw/ctx/probe-services.json").read_text()
    assert "leaky-token-value-1" not in text
    assert MASK in text


def test_a_store_file_with_nothing_to_redact_is_copied_byte_for_byte(tmp_path: Path) -> None:
    source = store(tmp_path)
    document = {"items": [{"name": "caf\u00e9", "n": 1}]}
    # As the snapshot store writes it: compact, sorted keys, UTF-8.
    stored = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    (source / "list-pods.json").write_text(stored, encoding="utf-8")
    out = tmp_path / "evidence"
    pack.write(out, view([]), {"ctx": source})
    assert (out / "raw/ctx/list-pods.json").read_text(encoding="utf-8") == stored + "\n"


def test_a_store_file_with_a_credential_in_one_object_is_redacted(tmp_path: Path) -> None:
    source = store(tmp_path)
    pods = [{"metadata": {"name": f"p{i}"}} for i in range(100)]
    pods[7]["metadata"]["labels"] = {"note": "password=hunter2hunter2"}
    (source / "list-pods.json").write_text(json.dumps({"items": pods}), encoding="utf-8")
    out = tmp_path / "evidence"
    pack.write(out, view([]), {"ctx": source})
    exported = json.loads((out / "raw/ctx/list-pods.json").read_text(encoding="utf-8"))
    assert exported["items"][7]["metadata"]["labels"]["note"] == f"password={MASK}"
    assert [p["metadata"]["name"] for p in exported["items"]] == [f"p{i}" for i in range(100)]


def test_results_json_content(tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    failed = result("static-token-file", "failed", reason="1 finding(s)")
    failed["findings"] = [
        {"kind": "Pod", "namespace": "kube-system", "name": "kube-apiserver-vm", "detail": "x"}
    ]
    pack.write(out, view([result("pod-token-automount", "passed"), failed]), {})
    data = json.loads((out / "results.json").read_text())
    assert data["format"] == "kubepci-results/1"
    # Catalogue order, whatever order the results arrived in (pytest-xdist).
    order = list(catalogue.load().checks)
    ids = [r["check_id"] for r in data["results"]]
    assert ids == sorted(ids, key=order.index)
    static = next(r for r in data["results"] if r["check_id"] == "static-token-file")
    assert static["pci_items"] == ["1.4"]
    assert static["dss"] == ["8.3.2", "8.6.2", "8.6.3"]
    assert static["findings"][0]["name"] == "kube-apiserver-vm"
    lines = (out / "results.json").read_text().splitlines()
    # One line per result, so an assessor can read and diff it line by line.
    start = lines.index('  "results": [')
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("  ]"))
    block = lines[start + 1 : end]
    assert len(block) == 2 and all('"check_id":' in line for line in block)
    assert lines[0] == "{" and lines[-1] == "}"


def test_rewriting_a_pack_removes_stale_exports(tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    pack.write(out, view([]), {"ctx": store(tmp_path)})
    (out / "notes.txt").write_text("the assessor's own file")
    pack.write(out, view([]), {})
    assert not (out / "raw").exists()
    assert (out / "notes.txt").exists()  # not ours: left alone, and not in the manifest
    assert pack.verify(out) == []


# ------------------------------------------------------------------ summary and limitations
def test_rollup_is_worst_first() -> None:
    assert summary.rollup(["passed", "manual", "failed"]) == "failed"
    assert summary.rollup(["passed", "not_applicable"]) == "not_applicable"
    assert summary.rollup(["passed", "waived"]) == "waived"
    assert summary.rollup(["passed"]) == "passed"
    assert summary.rollup([]) == "not_run"


def test_control_summary_tree() -> None:
    cat = catalogue.load()
    results = [result(c, "passed", cluster=cl) for c in cat.checks for cl in ("a", "b")]
    results[0]["verdict"] = "failed"
    tree = summary.control_summary(cat, results, ["a", "b"])
    assert [i["item"] for i in tree] == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]
    first = tree[0]
    assert first["dss"] == ["8.2.1", "8.3.1", "7.3.3"]
    assert first["verdict"] == "failed"
    assert [r["id"] for r in first["recommendations"]][:2] == ["1.1.1", "1.1.2"]
    check = first["recommendations"][0]["checks"][0]
    assert set(check["verdicts"]) == {"a", "b"}
    assert tree[3]["verdict"] == "passed"


def test_missing_results_are_not_run_never_passed() -> None:
    cat = catalogue.load()
    tree = summary.control_summary(cat, [result("static-token-file", "passed")], ["ctx"])
    item_1_4 = next(i for i in tree if i["item"] == "1.4")
    assert item_1_4["verdict"] == "not_run"  # key-file-permissions did not run


def test_limitations_list_every_reason() -> None:
    cat = catalogue.load()
    results = [
        result("kubelet-config", "error", reason="evidence unavailable: nodes/proxy forbidden"),
        result("break-glass-custody", "manual", reason="custody attested by its owner"),
        result("etcd-client-cert-auth", "not_applicable", reason="managed control plane"),
        result("static-token-file", "passed"),
    ]
    run_scope = scope(cluster_scope("ctx", managed=True))
    limits = summary.limitations(cat, results, run_scope, ["ctx"])
    reasons = " | ".join(entry["reason"] for entry in limits)
    assert "nodes/proxy forbidden" in reasons
    assert "custody attested by its owner" in reasons
    assert "managed control plane" in reasons
    assert "EKS is a managed distribution" in reasons
    not_run = next(entry for entry in limits if entry["kind"] == "not_run")
    assert "key-file-permissions" in not_run["reason"]
    assert "static-token-file" not in not_run["reason"]


# ------------------------------------------------------------------ scope
class _Session:
    """A ClusterSession stand-in: scope must read only what was collected."""

    def __init__(self, stored: set[str], contacted: list[str]) -> None:
        from kubepci.access.kubeconfig import Credential, Target

        self.target = Target(
            "ctx", "/k", "ctx", "https://192.0.2.2:6443", "u", Credential("token", "static")
        )
        self._stored = stored
        self._contacted = contacted
        self.snapshot = self

    def export(self) -> dict[str, Path]:
        return {name: Path(f"/store/{name}.json") for name in self._stored}

    def _read(self, name: str, value: Any) -> Any:
        self._contacted.append(name)
        return value

    @property
    def version(self) -> Obj:
        return self._read("version", {"gitVersion": "v1.35.4", "platform": "linux/amd64"})

    @property
    def identity(self) -> Obj:
        return self._read("identity", {"username": "alice", "groups": [], "uid": ""})

    @property
    def distribution(self) -> Any:
        from kubepci.analysis.distribution import Distribution

        return self._read("distribution", Distribution("kubeadm", ("annotations",)))

    @property
    def kube_system_uid(self) -> str:
        return self._read("uid", "0f0e-uid")

    @property
    def nodes(self) -> list[Obj]:
        node = {
            "metadata": {"name": "vm", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "192.0.2.2"}],
                "nodeInfo": {"kubeletVersion": "v1.35.4"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
        return self._read("nodes", [node])


def test_scope_of_a_connected_cluster() -> None:
    from kubepci.report.scope import cluster_scope

    stored = {"version", "identity", "list-pods", "list-namespaces", "list-nodes"}
    out = cluster_scope(_Session(stored, []))  # type: ignore[arg-type]
    assert out["server_version"] == "v1.35.4"
    assert out["identity"]["username"] == "alice"
    assert out["distribution"]["name"] == "kubeadm"
    assert out["kube_system_uid"] == "0f0e-uid"
    assert out["nodes"][0]["roles"] == ["control-plane"]
    assert out["nodes"][0]["internal_ip"] == "192.0.2.2"
    assert out["unavailable"] == []


def test_scope_never_contacts_a_cluster_for_what_was_not_collected() -> None:
    from kubepci.report.scope import cluster_scope

    contacted: list[str] = []
    out = cluster_scope(_Session(set(), contacted))  # type: ignore[arg-type]
    assert contacted == []
    assert out["server_version"] == "" and out["nodes"] == []
    assert len(out["unavailable"]) == 5
