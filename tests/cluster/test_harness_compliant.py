"""The compliant harness cluster really is locked down, and its kubeconfig is an individual.

Runs against the cluster recorded in ~/.cache/kubepci/clusters/current.env (fails when
none is up, see conftest); every test is skipped while the noncompliant profile is up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.cluster.conftest import LocalCluster, require_profile

# The kubelet and etcd serve self-signed or cluster-CA certificates; these probes ask
# "does it answer without credentials", not "is the certificate trusted".
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

PROFILE = "compliant"
TIMEOUT = 10
AUDITOR = "oidc:auditor@example.com"


@pytest.fixture(scope="module")
def compliant_cluster(local_cluster: LocalCluster) -> LocalCluster:
    return require_profile(local_cluster, PROFILE)


@pytest.fixture(scope="module")
def auditor(compliant_cluster: LocalCluster) -> client.ApiClient:
    """The printed kubeconfig, authenticating through its exec plugin."""
    return config.new_client_from_config(config_file=compliant_cluster.kubeconfig)


@pytest.fixture(scope="module")
def admin_core(compliant_cluster: LocalCluster) -> client.CoreV1Api:
    return client.CoreV1Api(
        config.new_client_from_config(config_file=compliant_cluster.admin_kubeconfig)
    )


def test_kubelet_api_refuses_anonymous_requests(compliant_cluster: LocalCluster) -> None:
    answer = requests.get(
        f"https://{compliant_cluster.node_ip}:10250/pods", verify=False, timeout=TIMEOUT
    )
    assert answer.status_code == 401


def test_kubelet_read_only_port_is_closed(compliant_cluster: LocalCluster) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{compliant_cluster.node_ip}:10255/pods", timeout=TIMEOUT)


def test_kubeconfig_holds_an_exec_plugin_not_a_credential(compliant_cluster: LocalCluster) -> None:
    kubeconfig = yaml.safe_load(Path(compliant_cluster.kubeconfig).read_text())
    (user,) = kubeconfig["users"]
    assert set(user["user"]) == {"exec"}
    assert user["user"]["exec"]["apiVersion"] == "client.authentication.k8s.io/v1"


def test_kubeconfig_identity_is_the_individual_auditor(auditor: client.ApiClient) -> None:
    review = client.AuthenticationV1Api(auditor).create_self_subject_review(
        client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
    )
    assert review.status.user_info.username == AUDITOR


def test_auditor_can_list_pods(auditor: client.ApiClient) -> None:
    pods = client.CoreV1Api(auditor).list_pod_for_all_namespaces(limit=5)
    assert pods.items


def test_auditor_cannot_create_pods(auditor: client.ApiClient) -> None:
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="kubepci-harness-forbidden"),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="c", image="kubepci.local/busybox:1.35")]
        ),
    )
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(auditor).create_namespaced_pod("payments", pod, dry_run="All")
    assert refused.value.status == 403


def test_anonymous_api_access_limited_to_health(compliant_cluster: LocalCluster) -> None:
    base = f"https://{compliant_cluster.node_ip}:6443"
    assert requests.get(f"{base}/livez", verify=False, timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{base}/api/v1/pods", verify=False, timeout=TIMEOUT).status_code == 401


def test_apiserver_mirror_pod_uses_external_authenticator(admin_core: client.CoreV1Api) -> None:
    pods = admin_core.list_namespaced_pod("kube-system", label_selector="component=kube-apiserver")
    (pod,) = pods.items
    assert pod.status.phase == "Running"
    command = pod.spec.containers[0].command
    assert any(arg.startswith("--authentication-config=") for arg in command)
    assert not any(arg.startswith("--token-auth-file") for arg in command)
    assert "--service-account-extend-token-expiration=false" in command


def test_fixture_service_demands_credentials(admin_core: client.CoreV1Api) -> None:
    pod = admin_core.read_namespaced_pod("payments-api", "payments")
    assert pod.status.pod_ip, "the fixture pod has no IP"
    assert pod.spec.automount_service_account_token is False
    url = f"http://{pod.status.pod_ip}:8080/"
    assert requests.get(url, timeout=TIMEOUT).status_code == 401
    authed = requests.get(url, auth=("payments-client", "fixture-only-password"), timeout=TIMEOUT)
    assert authed.status_code == 200


def test_etcd_refuses_clients_without_certificate(compliant_cluster: LocalCluster) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(
            f"https://{compliant_cluster.node_ip}:2379/version", verify=False, timeout=TIMEOUT
        )


def test_controller_manager_not_listening_on_node_ip(compliant_cluster: LocalCluster) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(
            f"https://{compliant_cluster.node_ip}:10257/healthz", verify=False, timeout=TIMEOUT
        )
