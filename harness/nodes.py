"""The nodes of the cluster that is up, as node-level fixtures and the tests reach them.

Two implementations of one small interface: `LocalNode` (the harness provider: this host is
the only node) and `KindNode` (a kind node container, reached with `docker exec`). A fixture
hook that changes something on a node (a file's mode, say) takes the list and never asks
which provider it runs on.
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CONTROL_PLANE = "control-plane"
WORKER = "worker"


class Node(Protocol):
    """One Kubernetes node whose filesystem a fixture may change."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    def root(self) -> Path:
        """The node's root filesystem as seen from this host (for --node-root)."""
        ...

    def chmod(self, path: str, mode: int) -> None: ...

    def read_text(self, path: str) -> str: ...


@dataclass(frozen=True)
class LocalNode:
    """This host, which the harness provider makes its single control-plane node."""

    name: str = socket.gethostname().lower()
    role: str = CONTROL_PLANE

    def root(self) -> Path:
        return Path("/")

    def chmod(self, path: str, mode: int) -> None:
        os.chmod(path, mode)

    def read_text(self, path: str) -> str:
        return Path(path).read_text()


@dataclass(frozen=True)
class KindNode:
    """A kind node container; its name is also the Kubernetes node name."""

    name: str
    role: str

    def _exec(self, *argv: str) -> str:
        done = subprocess.run(
            ["docker", "exec", self.name, *argv], capture_output=True, text=True, timeout=60
        )
        if done.returncode:
            raise RuntimeError(f"docker exec {self.name} {' '.join(argv)}: {done.stderr.strip()}")
        return done.stdout

    def root(self) -> Path:
        # The container's own mount namespace, seen through its init process: the image's
        # files, kind's /var volume and every extraMount, with their real modes and owners.
        pid = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Pid}}", self.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not pid.isdigit() or pid == "0":
            raise RuntimeError(f"kind node {self.name} is not running")
        return Path(f"/proc/{pid}/root")

    def chmod(self, path: str, mode: int) -> None:
        self._exec("chmod", f"{mode:o}", path)

    def read_text(self, path: str) -> str:
        return self._exec("cat", path)


def kind_nodes(cluster: str) -> list[KindNode]:
    """The node containers of kind cluster CLUSTER, from kind's own container labels."""
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "--filter",
            f"label=io.x-k8s.kind.cluster={cluster}",
            "--format",
            '{{.Names}}\t{{.Label "io.x-k8s.kind.role"}}',
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    nodes = []
    for line in sorted(listed.splitlines()):
        name, role = line.split("\t")
        if role in (CONTROL_PLANE, WORKER):  # not the external load balancer
            nodes.append(KindNode(name=name, role=role))
    return nodes
