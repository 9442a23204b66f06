"""Key files on a node's filesystem (``--node-root``): ownership and mode, never contents."""

from __future__ import annotations

import stat
from pathlib import Path

from kubepci.records.node_files import KeyFile
from kubepci.verdict import EvidenceUnavailable

SIGNING_KEYS = (
    "etc/kubernetes/pki/ca.key",
    "etc/kubernetes/pki/sa.key",
    "etc/kubernetes/pki/front-proxy-ca.key",
    "etc/kubernetes/pki/etcd/ca.key",
)
# kubeconfigs written by kubeadm embed client keys; kubelet-client-*.pem holds cert + key.
PRIVATE_KEY_GLOBS = (
    ("etc/kubernetes/pki", "**/*.key"),
    ("etc/kubernetes", "*.conf"),
    ("var/lib/kubelet/pki", "*.key"),
    ("var/lib/kubelet/pki", "kubelet-client-*.pem"),
)


def _stat(root: Path, relative: Path) -> KeyFile:
    info = (root / relative).stat()
    return KeyFile(str(relative), info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode))


def signing_keys(node_root: str) -> list[KeyFile]:
    root = Path(node_root)
    found = [_stat(root, Path(p)) for p in SIGNING_KEYS if (root / p).is_file()]
    if not found:
        raise EvidenceUnavailable(
            f"no CA or signing key under {root / 'etc/kubernetes/pki'}: not a control-plane node,"
            " or keys kept elsewhere"
        )
    return found


def all_private_keys(node_root: str) -> list[KeyFile]:
    root = Path(node_root)
    found: dict[str, KeyFile] = {}
    for base, pattern in PRIVATE_KEY_GLOBS:
        directory = root / base
        if not directory.is_dir():
            continue
        for path in directory.glob(pattern):
            if path.is_file() and not path.is_symlink():
                key = _stat(root, path.relative_to(root))
                found[key.path] = key
    if not found:
        raise EvidenceUnavailable(
            f"no private key files under {root}/etc/kubernetes or {root}/var/lib/kubelet/pki"
        )
    return [found[k] for k in sorted(found)]
