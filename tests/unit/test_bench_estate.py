"""Estate scaling and placement (bench.estate, bench.manifests)."""

from __future__ import annotations

import pytest

from bench import estate, manifests
from bench.estate import Estate


def test_full_estate_is_the_briefs() -> None:
    full = Estate(
        pods=10_000,
        namespaces=500,
        service_accounts=2_000,
        role_bindings=5_000,
        cluster_role_bindings=500,
        services=1_000,
        secrets=200,
    )
    assert full == estate.FULL


def test_smaller_sizes_keep_the_proportions() -> None:
    assert estate.scaled(1_000) == Estate(1_000, 50, 200, 500, 50, 100, 20)
    tiny = estate.scaled(7)
    assert (tiny.namespaces, tiny.cluster_role_bindings, tiny.secrets) == (1, 1, 1)


def test_sizes_parse_sorted_and_unique() -> None:
    sizes = estate.parse_sizes("10000, 1000 1_000")
    assert [s.pods for s in sizes] == [1_000, 10_000]
    with pytest.raises(ValueError, match="not a pod count"):
        estate.parse_sizes("1000 lots")
    with pytest.raises(ValueError, match="at least one"):
        estate.parse_sizes("  ")
    with pytest.raises(ValueError, match="at least 1 pod"):
        estate.scaled(0)


@pytest.mark.parametrize("kind", ["pods", "serviceaccounts", "rolebindings", "services"])
def test_a_smaller_estate_is_a_prefix_of_a_larger_one(kind: str) -> None:
    small = manifests.wave(kind, estate.scaled(1_000))
    large = manifests.wave(kind, estate.scaled(10_000))
    assert large[: len(small)] == small


def test_every_object_lands_in_a_namespace_of_its_estate() -> None:
    for size in (1, 19, 21, 999, 1_000):
        e = estate.scaled(size)
        names = {estate.namespace(i) for i in range(e.namespaces)}
        for kind in ("pods", "serviceaccounts", "rolebindings", "services", "secrets"):
            used = {o["metadata"]["namespace"] for o in manifests.wave(kind, e)}
            assert used <= names, (size, kind)


def test_names_are_unique_and_prefixed() -> None:
    e = estate.scaled(2_000)
    for kind in ("pods", "serviceaccounts", "rolebindings", "services", "secrets"):
        keys = [
            (o["metadata"]["namespace"], o["metadata"]["name"]) for o in manifests.wave(kind, e)
        ]
        assert len(set(keys)) == len(keys), kind
    bindings = manifests.wave("clusterrolebindings", e)
    assert all(b["metadata"]["name"].startswith("kubepci-bench-") for b in bindings)
    assert manifests.cluster_role()["metadata"]["name"] == "kubepci-bench-reader"


def test_pods_never_run_and_pods_on_bench_accounts_have_one() -> None:
    e = estate.scaled(100)
    accounts = {
        (a["metadata"]["namespace"], a["metadata"]["name"])
        for a in manifests.wave("serviceaccounts", e)
    }
    for pod in manifests.wave("pods", e):
        spec = pod["spec"]
        assert spec["schedulerName"] == manifests.SCHEDULER and "nodeName" not in spec
        assert spec["containers"][0]["imagePullPolicy"] == "Never"
        account = spec["serviceAccountName"]
        if account != "default":
            assert (pod["metadata"]["namespace"], account) in accounts


def test_the_mix_gives_the_checks_work() -> None:
    pods = manifests.wave("pods", estate.scaled(100))
    implicit = [p for p in pods if "automountServiceAccountToken" not in p["spec"]]
    long_tokens = [
        p
        for p in pods
        for v in p["spec"].get("volumes", [])
        if v["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] > 86400
    ]
    assert len(implicit) == 40 and len(long_tokens) == 20
    secret = manifests.wave("secrets", estate.scaled(100))[0]
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["annotations"][manifests.LEGACY_TOKEN_ANNOTATION].startswith(
        "bench-sa-"
    )


def test_api_paths() -> None:
    assert manifests.api_path(manifests.namespace(3)) == "/api/v1/namespaces"
    assert manifests.api_path(manifests.pod(0)) == "/api/v1/namespaces/kubepci-bench-0000/pods"
    assert (
        manifests.api_path(manifests.role_binding(10))
        == "/apis/rbac.authorization.k8s.io/v1/namespaces/kubepci-bench-0001/rolebindings"
    )
    assert (
        manifests.api_path(manifests.cluster_role())
        == "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    )
