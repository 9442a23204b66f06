"""The synthetic estate: how many objects of each kind, and where each one lives.

The full estate is the brief's: 500 namespaces, 10,000 pods, 2,000 ServiceAccounts,
5,000 RoleBindings, 500 ClusterRoleBindings, 1,000 Services and 200 legacy token
Secrets. A smaller size keeps the same proportions and is a strict prefix of every
larger one (object ``i`` of a kind always lives in the same namespace), so the bench
grows one estate from size to size instead of rebuilding it.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "kubepci-bench"

# Per namespace in the full estate (500 namespaces).
PODS_PER_NS = 20
SAS_PER_NS = 4
RBS_PER_NS = 10
SVCS_PER_NS = 2
# Cluster-wide, per pod of the full estate: 500 ClusterRoleBindings, 200 Secrets.
PODS_PER_CRB = 20
PODS_PER_SECRET = 50
# Secret k lives in namespace k * 5 // 2 (200 Secrets over 500 namespaces).
SECRET_NS_NUM, SECRET_NS_DEN = 5, 2


@dataclass(frozen=True, order=True)
class Estate:
    pods: int
    namespaces: int
    service_accounts: int
    role_bindings: int
    cluster_role_bindings: int
    services: int
    secrets: int

    @property
    def total(self) -> int:
        return (
            self.namespaces
            + self.pods
            + self.service_accounts
            + self.role_bindings
            + self.cluster_role_bindings
            + self.services
            + self.secrets
        )

    def label(self) -> str:
        return f"{self.pods:,} pods / {self.namespaces:,} ns"


def scaled(pods: int) -> Estate:
    """The estate with ``pods`` pods, every other count in the full estate's proportion."""
    if pods < 1:
        raise ValueError(f"a size must be at least 1 pod, not {pods}")
    namespaces = max(1, -(-pods // PODS_PER_NS))
    return Estate(
        pods=pods,
        namespaces=namespaces,
        service_accounts=namespaces * SAS_PER_NS,
        role_bindings=namespaces * RBS_PER_NS,
        cluster_role_bindings=max(1, pods // PODS_PER_CRB),
        services=namespaces * SVCS_PER_NS,
        secrets=max(1, pods // PODS_PER_SECRET),
    )


FULL = scaled(10_000)


def parse_sizes(text: str) -> list[Estate]:
    """``"1000 10000"`` (or comma-separated) → estates, smallest first, no duplicates."""
    sizes: set[int] = set()
    for word in text.replace(",", " ").split():
        try:
            sizes.add(int(word.replace("_", "")))
        except ValueError:
            raise ValueError(f"SIZES: {word!r} is not a pod count") from None
    if not sizes:
        raise ValueError("SIZES: give at least one pod count, e.g. SIZES='1000 10000'")
    return [scaled(n) for n in sorted(sizes)]


# ---------------------------------------------------------------- names and placement
def namespace(index: int) -> str:
    return f"{PREFIX}-{index:04d}"


def pod_namespace(pod: int) -> int:
    return pod // PODS_PER_NS


def secret_namespace(secret: int, estate: Estate) -> int:
    return min(secret * SECRET_NS_NUM // SECRET_NS_DEN, estate.namespaces - 1)


def per_namespace(index: int, per_ns: int) -> tuple[int, int]:
    """(namespace index, index within the namespace) of the ``index``-th object."""
    return divmod(index, per_ns)


CLUSTER_ROLE = f"{PREFIX}-reader"


def cluster_role_binding(index: int) -> str:
    return f"{PREFIX}-{index:04d}"
