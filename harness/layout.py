"""Where the harness keeps binaries, images, pid files, logs and cluster state.

Everything generated lives outside the repository (in ~/.cache/kubepci by default) so a
fresh clone stays clean and a warm cache survives `make cluster-down`.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HARNESS = REPO / "harness"


def _read_versions() -> dict[str, str]:
    # versions.env is shell syntax shared with build-k8s.sh; only KEY=VALUE lines matter.
    pairs: dict[str, str] = {}
    for line in (HARNESS / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            pairs[key.strip()] = value.strip().strip("\"'")
    return pairs


VERSIONS = _read_versions()
K8S_VERSION = VERSIONS["K8S_VERSION"]
ETCD_VERSION = VERSIONS["ETCD_VERSION"]
PAUSE_VERSION = VERSIONS["PAUSE_VERSION"]

CACHE = Path(os.environ.get("KUBEPCI_CACHE", Path.home() / ".cache" / "kubepci"))
BIN = CACHE / "bin" / f"k8s-{K8S_VERSION}"
IMAGES = CACHE / "images"
RUN = CACHE / "run"
LOGS = CACHE / "logs"
CLUSTERS = CACHE / "clusters"
CURRENT_ENV = CLUSTERS / "current.env"
OIDC_DIR = RUN / "oidc"


def tool(name: str) -> str:
    """Absolute path of a binary built by build-k8s.sh."""
    return str(BIN / name)


# Host locations kubeadm and the kubelet expect; fixed by Kubernetes, not by us.
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
CRI_ENDPOINT = f"unix://{CONTAINERD_SOCKET}"
ADMIN_CONF = Path("/etc/kubernetes/admin.conf")
# kubeadm's break-glass credential (O=system:masters). The runner does its setup work with
# it, because the compliant profile retires the kubeadm:cluster-admins binding that
# admin.conf relies on (a generic admin group, PCI 1.2).
SUPER_ADMIN_CONF = Path("/etc/kubernetes/super-admin.conf")
KUBELET_DIR = Path("/var/lib/kubelet")
CNI_CONF_DIR = Path("/etc/cni/net.d")
CNI_BIN_DIR = Path("/usr/lib/cni")
AUDIT_LOG_DIR = Path("/var/log/kubernetes/audit")

# The local OIDC issuer the compliant profile's API server trusts.
OIDC_HOST = "127.0.0.1"
OIDC_PORT = 9843
OIDC_ISSUER = f"https://{OIDC_HOST}:{OIDC_PORT}"
OIDC_AUDIENCE = "kubepci"
AUDITOR_EMAIL = "auditor@example.com"

# Image for fixture workloads; built from Debian's busybox-static, never pulled.
WORKLOAD_IMAGE = "kubepci.local/busybox:1.35"
