"""The service axis: Services whose endpoints are real running pods, a share of them hanging.

A few busybox pods run in one ``kubepci-bench-svc`` namespace on the real node: ``web``
pods serve HTTP (busybox httpd over an empty directory, so 404 on every path: answered,
nothing served), ``hang`` pods accept every connection and never answer (busybox nc,
each connection held by a sleep). Each Service selects one of the two sets, so every
one has ready endpoints that the API server's service proxy reaches.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kubernetes import client as k8s

from bench.estate import PREFIX
from bench.kube import Obj, list_all, send
from bench.populate import create_all

Say = Callable[[str], None]
NAMESPACE = f"{PREFIX}-svc"
IMAGE = "kubepci.local/busybox:1.35"  # imported by the harness (harness/images.py)
WEB_PODS = 4
HANG_PODS = 2
PART_OF = {"app.kubernetes.io/part-of": PREFIX}
COMMANDS = {
    "web": ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/tmp"],
    # Every connection accepted, and held by a sleep that says nothing.
    "hang": ["/bin/busybox", "nc", "-ll", "-p", "8080", "-e", "/bin/busybox", "sleep", "60"],
}


def pod(kind: str, index: int) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{kind}-{index}",
            "namespace": NAMESPACE,
            "labels": {**PART_OF, "app": f"{PREFIX}-{kind}"},
        },
        "spec": {
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsUser": 65534, "runAsGroup": 65534},
            "containers": [
                {
                    "name": "http",
                    "image": IMAGE,
                    "imagePullPolicy": "Never",
                    "command": COMMANDS[kind],
                    "ports": [{"name": "http", "containerPort": 8080}],
                }
            ],
        },
    }


def service(kind: str, index: int) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{kind}-{index:04d}", "namespace": NAMESPACE, "labels": PART_OF},
        "spec": {
            "selector": {"app": f"{PREFIX}-{kind}"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def plan(count: int, hanging_share: float = 0.1) -> list[Obj]:
    """``count`` Services, ``hanging_share`` of them on the hanging pods (every tenth)."""
    step = round(1 / hanging_share)
    return [service("hang" if i % step == 0 else "web", i) for i in range(count)]


def _running(api: k8s.ApiClient) -> int:
    pods = list_all(api, f"/api/v1/namespaces/{NAMESPACE}/pods")
    return sum((p.get("status") or {}).get("phase") == "Running" for p in pods)


def _with_endpoints(api: k8s.ApiClient) -> int:
    slices = list_all(api, f"/apis/discovery.k8s.io/v1/namespaces/{NAMESPACE}/endpointslices")
    ready: set[str] = set()
    for item in slices:
        owner = (item.get("metadata") or {}).get("labels", {}).get("kubernetes.io/service-name")
        if owner and any(
            (e.get("conditions") or {}).get("ready") for e in item.get("endpoints") or []
        ):
            ready.add(owner)
    return len(ready)


def _wait(what: str, count: Callable[[], int], want: int, timeout: float, say: Say) -> None:
    deadline = time.monotonic() + timeout
    while (have := count()) < want:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {have} of {want} after {timeout:.0f}s")
        time.sleep(2)
    say(f"  {what}: {want}")


def populate(api: k8s.ApiClient, count: int, say: Say) -> list[Obj]:
    """The namespace, the pods (running) and ``count`` Services (with ready endpoints)."""
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": PART_OF},
    }
    send(api, "POST", "/api/v1/namespaces", body=namespace, ok=(201, 409))
    # The namespace's default ServiceAccount must exist before its pods are admitted.
    _wait(
        "default ServiceAccount",
        lambda: len(list_all(api, f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts")),
        1,
        120,
        say,
    )
    pods = [pod("web", i) for i in range(WEB_PODS)] + [pod("hang", i) for i in range(HANG_PODS)]
    create_all(api, pods)
    _wait("pods running", lambda: _running(api), len(pods), 300, say)
    services = plan(count)
    create_all(api, services)
    _wait("Services with ready endpoints", lambda: _with_endpoints(api), count, 600, say)
    return services


def remove(api: k8s.ApiClient, say: Say, timeout: float = 600) -> None:
    status, _ = send(api, "DELETE", f"/api/v1/namespaces/{NAMESPACE}", ok=(200, 202, 404))
    if status == 404:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        gone = send(api, "GET", f"/api/v1/namespaces/{NAMESPACE}", ok=(200, 404))[0] == 404
        if gone:
            say(f"  {NAMESPACE} removed")
            return
        time.sleep(2)
    raise TimeoutError(f"{NAMESPACE} still there after {timeout:.0f}s")
