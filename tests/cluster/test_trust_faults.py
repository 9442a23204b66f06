"""Fail closed under faults: for each injected fault, no affected check passes and each
says why in one line. Faults come from the real cluster (a restricted identity, a port
that is filtered or resets) or from a proxy in front of the real API server (slow answers,
429/5xx, the API server stopping mid-run)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import LocalCluster, SuiteRun, run_suite, verdicts
from tests.support import identities
from tests.support.faultproxy import Fault, FaultProxy

AUDITOR_ROLES = ["kubepci-auditor", "kubepci-auditor-kubelet-config"]
SNAPSHOT_CHECKS_ON_SECRETS = {"legacy-service-account-tokens"}


@pytest.fixture(scope="module")
def auditor(
    local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[identities.TestIdentity]:
    """A ServiceAccount holding only the auditor roles, with a short-lived token."""
    out = tmp_path_factory.mktemp("auditor") / "kubeconfig"
    yield identities.service_account_identity(
        local_cluster.admin_kubeconfig, "fault-auditor", AUDITOR_ROLES, out
    )
    identities.remove(local_cluster.admin_kubeconfig)


def _upstream(local: LocalCluster, tmp: Path) -> tuple[str, str]:
    document = yaml.safe_load(Path(local.admin_kubeconfig).read_text())
    cluster = document["clusters"][0]["cluster"]
    ca = tmp / "cluster-ca.crt"
    ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    return cluster["server"], str(ca)


def _through(proxy: FaultProxy, identity: identities.TestIdentity, tmp: Path) -> Path:
    document = yaml.safe_load(identity.kubeconfig.read_text())
    cluster = document["clusters"][0]["cluster"]
    cluster["server"] = proxy.url
    cluster["certificate-authority-data"] = base64.b64encode(proxy.ca_pem).decode()
    path = tmp / "proxied.kubeconfig"
    path.write_text(yaml.safe_dump(document))
    return path


def _assert_errors(run: SuiteRun, checks: set[str], reason: str) -> None:
    got = verdicts(run)
    for check in checks:
        verdict, message = got[check]
        assert verdict == "error", f"{check}: {verdict}\n{run.stdout[-2000:]}"
        assert reason in message, f"{check}: {message}"
        assert len(message.strip().splitlines()[0]) < 400
    assert run.returncode == 2, run.stdout[-2000:]


@pytest.fixture
def proxy(local_cluster: LocalCluster, tmp_path: Path) -> Iterator[FaultProxy]:
    upstream, ca = _upstream(local_cluster, tmp_path)
    with FaultProxy(upstream, ca, tmp_path) as running:
        yield running


def test_baseline_through_proxy_has_no_errors(
    proxy: FaultProxy, auditor: identities.TestIdentity, tmp_path: Path
) -> None:
    run = run_suite(str(_through(proxy, auditor, tmp_path)), tmp_path / "out")
    got = verdicts(run)
    assert not [c for c, (v, _) in got.items() if v == "error"], run.stdout[-3000:]


def test_transient_429_and_503_are_retried(
    proxy: FaultProxy, auditor: identities.TestIdentity, tmp_path: Path
) -> None:
    proxy.state.faults += [
        Fault("/api/v1/pods", status=429, times=2, retry_after="1"),
        Fault("/apis/rbac.authorization.k8s.io/v1/rolebindings", status=503, times=1),
    ]
    run = run_suite(str(_through(proxy, auditor, tmp_path)), tmp_path / "out")
    got = verdicts(run)
    assert not [c for c, (v, _) in got.items() if v == "error"], run.stdout[-3000:]
    assert proxy.state.seen["GET /api/v1/pods"] == 3  # two refusals, then the answer
    assert proxy.state.seen["GET /apis/rbac.authorization.k8s.io/v1/rolebindings"] == 2


def test_persistent_5xx_errors_the_checks_that_need_it(
    proxy: FaultProxy, auditor: identities.TestIdentity, tmp_path: Path
) -> None:
    proxy.state.faults.append(Fault("/api/v1/secrets", status=503))
    run = run_suite(str(_through(proxy, auditor, tmp_path)), tmp_path / "out")
    _assert_errors(run, SNAPSHOT_CHECKS_ON_SECRETS, "cannot list secrets: 503")
    # Bounded retries: 4 attempts for each of the two Secret lists (all Secrets' metadata,
    # and the field-selected ServiceAccount-token Secrets).
    assert proxy.state.seen["GET /api/v1/secrets"] == 8


def test_slow_answers_time_out(
    proxy: FaultProxy, auditor: identities.TestIdentity, tmp_path: Path
) -> None:
    proxy.state.faults.append(Fault("/apis/certificates.k8s.io", delay=4))
    run = run_suite(str(_through(proxy, auditor, tmp_path)), tmp_path / "out", "--api-timeout", "1")
    _assert_errors(run, {"client-certificate-csrs"}, "timed out")


def test_api_server_stops_mid_run(
    proxy: FaultProxy, auditor: identities.TestIdentity, tmp_path: Path
) -> None:
    # First contact and the snapshot go through (2 + 12 lists, one page each here); then the
    # API server "stops": the kubelet configz and service probes made through it must error.
    proxy.state.stop_after = 14
    run = run_suite(str(_through(proxy, auditor, tmp_path)), tmp_path / "out", "--api-timeout", "2")
    got = verdicts(run)
    for check in ("kubelet-config", "service-anonymous-probe"):
        assert got[check][0] in ("error", "not_applicable"), (check, got[check])
        assert got[check][0] != "passed"
    assert "error" in {v for v, _ in got.values()}
    assert run.returncode == 2


def test_identity_without_list_rights(local_cluster: LocalCluster, tmp_path: Path) -> None:
    """The auditor role minus Secrets and CSRs: the checks that need them error as
    forbidden; the rest still judge."""
    documents = yaml.safe_load_all(
        (Path(__file__).resolve().parents[2] / "deploy/auditor-rbac.yaml").read_text()
    )
    rules = next(d for d in documents if d["metadata"]["name"] == "kubepci-auditor")["rules"]
    narrowed = []
    for rule in rules:
        resources = [
            r
            for r in rule.get("resources", [])
            if r not in ("secrets", "certificatesigningrequests")
        ]
        if rule.get("resources") and not resources:
            continue
        narrowed.append({**rule, **({"resources": resources} if "resources" in rule else {})})
    try:
        restricted = identities.service_account_identity(
            local_cluster.admin_kubeconfig,
            "restricted-auditor",
            ["kubepci-auditor-kubelet-config"],
            tmp_path / "kubeconfig",
            rules=narrowed,
        )
        run = run_suite(str(restricted.kubeconfig), tmp_path / "out")
    finally:
        identities.remove(local_cluster.admin_kubeconfig)
    _assert_errors(
        run,
        {"legacy-service-account-tokens", "client-certificate-csrs"},
        "403 forbidden",
    )
    got = verdicts(run)
    assert got["pod-token-automount"][0] in ("passed", "failed")


IPTABLES = shutil.which("iptables")


@pytest.fixture
def port_rules(local_cluster: LocalCluster) -> Iterator[list[list[str]]]:
    if IPTABLES is None:
        pytest.fail("iptables is required for the port fault tests (the harness installs it)")
    added: list[list[str]] = []
    yield added
    for rule in reversed(added):
        subprocess.run([IPTABLES, "-D", *rule], check=False)


def _add(rules: list[list[str]], rule: list[str]) -> None:
    subprocess.run([str(IPTABLES), "-I", *rule], check=True)
    rules.append(rule)


def test_filtered_and_reset_kubelet_ports(
    local_cluster: LocalCluster, port_rules: list[list[str]], tmp_path: Path
) -> None:
    """10255 silently dropped (filtered) and 10250 answering with a TCP reset: neither
    kubelet check may pass, since no answer says nothing about the kubelet."""
    ip = local_cluster.node_ip
    _add(port_rules, ["INPUT", "-p", "tcp", "-d", ip, "--dport", "10255", "-j", "DROP"])
    _add(
        port_rules,
        [
            "INPUT",
            "-p",
            "tcp",
            "-d",
            ip,
            "--dport",
            "10250",
            "-j",
            "REJECT",
            "--reject-with",
            "tcp-reset",
        ],
    )
    run = run_suite(local_cluster.kubeconfig, tmp_path / "out")
    got = verdicts(run)
    assert got["kubelet-read-only-port"][0] == "error", got["kubelet-read-only-port"]
    assert "timed out" in got["kubelet-read-only-port"][1]
    assert got["kubelet-anonymous-probe"][0] == "error", got["kubelet-anonymous-probe"]
    assert "no answer" in got["kubelet-anonymous-probe"][1]
    assert run.returncode == 2
