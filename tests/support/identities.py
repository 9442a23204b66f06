"""Identities for the project's own cluster tests: ServiceAccounts with chosen roles and
short-lived TokenRequest tokens, written into kubeconfigs.

These tests may change the local test cluster (the suite under test never does); every
object made here is labelled and removed by :func:`remove`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

LABEL = {"app.kubernetes.io/managed-by": "kubepci-tests"}
NAMESPACE = "kubepci-tests"


def admin_api(admin_kubeconfig: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=admin_kubeconfig, persist_config=False)


@dataclass(frozen=True)
class TestIdentity:
    name: str
    kubeconfig: Path
    username: str


def _ensure_namespace(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    try:
        core.read_namespace(NAMESPACE)
    except client.ApiException as exc:
        if exc.status != 404:
            raise
        core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE, labels=LABEL))
        )


def service_account_identity(
    admin_kubeconfig: str,
    name: str,
    cluster_roles: list[str],
    out: Path,
    server: str | None = None,
    ca_pem: bytes | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> TestIdentity:
    """A ServiceAccount bound to ``cluster_roles`` (and to a role made of ``rules``), with a
    one-hour token in a kubeconfig pointing at ``server`` (default: the admin's server)."""
    api = admin_api(admin_kubeconfig)
    _ensure_namespace(api)
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    meta = client.V1ObjectMeta(name=name, namespace=NAMESPACE, labels=LABEL)
    try:
        core.create_namespaced_service_account(NAMESPACE, client.V1ServiceAccount(metadata=meta))
    except client.ApiException as exc:
        if exc.status != 409:
            raise
    roles = list(cluster_roles)
    if rules is not None:
        role_name = f"kubepci-tests-{name}"
        body = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": role_name, "labels": LABEL},
            "rules": rules,
        }
        try:
            rbac.create_cluster_role(body)
        except client.ApiException as exc:
            if exc.status != 409:
                raise
            rbac.replace_cluster_role(role_name, body)
        roles.append(role_name)
    for role in roles:
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"kubepci-tests-{name}-{role}", "labels": LABEL},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role,
            },
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}],
        }
        try:
            rbac.create_cluster_role_binding(binding)
        except client.ApiException as exc:
            if exc.status != 409:
                raise
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    token = core.create_namespaced_service_account_token(name, NAMESPACE, request).status.token
    admin = yaml.safe_load(Path(admin_kubeconfig).read_text())
    cluster = dict(admin["clusters"][0]["cluster"])
    if server:
        cluster["server"] = server
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
        cluster.pop("certificate-authority", None)
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": "local", "user": name}}],
        "current-context": name,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(document))
    out.chmod(0o600)
    return TestIdentity(name, out, f"system:serviceaccount:{NAMESPACE}:{name}")


def remove(admin_kubeconfig: str) -> None:
    """Delete everything the project's tests made (labelled), and their namespace."""
    api = admin_api(admin_kubeconfig)
    rbac = client.RbacAuthorizationV1Api(api)
    selector = ",".join(f"{k}={v}" for k, v in LABEL.items())
    for binding in rbac.list_cluster_role_binding(label_selector=selector).items:
        rbac.delete_cluster_role_binding(binding.metadata.name)
    for role in rbac.list_cluster_role(label_selector=selector).items:
        rbac.delete_cluster_role(role.metadata.name)
    try:
        client.CoreV1Api(api).delete_namespace(NAMESPACE)
    except client.ApiException as exc:
        if exc.status != 404:
            raise
