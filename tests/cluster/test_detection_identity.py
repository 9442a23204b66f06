"""Identity, credential, distribution and certificate verdicts on the real local clusters.

Planted (fixtures/<profile>/72-forged-distribution.py, noncompliant/73-fake-node-csr.py):
- both profiles: node labels claiming EKS, GKE and AKS (and, on noncompliant, an azure://
  providerID). The distribution must stay kubeadm, and no verdict may change: the
  control-plane checks are judged, never "not applicable";
- noncompliant: a kubelet-signer CSR for CN=system:node:fake filed by jane and approved:
  client-certificate-csrs must name it, from the CSR list or, once csrcleaner has deleted
  it, from the API server audit log;
- noncompliant: kubeconfigs this test builds for a person holding a ServiceAccount token
  (legacy secret-based, a 48 h TokenRequest token, a 10 min one, and a client certificate
  sent alongside a token). The profiles' own kubeconfigs are left as they are.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.kubectl import Kubectl
from tests.cluster.conftest import LocalCluster, SuiteRun, require_profile, run_suite

FORGED_LABEL = "eks.amazonaws.com/nodegroup"
FAKE_NODE_CSR = "kubepci-fixture-fake-node"
PERSON_CHECKS = ("kubeconfig-client-certificate", "kubeconfig-credential-plugin")
# Checks that read control-plane flags: a managed verdict would make them not applicable.
CONTROL_PLANE_CHECKS = (
    "external-authenticator",
    "api-server-anonymous-config",
    "static-token-file",
    "service-account-token-lifetime",
    "etcd-client-cert-auth",
)
LEGACY_SECRET = ("payments", "payments-default-legacy-token")
TOKEN_ACCOUNT = ("payments", "default")


def _results(run: SuiteRun) -> dict[str, dict[str, Any]]:
    path = run.outdir / "evidence" / "results.json"
    assert path.is_file(), run.stdout[-3000:] + run.stderr[-2000:]
    document = json.loads(path.read_text(encoding="utf-8"))
    return {"scope": document["scope"], **{r["check_id"]: r for r in document["results"]}}


def _suite(kubeconfig: str, outdir: Path, *extra: str) -> dict[str, dict[str, Any]]:
    run = run_suite(kubeconfig, outdir, f"--evidence-dir={outdir / 'evidence'}", "-q", *extra)
    return _results(run)


@pytest.fixture(scope="module")
def admin(local_cluster: LocalCluster) -> Kubectl:
    return Kubectl(Path(local_cluster.admin_kubeconfig))


@pytest.fixture(scope="module")
def results(
    local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    return _suite(local_cluster.kubeconfig, tmp_path_factory.mktemp("identity"), "--node-root=/")


# ------------------------------------------------------------------ both profiles
def test_forged_provider_labels_are_planted(admin: Kubectl) -> None:
    nodes = admin.json("get", "nodes")["items"]
    assert nodes and all(FORGED_LABEL in n["metadata"].get("labels", {}) for n in nodes)


def test_distribution_stays_kubeadm(results: dict[str, dict[str, Any]]) -> None:
    (cluster,) = results["scope"]["clusters"]
    distribution = cluster["distribution"]
    assert (distribution["name"], distribution["managed"], cluster["managed"]) == (
        "kubeadm",
        False,
        False,
    ), distribution
    assert any(FORGED_LABEL in note for note in distribution["not_deciding"]), distribution
    assert "own address" in distribution["reasons"][0]


@pytest.mark.parametrize("check", CONTROL_PLANE_CHECKS)
def test_control_plane_checks_are_judged(
    check: str, local_cluster: LocalCluster, results: dict[str, dict[str, Any]]
) -> None:
    expected = "passed" if local_cluster.profile == "compliant" else "failed"
    verdict = results[check]["verdict"]
    assert verdict == expected, f"{check}: {verdict} {results[check]['reason']}"


def test_csr_verdict_states_the_retention_window(results: dict[str, dict[str, Any]]) -> None:
    result = results["client-certificate-csrs"]
    evidence = {e["title"]: e["content"] for e in result["evidence"]}
    retention = evidence["CSR retention"]
    assert "csrcleaner" in retention and "1 to 2 hours" in retention
    assert "API server audit log /var/log/kubernetes/audit/audit.log" in retention
    assert "reaches back to 20" in retention
    if result["verdict"] == "passed":
        assert "1 to 2 hours" in result["reason"] and "reaches back to" in result["reason"]


# ------------------------------------------------------------------ noncompliant
def test_fake_node_certificate_is_flagged(
    local_cluster: LocalCluster, results: dict[str, dict[str, Any]]
) -> None:
    require_profile(local_cluster, "noncompliant")
    result = results["client-certificate-csrs"]
    assert result["verdict"] == "failed", result["reason"]
    named = {f["name"]: f for f in result["findings"]}
    assert FAKE_NODE_CSR in named, sorted(named)
    finding = named[FAKE_NODE_CSR]
    assert finding["class"] in ("node-client-certificate", "client-certificate-in-audit-log")
    assert "jane" in finding["detail"]
    assert "kubepci-fixture-jane" in named


def test_own_kubelet_certificates_are_not_flagged(
    local_cluster: LocalCluster, admin: Kubectl, results: dict[str, dict[str, Any]]
) -> None:
    csrs = admin.json("get", "csr")["items"]
    kubelets = [
        c["metadata"]["name"]
        for c in csrs
        if c["spec"].get("username", "").startswith("system:node:")
        and c["spec"].get("signerName") == "kubernetes.io/kube-apiserver-client-kubelet"
    ]
    flagged = {f["name"] for f in results["client-certificate-csrs"]["findings"]}
    assert kubelets, "no kubelet CSR to judge"
    assert not flagged & set(kubelets)
    if local_cluster.profile == "compliant":
        assert results["client-certificate-csrs"]["verdict"] == "passed"


def _kubeconfig(admin_path: str, user: dict[str, Any], path: Path) -> str:
    """The admin kubeconfig's cluster, with ``user`` as the only user."""
    document = yaml.safe_load(Path(admin_path).read_text(encoding="utf-8"))
    cluster = document["clusters"][0]
    out = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "person", "user": user}],
        "contexts": [{"name": "person", "context": {"cluster": cluster["name"], "user": "person"}}],
        "current-context": "person",
    }
    path.write_text(yaml.safe_dump(out), encoding="utf-8")
    path.chmod(0o600)
    return str(path)


