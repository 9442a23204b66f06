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
