"""The estate's objects as API JSON, built from their index alone (pure functions).

Pods never run: they name a scheduler that does not exist, so they stay Pending with no
node (see :data:`SCHEDULER`). The mix gives every check real work: pods on the default
ServiceAccount with an implicit token, pods that opt out, ServiceAccounts that decide,
projected tokens within and beyond the 24h policy, RoleBindings to default accounts,
users and groups, legacy token Secrets, Services without endpoints.
"""

from __future__ import annotations

from typing import Any

from bench import estate as e
from bench.estate import Estate

Obj = dict[str, Any]

LABELS = {"app.kubernetes.io/part-of": e.PREFIX}
IMAGE = "kubepci.local/busybox:1.35"
# A nodeName that names no Node would be garbage-collected by the PodGC controller
# (orphaned pods, after 40s) and hang in Terminating on deletion; an unknown scheduler
# leaves a pod Pending, untouched by scheduler, kubelet and PodGC, and deletable at once.
SCHEDULER = f"{e.PREFIX}-none"
LONG_TOKEN_SECONDS = 2 * 86400  # beyond the suite's default 24h policy
SHORT_TOKEN_SECONDS = 3600
LEGACY_TOKEN_ANNOTATION = "kubernetes.io/service-account.name"


def _meta(name: str, namespace: str = "", **extra: Any) -> Obj:
    meta: Obj = {"name": name, "labels": dict(LABELS), **extra}
    if namespace:
        meta["namespace"] = namespace
    return meta


def namespace(index: int) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(e.namespace(index))}


def cluster_role() -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": _meta(e.CLUSTER_ROLE),
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["pods", "services", "configmaps"],
                "verbs": ["get", "list", "watch"],
            }
        ],
    }


def service_account(index: int) -> Obj:
    ns, local = e.per_namespace(index, e.SAS_PER_NS)
    body: Obj = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(f"bench-sa-{local}", e.namespace(ns)),
    }
    # 0 and 2 opt out, 1 opts in explicitly, 3 leaves the default (true).
    if local in (0, 2):
        body["automountServiceAccountToken"] = False
    elif local == 1:
        body["automountServiceAccountToken"] = True
    return body


def _token_volume(seconds: int) -> Obj:
    return {
        "name": "bench-token",
        "projected": {
            "sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": seconds}}]
        },
    }


def pod(index: int) -> Obj:
    ns = e.pod_namespace(index)
    variant = index % 5
    container: Obj = {
        "name": "main",
        "image": IMAGE,
        "imagePullPolicy": "Never",
        "command": ["sleep", "3600"],
    }
    spec: Obj = {"schedulerName": SCHEDULER, "containers": [container]}
    if variant == 0:
        spec["serviceAccountName"] = "default"  # implicit token: a 1.5.1 and 1.5.2 finding
    else:
        spec["serviceAccountName"] = f"bench-sa-{index % e.SAS_PER_NS}"
    if variant == 1:
        spec["automountServiceAccountToken"] = False
    elif variant in (3, 4):
        spec["automountServiceAccountToken"] = False
        seconds = SHORT_TOKEN_SECONDS if variant == 3 else LONG_TOKEN_SECONDS
        spec["volumes"] = [_token_volume(seconds)]
        container["volumeMounts"] = [{"name": "bench-token", "mountPath": "/var/run/bench"}]
    # variant 2: the ServiceAccount decides.
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(f"bench-pod-{index % e.PODS_PER_NS:02d}", e.namespace(ns)),
        "spec": spec,
    }


def _binding_subject(index: int, namespace: str) -> Obj:
    local = index % e.RBS_PER_NS
    if local == 0:
        return {"kind": "ServiceAccount", "name": "default", "namespace": namespace}
    if local == 8:
        return {
            "kind": "User",
            "name": f"bench-user-{index}@example.com",
            "apiGroup": "rbac.authorization.k8s.io",
        }
    if local == 9:
        return {
            "kind": "Group",
            "name": f"system:serviceaccounts:{namespace}",
            "apiGroup": "rbac.authorization.k8s.io",
        }
    return {
        "kind": "ServiceAccount",
        "name": f"bench-sa-{local % e.SAS_PER_NS}",
        "namespace": namespace,
    }


def _role_ref() -> Obj:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": e.CLUSTER_ROLE}


def role_binding(index: int) -> Obj:
    ns, local = e.per_namespace(index, e.RBS_PER_NS)
    name = e.namespace(ns)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(f"bench-rb-{local}", name),
        "roleRef": _role_ref(),
        "subjects": [_binding_subject(index, name)],
    }


def cluster_role_binding(index: int, estate: Estate) -> Obj:
    ns = e.namespace(min(index, estate.namespaces - 1))
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _meta(e.cluster_role_binding(index)),
        "roleRef": _role_ref(),
        "subjects": [
            {"kind": "ServiceAccount", "name": f"bench-sa-{index % e.SAS_PER_NS}", "namespace": ns}
        ],
    }


def service(index: int) -> Obj:
    ns, local = e.per_namespace(index, e.SVCS_PER_NS)
    # No selector: no endpoints, no EndpointSlice, nothing for the suite to probe.
    spec: Obj = (
        {"ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
        if local == 0
        else {"clusterIP": "None", "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}
    )
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(f"bench-svc-{local}", e.namespace(ns)),
        "spec": spec,
    }


def legacy_token_secret(index: int, estate: Estate) -> Obj:
    """A Secret-based ServiceAccount token; the token controller fills in the token."""
    ns = e.secret_namespace(index, estate)
    annotations = {LEGACY_TOKEN_ANNOTATION: f"bench-sa-{index % e.SAS_PER_NS}"}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": _meta(f"bench-token-{index}", e.namespace(ns), annotations=annotations),
    }


def api_path(body: Obj) -> str:
    """The collection a body is POSTed to."""
    kind = body["kind"]
    namespace = body["metadata"].get("namespace", "")
    if kind in ("ClusterRole", "ClusterRoleBinding", "RoleBinding"):
        plural = {"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings"}
        prefix = "/apis/rbac.authorization.k8s.io/v1"
        if kind == "RoleBinding":
            return f"{prefix}/namespaces/{namespace}/rolebindings"
        return f"{prefix}/{plural[kind]}"
    plural = {
        "Namespace": "namespaces",
        "ServiceAccount": "serviceaccounts",
        "Pod": "pods",
        "Service": "services",
        "Secret": "secrets",
    }[kind]
    if namespace:
        return f"/api/v1/namespaces/{namespace}/{plural}"
    return f"/api/v1/{plural}"


def wave(kind: str, estate: Estate) -> list[Obj]:
    """Every object of one kind in the estate."""
    builders = {
        "namespaces": (estate.namespaces, namespace),
        "serviceaccounts": (estate.service_accounts, service_account),
        "pods": (estate.pods, pod),
        "rolebindings": (estate.role_bindings, role_binding),
        "services": (estate.services, service),
    }
    if kind in builders:
        count, build = builders[kind]
        return [build(i) for i in range(count)]
    if kind == "clusterrolebindings":
        return [cluster_role_binding(i, estate) for i in range(estate.cluster_role_bindings)]
    if kind == "secrets":
        return [legacy_token_secret(i, estate) for i in range(estate.secrets)]
    raise KeyError(kind)
