"""kubectl's time for the suite's lists: ``kubectl get <resource> -A -o json`` of each.

The issue's yardstick for the large estates: what an operator's own sweep with kubectl
costs, one resource after another, with kubectl's default chunking (500 per page), its
output thrown away. Secrets are left out: kubectl has no metadata-only list, and the
bench never reads Secret data; the suite lists them (metadata only) anyway, so the
comparison leans against the suite.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field

from harness.kubectl import _binary

# The suite's lists (kubepci.access.snapshot.RESOURCES) as kubectl names them.
RESOURCES = (
    "nodes",
    "namespaces",
    "pods",
    "serviceaccounts",
    "services",
    "endpointslices.discovery.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "certificatesigningrequests.certificates.k8s.io",
)
LEFT_OUT = ("secrets",)


@dataclass
class KubectlLists:
    wall: float
    per_resource: dict[str, float] = field(default_factory=dict)


def measure(kubeconfig: str, timeout: float = 1800) -> KubectlLists:
    out = KubectlLists(0.0)
    started = time.monotonic()
    for resource in RESOURCES:
        begun = time.monotonic()
        with open(os.devnull, "wb") as sink:
            done = subprocess.run(
                [_binary(), f"--kubeconfig={kubeconfig}", "get", resource, "-A", "-o", "json"],
                stdout=sink,
                stderr=subprocess.PIPE,
                timeout=timeout,
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"kubectl get {resource} failed: {done.stderr.decode()[-400:]}")
        out.per_resource[resource] = time.monotonic() - begun
    out.wall = time.monotonic() - started
    return out