@pytest.fixture(scope="module")
def person_kubeconfigs(
    local_cluster: LocalCluster, admin: Kubectl, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Test-only kubeconfigs of a person holding ServiceAccount tokens (kept in tmp)."""
    require_profile(local_cluster, "noncompliant")
    folder = tmp_path_factory.mktemp("person-kubeconfigs")
    namespace, secret = LEGACY_SECRET
    data = admin.json("get", "secret", secret, "-n", namespace)["data"]["token"]
    legacy = base64.b64decode(data).decode()
    account_ns, account = TOKEN_ACCOUNT

    def token(duration: str) -> str:
        return admin.run("create", "token", account, "-n", account_ns, f"--duration={duration}")

    admin_user = yaml.safe_load(Path(local_cluster.kubeconfig).read_text())["users"][0]["user"]
    users = {
        "legacy": {"token": legacy},
        "bound-48h": {"token": token("48h").strip()},
        "bound-10m": {"token": token("10m").strip()},
        "certificate-and-token": {
            "client-certificate-data": admin_user["client-certificate-data"],
            "client-key-data": admin_user["client-key-data"],
            "token": token("10m").strip(),
        },
    }
    return {
        name: _kubeconfig(local_cluster.admin_kubeconfig, user, folder / f"{name}.yaml")
        for name, user in users.items()
    }


# kubeconfig → {check: (verdict, finding classes)}
PERSON_EXPECTED: dict[str, dict[str, tuple[str, list[str]]]] = {
    "legacy": {
        "kubeconfig-client-certificate": ("failed", ["legacy-service-account-token"]),
        "kubeconfig-credential-plugin": ("failed", ["service-account-token"]),
    },
    "bound-48h": {
        "kubeconfig-client-certificate": ("failed", ["long-lived-service-account-token"]),
        "kubeconfig-credential-plugin": ("failed", ["service-account-token"]),
    },
    "bound-10m": {
        "kubeconfig-client-certificate": ("passed", []),
        "kubeconfig-credential-plugin": ("failed", ["service-account-token"]),
    },
    "certificate-and-token": {
        "kubeconfig-client-certificate": ("failed", ["client-certificate"]),
        "kubeconfig-credential-plugin": (
            "failed",
            ["client-certificate", "service-account-token"],
        ),
    },
}


@pytest.mark.parametrize("name", list(PERSON_EXPECTED))
def test_person_holding_a_service_account_token_is_judged(
    name: str,
    person_kubeconfigs: dict[str, str],
    tmp_path: Path,
) -> None:
    kubeconfig = person_kubeconfigs[name]
    results = _suite(kubeconfig, tmp_path, "-k", "kubeconfig_user")
    secret = yaml.safe_load(Path(kubeconfig).read_text())["users"][0]["user"]["token"]
    for check, (verdict, classes) in PERSON_EXPECTED[name].items():
        result = results[check]
        assert result["verdict"] == verdict, f"{check}: {result['verdict']} {result['reason']}"
        assert sorted(f["class"] for f in result["findings"]) == sorted(classes), result
        evidence = json.dumps(result["evidence"])
        assert "sent" in evidence
    pack = (tmp_path / "evidence").rglob("*")
    for file in pack:
        if file.is_file():
            text = file.read_text(encoding="utf-8", errors="replace")
            assert secret not in text and secret.split(".")[1] not in text, file
