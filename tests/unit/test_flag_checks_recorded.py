"""The shipped flag checks, run on the recorded kube-system pods of both local profiles.

The real check functions of tests_pci run against a session holding what the snapshot
kept of the recorded pods (tests/data/control_plane/kube-system-pods-*.json), the
compliant profile's AuthenticationConfiguration under a node root, and API server answers
(recorded on the compliant profile; hand-written for the noncompliant one, whose anonymous
RBAC fixture lets system:unauthenticated list pods). The same checks are proven live by
tests/cluster/test_detection_flags.py.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kubepci import catalogue
from kubepci.access import trim
from kubepci.access.component_files import with_config_files
from kubepci.access.probes import ProbeResult
from kubepci.analysis.distribution import Distribution
from kubepci.analysis.flags import control_plane_flags
from kubepci.facade import Cluster, Settings
from kubepci.verdict import EvidenceUnavailable, Verdict
from tests_pci import test_1_1_unauthenticated_access as t11
from tests_pci import test_1_3_revocable_credentials as t13
from tests_pci import test_1_4_credential_storage as t14

DATA = Path(__file__).resolve().parents[1] / "data" / "control_plane"
AUTHN = "etc/kubernetes/kubepci/authentication-config.yaml"
CHECKS: dict[str, Callable[[Cluster], None]] = {
    "api-server-anonymous-config": t11.test_api_server_anonymous_auth_disabled_or_limited,
    "controller-manager-always-allow-paths": t11.test_controller_manager_always_allow_paths_default,
    "scheduler-always-allow-paths": t11.test_scheduler_always_allow_paths_default,
    "etcd-client-cert-auth": t11.test_etcd_requires_client_certificates,
    "static-token-file": t14.test_api_server_uses_no_static_token_file,
    "service-account-token-lifetime": t13.test_api_server_caps_token_lifetime,
}
NONCOMPLIANT_ANSWERS = [("/healthz", 200), ("/version", 200), ("/api", 403), ("/api/v1/pods", 200)]


def pods(profile: str) -> list[dict[str, Any]]:
    raw = json.loads((DATA / f"kube-system-pods-{profile}.json").read_text())["items"]
    return [trim.pod(p) for p in raw]


def answers(profile: str) -> list[ProbeResult]:
    if profile == "compliant":
        raw = json.loads((DATA / "api-server-probes-compliant.json").read_text())["probes"]
        return [ProbeResult(p["method"], p["url"], p["status"], p["error"]) for p in raw]
    return [ProbeResult("GET", f"https://192.0.2.2:6443{p}", s) for p, s in NONCOMPLIANT_ANSWERS]


def run(profile: str, check_id: str, node_root: str = "") -> Cluster:
    session = SimpleNamespace(
        target=SimpleNamespace(id=f"kubepci-{profile}", server="https://192.0.2.2:6443"),
        control_plane=control_plane_flags(pods(profile), "v1.35.4"),
        distribution=Distribution("kubeadm"),
        api_server_probes=lambda: answers(profile),
        config_files=lambda _component, found: with_config_files(found, node_root),
    )
    cluster = Cluster(session, catalogue.load().checks[check_id], [], Settings(86400, node_root))
    # judge() fails the test with the findings; they are on the result.
    with contextlib.suppress(pytest.fail.Exception):
        CHECKS[check_id](cluster)
    return cluster


@pytest.fixture
def node_root(tmp_path: Path) -> str:
    (tmp_path / AUTHN).parent.mkdir(parents=True)
    (tmp_path / AUTHN).write_text((DATA / "authentication-config-compliant.yaml").read_text())
    (tmp_path / "etc/hostname").write_text("vm\n")
    return str(tmp_path)


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_compliant_profile_passes(check_id: str, node_root: str) -> None:
    for root in (node_root, ""):
        cluster = run("compliant", check_id, root)
        assert cluster.result.verdict is Verdict.PASSED, cluster.result.reason


def test_compliant_anonymous_configuration_from_the_file(node_root: str) -> None:
    read = run("compliant", "api-server-anonymous-config", node_root).result
    assert read.reason.startswith("anonymous authentication is disabled or limited")
    assert (
        "decided by the live server"
        in run("compliant", "api-server-anonymous-config").result.reason
    )


NONCOMPLIANT = [
    ("api-server-anonymous-config", "Pod kube-system/kube-apiserver-vm",
     "anonymous authentication is enabled for every path: --anonymous-auth=true"),
    ("controller-manager-always-allow-paths", "Pod kube-system/kube-controller-manager-vm",
     "adds /configz, /debug/pprof, /debug/pprof/*, /metrics beyond the default health paths, "
     "served on all interfaces"),
    ("scheduler-always-allow-paths", "Pod kube-system/kube-scheduler-vm", "adds /configz"),
    ("etcd-client-cert-auth", "Pod kube-system/etcd-vm",
     "client listener https://192.0.2.2:2379: no client certificate is required"),
    ("static-token-file", "Pod kube-system/kube-apiserver-vm",
     "--token-auth-file=/etc/kubernetes/kubepci/static-tokens.csv (set on pod"),
    ("service-account-token-lifetime", "Pod kube-system/kube-apiserver-vm",
     "no token lifetime cap (--service-account-max-token-expiration not set"),
    ("service-account-token-lifetime", "Pod kube-system/kube-apiserver-vm",
     "extended to one year: --service-account-extend-token-expiration=true"),
]  # fmt: skip


@pytest.mark.parametrize(("check_id", "ref", "text"), NONCOMPLIANT)
def test_noncompliant_profile_fails_naming_the_component(
    check_id: str, ref: str, text: str
) -> None:
    result = run("noncompliant", check_id).result
    assert result.verdict is Verdict.FAILED, result.reason
    assert any(f.ref == ref and text in f.detail for f in result.findings), [
        f.line() for f in result.findings
    ]
    assert all("etcd-backup" not in f.ref for f in result.findings)


def test_noncompliant_anonymous_answers_add_nothing_the_configuration_says() -> None:
    # --anonymous-auth=true covers every path: the 403 and 200 answers are that one finding.
    (only,) = run("noncompliant", "api-server-anonymous-config").result.findings
    assert only.kind == "Pod"


def test_secure_port_zero_serves_nothing() -> None:
    recorded = pods("noncompliant")
    for pod in recorded:
        for container in pod["spec"]["containers"]:
            if container["command"][0] == "kube-scheduler":
                container["command"].append("--secure-port=0")
    session = SimpleNamespace(
        target=SimpleNamespace(id="x", server="https://192.0.2.2:6443"),
        control_plane=control_plane_flags(recorded, "v1.35.4"),
        distribution=Distribution("kubeadm"),
        config_files=lambda _component, found: found,
    )
    cluster = Cluster(
        session, catalogue.load().checks["scheduler-always-allow-paths"], [], Settings()
    )
    t11.test_scheduler_always_allow_paths_default(cluster)
    assert cluster.result.verdict is Verdict.PASSED
    assert "nothing is served" in cluster.result.reason


def test_a_refused_command_line_is_an_error() -> None:
    recorded = pods("compliant")
    for pod in recorded:
        for container in pod["spec"]["containers"]:
            if container["command"][0] == "etcd":
                container["command"] += ["--client-cert-auth", "false"]
    session = SimpleNamespace(
        target=SimpleNamespace(id="x", server="https://192.0.2.2:6443"),
        control_plane=control_plane_flags(recorded, "v1.35.4"),
        distribution=Distribution("kubeadm"),
        config_files=lambda _component, found: found,
    )
    cluster = Cluster(session, catalogue.load().checks["etcd-client-cert-auth"], [], Settings())
    with pytest.raises(EvidenceUnavailable, match="'false' is not a valid flag"):
        t11.test_etcd_requires_client_certificates(cluster)
