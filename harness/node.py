"""Facts about this host as a Kubernetes node, and kind's extraMounts on a host-as-node."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
from pathlib import Path

from harness.kindconfig import ExtraMount
from harness.kubeadm_config import Node
from harness.layout import RUN

MOUNTS_RECORD = RUN / "extra-mounts.json"


def detect() -> Node:
    """Name and IPv4 of the default-route interface: what kubeadm itself would pick."""
    routes = json.loads(
        subprocess.run(
            ["ip", "-j", "-4", "route", "show", "default"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    if not routes:
        raise RuntimeError("no IPv4 default route: kubeadm cannot pick a node IP")
    dev = routes[0]["dev"]
    addrs = json.loads(
        subprocess.run(
            ["ip", "-j", "-4", "addr", "show", "dev", dev],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    ip = next(a["local"] for link in addrs for a in link["addr_info"] if a["family"] == "inet")
    return Node(name=socket.gethostname().lower(), ip=ip)


def install_extra_mounts(mounts: list[ExtraMount]) -> None:
    """Our node is the host, so a kind extraMount becomes a copy of hostPath at containerPath.

    Copies rather than symlinks: the API server sees these files through its own hostPath
    volumes, and a copy keeps working if the repository moves or is edited mid-run.
    """
    installed: list[str] = []
    for mount in mounts:
        src, dest = mount.host_path, mount.container_path
        if not dest.is_absolute() or dest == Path("/"):
            raise ValueError(f"extraMount containerPath must be absolute, not /: {dest}")
        if not src.exists():
            raise FileNotFoundError(f"extraMount hostPath does not exist: {src}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest)
            if mount.read_only:
                dest.chmod(0o444)
        installed.append(str(dest))
    RUN.mkdir(parents=True, exist_ok=True)
    MOUNTS_RECORD.write_text(json.dumps(installed))


def remove_extra_mounts() -> None:
    try:
        installed = json.loads(MOUNTS_RECORD.read_text())
    except (FileNotFoundError, ValueError):
        return
    for dest in map(Path, installed):
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest, ignore_errors=True)
        else:
            dest.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # only if now empty, e.g. /etc/kubernetes/kubepci
            dest.parent.rmdir()
    MOUNTS_RECORD.unlink(missing_ok=True)
