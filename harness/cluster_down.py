"""Remove the local cluster and everything it left on the host; keep the image cache.

    .venv/bin/python -m harness.cluster_down

Order matters: the kubelet stops first (or it recreates pods), kubeadm reset removes pods
through the CRI (so CNI tears down each pod's netns and veth), then containerd stops. What
a crashed run may have left (containers, shims, mounts, netns, iptables chains, cni0) is
removed explicitly, and the host is checked: no harness process, mount or port remains.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import cluster_state, cni, containerd, kubelet, node, oidc_issuer, supervise
from harness.layout import (
    ADMIN_CONF,
    BIN,
    CONTAINERD_SOCKET,
    CRI_ENDPOINT,
    KUBELET_DIR,
    LOGS,
    OIDC_PORT,
    tool,
)

# API server, etcd (client, peer, metrics), kubelet (healthz, API, read-only),
# controller-manager, scheduler, kube-proxy's ports, and the OIDC issuer.
CLUSTER_PORTS = {6443, 2379, 2380, 2381, 10248, 10249, 10250, 10255, 10256, 10257, 10259}
CLUSTER_PORTS.add(OIDC_PORT)
MOUNT_PREFIXES = ("/var/lib/kubelet", "/run/containerd/", "/run/netns/cni-", "/var/lib/containerd/")
MANIFESTS = Path("/etc/kubernetes/manifests")
SUPERVISED = (kubelet.NAME, containerd.NAME, oidc_issuer.NAME)
# Host daemons the harness runs from the cache (kubectl is left alone: others may use it).
DAEMONS = ("containerd", "containerd-shim-runc-v2", "kubelet")


def log(message: str) -> None:
    print(f"[cluster-down] {message}", flush=True)


def _mounts() -> list[str]:
    points = []
    for line in Path("/proc/mounts").read_text().splitlines():
        point = line.split()[1].encode().decode("unicode_escape")  # \040 etc.
        if point.startswith(MOUNT_PREFIXES):
            points.append(point)
    return points


def _harness_processes() -> list[int]:
    """Pids of our daemons and of anything in the kubelet's pod cgroups."""
    daemons = {str(BIN / d) for d in DAEMONS}
    ours = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            exe = os.readlink(entry / "exe")
            cgroups = (entry / "cgroup").read_text()
        except OSError:
            continue
        if exe in daemons or "/kubepods" in cgroups:
            ours.append(int(entry.name))
    return ours


def _listening_ports() -> set[int]:
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A":  # LISTEN
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports & CLUSTER_PORTS


def anything_up() -> bool:
    return bool(
        any(supervise.running_pid(n) for n in SUPERVISED)
        or cluster_state.read()
        or (MANIFESTS.is_dir() and any(MANIFESTS.iterdir()))
        or ADMIN_CONF.exists()
        or _harness_processes()
    )


