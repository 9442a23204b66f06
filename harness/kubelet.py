"""The kubelet as a supervised process, with the flags kubeadm's systemd drop-in would give.

kubeadm's kubelet-start phase writes /var/lib/kubelet/config.yaml, kubeadm-flags.env and
the (bootstrap-)kubelet.conf, then tries `systemctl restart kubelet`, which cannot work
without systemd. kubeadm only warns about that and goes on to wait for the control plane,
so the runner starts the kubelet itself as soon as those files appear.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path

from harness import supervise
from harness.layout import KUBELET_DIR, tool

NAME = "kubelet"
CONFIG = KUBELET_DIR / "config.yaml"
FLAGS_ENV = KUBELET_DIR / "kubeadm-flags.env"
KUBECONFIG = Path("/etc/kubernetes/kubelet.conf")
BOOTSTRAP_KUBECONFIG = Path("/etc/kubernetes/bootstrap-kubelet.conf")


def kubeadm_flags() -> list[str]:
    """KUBELET_KUBEADM_ARGS from kubeadm-flags.env, split like systemd would."""
    for line in FLAGS_ENV.read_text().splitlines():
        if line.startswith("KUBELET_KUBEADM_ARGS="):
            value = line.split("=", 1)[1].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]  # systemd's EnvironmentFile quoting
            return shlex.split(value)
    return []


def argv() -> list[str]:
    # The same flags as kubeadm's 10-kubeadm.conf systemd drop-in.
    return [
        tool("kubelet"),
        f"--bootstrap-kubeconfig={BOOTSTRAP_KUBECONFIG}",
        f"--kubeconfig={KUBECONFIG}",
        f"--config={CONFIG}",
        *kubeadm_flags(),
    ]


def wait_for_kubeadm_files(timeout_s: float, abort: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if CONFIG.exists() and FLAGS_ENV.exists():
            return
        if abort():
            raise RuntimeError("kubeadm exited before writing the kubelet configuration")
        time.sleep(0.2)
    raise RuntimeError(f"kubeadm did not write {CONFIG} and {FLAGS_ENV} in {timeout_s:.0f}s")


def start() -> None:
    supervise.start(NAME, argv())


def stop() -> None:
    supervise.stop(NAME)
