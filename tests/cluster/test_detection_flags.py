"""Component identity, flags and anonymous configuration on the real local cluster.

Both profiles plant fixtures/<profile>/77-control-plane-lookalikes.yaml: an etcd backup
job in kube-system whose pod carries etcd's label, a container named etcd and etcd-style
flags (``--client-cert-auth=false``, an http:// URL), running busybox. It must be named as
set aside in the evidence and never in a finding. The noncompliant profile's control plane
(kind-configs/noncompliant.yaml) must be caught from its static pods' flags as the
components parse them; the compliant profile's API server takes anonymous authentication
from its AuthenticationConfiguration file, judged from the file with --node-root and from
the live server without it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubepci.verdict import Finding
from tests.cluster.conftest import LocalCluster, SuiteRun, require_profile, run_suite

CHECKS = (
    "api-server-anonymous-config",
    "controller-manager-always-allow-paths",
    "scheduler-always-allow-paths",
    "etcd-client-cert-auth",
    "static-token-file",
    "service-account-token-lifetime",
)
SELECT = "anonymous_auth_disabled or always_allow or etcd_requires or static_token or caps_token"
DECOY = "Pod kube-system/etcd-backup-"
# (check, the object a finding must name, text its detail must hold) on the noncompliant
# profile, one row per planted misconfiguration.
NONCOMPLIANT: list[tuple[str, str, str]] = [
    ("api-server-anonymous-config", "Pod kube-system/kube-apiserver-vm",
     "anonymous authentication is enabled for every path: --anonymous-auth=true"),
    ("controller-manager-always-allow-paths", "Pod kube-system/kube-controller-manager-vm",
     "adds /configz, /debug/pprof, /debug/pprof/*, /metrics beyond the default health paths, "
     "served on all interfaces"),
    ("scheduler-always-allow-paths", "Pod kube-system/kube-scheduler-vm",
     "adds /configz, /debug/pprof, /debug/pprof/*, /metrics"),
    ("etcd-client-cert-auth", "Pod kube-system/etcd-vm",
     "client listener https://192.0.2.2:2379: no client certificate is required"),
    ("etcd-client-cert-auth", "Pod kube-system/etcd-vm",
     "client listener https://127.0.0.1:2379: no client certificate is required"),
    ("static-token-file", "Pod kube-system/kube-apiserver-vm",
     "--token-auth-file=/etc/kubernetes/kubepci/static-tokens.csv"),
    ("service-account-token-lifetime", "Pod kube-system/kube-apiserver-vm",
     "no token lifetime cap"),
    ("service-account-token-lifetime", "Pod kube-system/kube-apiserver-vm",
     "extended to one year: --service-account-extend-token-expiration=true"),
]  # fmt: skip


def _run(local: LocalCluster, outdir: Any, *extra: str) -> dict[str, dict[str, Any]]:
    run: SuiteRun = run_suite(
        local.kubeconfig,
        outdir,
        f"--evidence-dir={outdir / 'evidence'}",
        "-q",
        "-k",
        SELECT,
        *extra,
    )
    path = run.outdir / "evidence" / "results.json"
    assert path.is_file(), run.stdout[-3000:] + run.stderr[-2000:]
    document = json.loads(path.read_text(encoding="utf-8"))
    return {r["check_id"]: r for r in document["results"]}


@pytest.fixture(scope="module")
def on_node(
    local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The suite run on the node itself (--node-root /): settings files are read."""
    return _run(local_cluster, tmp_path_factory.mktemp("flags-node"), "--node-root", "/")


@pytest.fixture(scope="module")
def remote(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The suite run without the node's filesystem."""
    return _run(local_cluster, tmp_path_factory.mktemp("flags-remote"))


def _findings(result: dict[str, Any]) -> list[Finding]:
    return [Finding.from_json(f) for f in result.get("findings", [])]


def _evidence(result: dict[str, Any], title_start: str) -> list[Any]:
    return [e["content"] for e in result["evidence"] if e["title"].startswith(title_start)]


def test_every_check_ran(on_node: dict[str, Any], remote: dict[str, Any]) -> None:
    assert set(CHECKS) <= set(on_node) and set(CHECKS) <= set(remote)


@pytest.mark.parametrize(
    ("check", "ref", "text"), NONCOMPLIANT, ids=[f"{c}:{t[:30]}" for c, _, t in NONCOMPLIANT]
)
def test_noncompliant_control_plane_is_caught(
    local_cluster: LocalCluster, on_node: dict[str, Any], check: str, ref: str, text: str
) -> None:
    require_profile(local_cluster, "noncompliant")
    result = on_node[check]
    assert result["verdict"] == "failed", result["reason"]
    details = [f.detail for f in _findings(result) if f.ref == ref]
    assert any(text in d for d in details), f"{check}: {ref}: {details or _findings(result)}"


@pytest.mark.parametrize("check", CHECKS)
def test_compliant_control_plane_passes(
    local_cluster: LocalCluster, on_node: dict[str, Any], remote: dict[str, Any], check: str
) -> None:
    require_profile(local_cluster, "compliant")
    for run in (on_node, remote):
        assert run[check]["verdict"] == "passed", f"{check}: {run[check]['reason']}"


def test_compliant_anonymous_configuration_read_from_its_file(
    local_cluster: LocalCluster, on_node: dict[str, Any], remote: dict[str, Any]
) -> None:
    require_profile(local_cluster, "compliant")
    (judged,) = _evidence(on_node["api-server-anonymous-config"], "Anonymous authentication of")
    assert judged.startswith("enabled on /livez, /readyz, /healthz (the anonymous section of ")
    assert "/etc/kubernetes/kubepci/authentication-config.yaml" in judged
    # Without the node's filesystem the file is not read, and the live server decides.
    (unread,) = _evidence(remote["api-server-anonymous-config"], "Anonymous authentication of")
    assert unread.startswith("not known from the configuration")
    assert "decided by the live server" in remote["api-server-anonymous-config"]["reason"]


@pytest.mark.parametrize("run_name", ["on_node", "remote"])
def test_etcd_backup_pod_is_not_etcd(
    run_name: str, request: pytest.FixtureRequest, local_cluster: LocalCluster
) -> None:
    results: dict[str, Any] = request.getfixturevalue(run_name)
    etcd = results["etcd-client-cert-auth"]
    (aside,) = _evidence(etcd, "kube-system pods not judged as etcd")
    assert any(a.startswith(DECOY) and "not a static pod" in a for a in aside), aside
    for check in CHECKS:
        named = [f.line() for f in _findings(results[check]) if "etcd-backup" in f.ref]
        assert not named, f"{check} judged the backup job as a component: {named}"
    settings = _evidence(etcd, "etcd settings (")
    assert [s["pod"] for s in settings] == ["kube-system/etcd-vm"]
    if local_cluster.profile == "compliant":
        assert etcd["verdict"] == "passed", etcd["reason"]
