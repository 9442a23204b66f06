"""Debian packages and kernel settings a kubeadm node needs; installed idempotently.

CI starts from a fresh Debian 12 machine, so nothing here may assume a manual setup step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# runc runs the containers; the CNI plugins give pods real IPs; busybox-static is the
# workload image; the rest are what kubeadm's preflight and the kubelet shell out to.
PACKAGES = (
    "runc",
    "containernetworking-plugins",
    "busybox-static",
    "iproute2",
    "iptables",
    "conntrack",
    "socat",
    "ethtool",
    "kmod",
)


def _installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() == "install ok installed"


def ensure_packages() -> None:
    missing = [p for p in PACKAGES if not _installed(p)]
    if not missing:
        return
    print(f"[host] installing {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
    )


def _write_sysctl(key: str, value: str) -> None:
    path = Path("/proc/sys") / key.replace(".", "/")
    if path.exists():
        path.write_text(value)


def prepare_kernel() -> None:
    """Forwarding and bridge netfilter for pod traffic; modules only where loadable."""
    if shutil.which("modprobe"):
        for module in ("overlay", "br_netfilter"):
            # Built-in or absent modules (no /lib/modules on this VM) are not an error.
            subprocess.run(["modprobe", module], capture_output=True, check=False)
    _write_sysctl("net.ipv4.ip_forward", "1")
    # Present only when br_netfilter is built in or loaded; skipped otherwise.
    _write_sysctl("net.bridge.bridge-nf-call-iptables", "1")
    _write_sysctl("net.bridge.bridge-nf-call-ip6tables", "1")


def ensure_host() -> None:
    if os.geteuid() != 0:
        raise SystemExit("the cluster harness must run as root (it runs kubeadm and the kubelet)")
    ensure_packages()
    prepare_kernel()


# The kind provider's container engine and node-image tools (harness/docker_daemon.py,
# harness/kind_image.py); only installed when the kind provider is used.
KIND_PACKAGES = ("docker.io", "mmdebstrap", "jq")
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


def ensure_docker_package() -> None:
    """Debian's docker.io and mmdebstrap, without letting apt start any service.

    docker.io pulls in Debian's containerd, whose init script would otherwise start it on
    /run/containerd/containerd.sock, the socket the harness's own containerd uses; dockerd
    is started by harness/docker_daemon.py with its own managed containerd instead.
    """
    missing = [p for p in KIND_PACKAGES if not _installed(p)]
    if not missing:
        return
    print(f"[host] installing {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    placed = not POLICY_RC_D.exists()
    if placed:
        POLICY_RC_D.write_text("#!/bin/sh\n# kubepci: no service starts during install\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
        )
    finally:
        if placed:
            POLICY_RC_D.unlink(missing_ok=True)
