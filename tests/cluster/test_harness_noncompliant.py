"""The noncompliant harness cluster really is misconfigured, on the live node.

Runs against the cluster recorded in ~/.cache/kubepci/clusters/current.env (fails when
none is up, see conftest); every test is skipped while the compliant profile is up.
"""

from __future__ import annotations

import pytest
import requests
from kubernetes import client, config

from tests.cluster.conftest import LocalCluster, require_profile

# The kubelet and etcd serve self-signed or cluster-CA certificates; these probes ask
# "does it answer without credentials", not "is the certificate trusted".
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

PROFILE = "noncompliant"
TIMEOUT = 10
CANARY_STATIC_TOKEN = "kubepci-canary-static-token-7f3a9c"


@pytest.fixture(scope="module")
def noncompliant_cluster(local_cluster: LocalCluster) -> LocalCluster:
    return require_profile(local_cluster, PROFILE)


@pytest.fixture(scope="module")
def core(noncompliant_cluster: LocalCluster) -> client.CoreV1Api:
    return client.CoreV1Api(
        config.new_client_from_config(config_file=noncompliant_cluster.admin_kubeconfig)
    )


def _mirror_pod(core: client.CoreV1Api, component: str) -> client.V1Pod:
    pods = core.list_namespaced_pod("kube-system", label_selector=f"component={component}")
    assert len(pods.items) == 1, f"expected one {component} pod"
    return pods.items[0]


def test_apiserver_mirror_pod_runs_with_static_tokens_and_anonymous_auth(
    core: client.CoreV1Api,
) -> None:
    pod = _mirror_pod(core, "kube-apiserver")
    assert "kubernetes.io/config.mirror" in (pod.metadata.annotations or {})
    assert pod.status.phase == "Running"
    command = pod.spec.containers[0].command
    assert any(arg.startswith("--token-auth-file=") for arg in command)
    assert "--anonymous-auth=true" in command


def test_kubelet_api_answers_anonymous_requests(noncompliant_cluster: LocalCluster) -> None:
    answer = requests.get(
        f"https://{noncompliant_cluster.node_ip}:10250/pods", verify=False, timeout=TIMEOUT
    )
    assert answer.status_code == 200
    assert answer.json()["kind"] == "PodList"


def test_kubelet_read_only_port_serves_pods(noncompliant_cluster: LocalCluster) -> None:
    answer = requests.get(f"http://{noncompliant_cluster.node_ip}:10255/pods", timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.json()["kind"] == "PodList"


def test_fixture_httpd_pod_serves_http_without_credentials(core: client.CoreV1Api) -> None:
    pod = core.read_namespaced_pod("payments-api", "payments")
    assert pod.status.pod_ip, "the fixture pod has no IP"
    answer = requests.get(f"http://{pod.status.pod_ip}:8080/", timeout=TIMEOUT)
    assert answer.status_code == 200
    assert "kubepci fixture" in answer.text


def test_fixture_pod_runs_as_default_service_account_with_token(core: client.CoreV1Api) -> None:
    pod = core.read_namespaced_pod("payments-api", "payments")
    assert pod.spec.service_account_name == "default"
    mounts = [m.mount_path for m in pod.spec.containers[0].volume_mounts or []]
    assert "/var/run/secrets/kubernetes.io/serviceaccount" in mounts


def test_static_token_from_the_token_file_authenticates(noncompliant_cluster: LocalCluster) -> None:
    answer = requests.get(
        f"https://{noncompliant_cluster.node_ip}:6443/api/v1/namespaces",
        headers={"Authorization": f"Bearer {CANARY_STATIC_TOKEN}"},
        verify=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200


def test_anonymous_requests_can_list_pods(noncompliant_cluster: LocalCluster) -> None:
    answer = requests.get(
        f"https://{noncompliant_cluster.node_ip}:6443/api/v1/pods", verify=False, timeout=TIMEOUT
    )
    assert answer.status_code == 200


def test_controller_manager_metrics_open_on_node_ip(noncompliant_cluster: LocalCluster) -> None:
    answer = requests.get(
        f"https://{noncompliant_cluster.node_ip}:10257/metrics", verify=False, timeout=TIMEOUT
    )
    assert answer.status_code == 200


def test_etcd_accepts_clients_without_certificate(noncompliant_cluster: LocalCluster) -> None:
    answer = requests.get(
        f"https://{noncompliant_cluster.node_ip}:2379/version", verify=False, timeout=TIMEOUT
    )
    assert answer.status_code == 200
    assert "etcdserver" in answer.json()


def test_fixture_client_certificate_requests_approved(noncompliant_cluster: LocalCluster) -> None:
    api = client.CertificatesV1Api(
        config.new_client_from_config(config_file=noncompliant_cluster.admin_kubeconfig)
    )
    jane = api.read_certificate_signing_request("kubepci-fixture-jane")
    masters = api.read_certificate_signing_request("kubepci-fixture-masters")
    for csr in (jane, masters):
        assert any(c.type == "Approved" for c in csr.status.conditions or [])
    assert jane.status.certificate, "the API server client signer issued no certificate"


def test_legacy_service_account_token_secret_exists(core: client.CoreV1Api) -> None:
    secrets = core.list_namespaced_secret(
        "payments", field_selector="type=kubernetes.io/service-account-token"
    )
    annotations = [s.metadata.annotations or {} for s in secrets.items]
    assert any(a.get("kubernetes.io/service-account.name") == "default" for a in annotations)
