"""Create and remove the estate with the admin kubeconfig, many requests in flight.

Only ``kubepci-bench-*`` namespaces and cluster-scoped ``kubepci-bench-*`` objects are
ever created or deleted; deleting the namespaces removes every namespaced object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kubernetes import client as k8s

from bench import manifests
from bench.estate import CLUSTER_ROLE, PREFIX, Estate
from bench.kube import ApiError, Obj, list_all, send

THREADS = 16
Say = Callable[[str], None]
RBAC = "/apis/rbac.authorization.k8s.io/v1"
SELECTOR = "app.kubernetes.io/part-of=" + PREFIX


@dataclass
class Populated:
    estate: Estate
    seconds: float
    created: dict[str, int] = field(default_factory=dict)


def _create(api: k8s.ApiClient, body: Obj) -> int:
    """1 if created, 0 if it already existed (the estate grows from size to size)."""
    status, _ = send(api, "POST", manifests.api_path(body), body=body, ok=(201, 409))
    return int(status == 201)


def create_all(api: k8s.ApiClient, bodies: Iterable[Obj], threads: int = THREADS) -> int:
    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(lambda body: _create(api, body), bodies))


def _wait(what: str, done: Callable[[], bool], timeout: float, say: Say) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(1)
    say(f"  {what}: done")


def _bench_namespaces(api: k8s.ApiClient) -> list[Obj]:
    return [
        n
        for n in list_all(api, "/api/v1/namespaces")
        if n["metadata"]["name"].startswith(PREFIX + "-")
    ]


def _default_accounts_ready(api: k8s.ApiClient, estate: Estate) -> bool:
    accounts = list_all(api, "/api/v1/serviceaccounts", fieldSelector="metadata.name=default")
    ready = sum(a["metadata"]["namespace"].startswith(PREFIX + "-") for a in accounts)
    return ready >= estate.namespaces


def _tokens_filled(api: k8s.ApiClient, estate: Estate) -> bool:
    secrets = list_all(
        api, "/api/v1/secrets", fieldSelector="type=kubernetes.io/service-account-token"
    )
    filled = [
        s
        for s in secrets
        if s["metadata"]["namespace"].startswith(PREFIX + "-") and "token" in (s.get("data") or {})
    ]
    return len(filled) >= estate.secrets


def populate(api: k8s.ApiClient, estate: Estate, say: Say) -> Populated:
    """Grow the estate to ``estate`` (objects that already exist are kept)."""
    started = time.monotonic()
    created: dict[str, int] = {}
    created["clusterroles"] = _create(api, manifests.cluster_role())
    for kind in ("namespaces", "serviceaccounts"):
        created[kind] = create_all(api, manifests.wave(kind, estate))
        say(f"  {kind}: {created[kind]} created")
    # Pods are rejected until their namespace's default ServiceAccount exists.
    _wait("default ServiceAccounts", lambda: _default_accounts_ready(api, estate), 600, say)
    for kind in ("pods", "rolebindings", "clusterrolebindings", "services", "secrets"):
        created[kind] = create_all(api, manifests.wave(kind, estate))
        say(f"  {kind}: {created[kind]} created")
    _wait(
        "legacy tokens filled by the token controller",
        lambda: _tokens_filled(api, estate),
        300,
        say,
    )
    return Populated(estate, time.monotonic() - started, created)


def require(api: k8s.ApiClient, estate: Estate) -> None:
    """Refuse to measure an estate that is not all there (--reuse-estate)."""
    # One item and the server's count of the rest: no need to list 150,000 pods for it.
    _, data = send(api, "GET", "/api/v1/pods", query=[("limit", 1)])
    page = json.loads(data)
    count = len(page.get("items") or []) + int(page["metadata"].get("remainingItemCount") or 0)
    if count < estate.pods:
        raise RuntimeError(
            f"--reuse-estate: {count:,} pods on the cluster, {estate.pods:,} wanted; "
            "populate first (python -m bench.populate SIZE)"
        )


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.populate 150000``: grow the estate and leave it (for --reuse-estate)."""
    import sys

    from bench.estate import parse_sizes
    from bench.kube import api_client
    from harness import cluster_state

    size = (argv or sys.argv[1:] or ["10000"])[0]
    estate = parse_sizes(size)[-1]
    admin = api_client(cluster_state.read()["ADMIN_KUBECONFIG"], pool=THREADS)
    done = populate(admin, estate, lambda m: print(f"populate: {m}", flush=True))
    print(f"populate: {estate.label()} in {done.seconds:.0f}s")
    return 0


def _delete(api: k8s.ApiClient, path: str) -> None:
    send(api, "DELETE", path, ok=(200, 202, 404))


def cleanup(api: k8s.ApiClient, say: Say, timeout: float = 900) -> float:
    """Delete every kubepci-bench-* namespace and cluster-scoped object; wait until gone."""
    started = time.monotonic()
    bindings = [
        b["metadata"]["name"]
        for b in list_all(api, f"{RBAC}/clusterrolebindings", labelSelector=SELECTOR)
        if b["metadata"]["name"].startswith(PREFIX + "-")
    ]
    paths = [f"{RBAC}/clusterrolebindings/{name}" for name in bindings]
    paths.append(f"{RBAC}/clusterroles/{CLUSTER_ROLE}")
    namespaces = [n["metadata"]["name"] for n in _bench_namespaces(api)]
    paths += [f"/api/v1/namespaces/{name}" for name in namespaces]
    if len(paths) > 1:
        say(f"cleanup: {len(bindings)} ClusterRoleBindings, {len(namespaces)} namespaces")
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda path: _delete(api, path), paths))
    _wait("bench namespaces gone", lambda: not _bench_namespaces(api), timeout, say)
    return time.monotonic() - started


def server_version(api: k8s.ApiClient) -> str:
    try:
        return str(json.loads(send(api, "GET", "/version")[1]).get("gitVersion", "?"))
    except ApiError as exc:
        return f"unknown ({exc})"


if __name__ == "__main__":
    raise SystemExit(main())