def _kubeadm_reset() -> None:
    if not (BIN / "kubeadm").exists() or not (BIN / "containerd").exists():
        return
    containerd.start(pause_image=None)  # reset removes pods through the CRI
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / "kubeadm-reset.log", "wb") as out:
        subprocess.run(
            [tool("kubeadm"), "reset", "-f", f"--cri-socket={CRI_ENDPOINT}", "--v=1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=180,
            env={"PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin"},
        )


def _ctr(*args: str) -> list[str]:
    result = subprocess.run(
        [tool("ctr"), "--address", CONTAINERD_SOCKET, "--namespace", "k8s.io", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result.stdout.split()


def _remove_leftover_containers() -> None:
    if supervise.running_pid(containerd.NAME) is None:
        return
    for task in _ctr("tasks", "list", "--quiet"):
        _ctr("tasks", "kill", "--signal", "SIGKILL", task)
    time.sleep(0.5)
    for task in _ctr("tasks", "list", "--quiet"):
        _ctr("tasks", "delete", "--force", task)
    containers = _ctr("containers", "list", "--quiet")
    if containers:
        log(f"removing {len(containers)} leftover containers")
        _ctr("containers", "delete", *containers)


def _kill_leftovers() -> None:
    for pid in _harness_processes():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _unmount_leftovers() -> None:
    for point in sorted(_mounts(), key=len, reverse=True):
        if subprocess.run(["umount", point], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    netns = Path("/run/netns")
    if netns.is_dir():
        for ns in netns.glob("cni-*"):
            ns.unlink(missing_ok=True)


def _remove_iptables_chains() -> None:
    """Chains our CNI plugins and kubelet create (CNI-*, KUBE-FIREWALL, canaries).

    No kube-proxy runs here, so every KUBE-* chain is the kubelet's. CNI chains are
    normally gone with each pod's CNI DEL; this covers a crashed run.
    """
    for binary in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            _remove_chains(binary, table)


def _remove_chains(binary: str, table: str) -> None:
    rules = subprocess.run(
        [binary, "-t", table, "-S"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    ours = ("CNI-", "KUBE-")
    for rule in rules:
        words = rule.split()
        jumps_to_ours = "-j" in words and words[words.index("-j") + 1].startswith(ours)
        if rule.startswith("-A ") and jumps_to_ours and not words[1].startswith(ours):
            subprocess.run([binary, "-t", table, "-D", *words[1:]], check=False)
    chains = [r.split()[1] for r in rules if r.startswith("-N ") and r.split()[1].startswith(ours)]
    for action in ("-F", "-X"):
        for chain in chains:
            subprocess.run([binary, "-t", table, action, chain], capture_output=True, check=False)


def _remove_state() -> None:
    profile = cluster_state.read().get("PROFILE")
    if profile:
        shutil.rmtree(cluster_state.profile_dir(profile), ignore_errors=True)
    cluster_state.clear()
    # kubeadm reset empties these; remove what a failed init may have left.
    for path in (KUBELET_DIR, Path("/var/lib/etcd"), MANIFESTS):
        shutil.rmtree(path, ignore_errors=True)
    # Static pods keep their UID across bring-ups and the kubelet derives restart counts
    # from old log files, so stale logs would show every control-plane pod as restarted.
    for logs in (Path("/var/log/pods"), Path("/var/log/containers")):
        shutil.rmtree(logs, ignore_errors=True)
    for conf in Path("/etc/kubernetes").glob("*.conf"):
        conf.unlink()
    shutil.rmtree("/etc/kubernetes/pki", ignore_errors=True)


def leftovers() -> list[str]:
    problems = [f"process {pid}" for pid in _harness_processes()]
    problems += [f"supervised {n}" for n in SUPERVISED if supervise.running_pid(n)]
    problems += [f"mount {m}" for m in _mounts()]
    problems += [f"listening port {p}" for p in sorted(_listening_ports())]
    if Path(f"/sys/class/net/{cni.BRIDGE}").exists():
        problems.append(f"bridge {cni.BRIDGE}")
    return problems


def down() -> None:
    """Remove the cluster; raise if anything the harness started is still there."""
    with cluster_state.exclusive():
        if cluster_state.read().get("PROVIDER") == "kind":
            from harness import kind_cluster  # imports this module

            kind_cluster.down()
            return
        _down()


def _down() -> None:
    started = time.monotonic()
    kubelet.stop()
    if anything_up():
        log("kubeadm reset")
        _kubeadm_reset()
        _remove_leftover_containers()
    containerd.stop()
    _kill_leftovers()
    _unmount_leftovers()
    cni.remove_network()
    _remove_iptables_chains()
    oidc_issuer.stop()
    node.remove_extra_mounts()
    _remove_state()
    problems = leftovers()
    if problems:
        raise RuntimeError("left behind: " + ", ".join(problems))
    log(f"cluster removed in {time.monotonic() - started:.1f}s (image cache kept)")


def main() -> int:
    try:
        down()
    except Exception as err:
        log(f"FAILED: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
