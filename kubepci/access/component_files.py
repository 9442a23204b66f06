"""Settings files a control-plane component names in its flags, read under ``--node-root``.

The path is the one in the flag, read on the host: kubeadm mounts such files into the
static pod at the same path (``extraVolumes`` hostPath = mountPath), which is what this
assumes and the evidence says. Only the node the suite runs on can be read: a file of an
instance on another node is reported as not read rather than taken from the wrong host.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kubepci.analysis.flags import ComponentFlags, ConfigFile

MAX_BYTES = 1 << 20


def node_name(node_root: str) -> str:
    """The host name of the filesystem under ``node_root`` ('' when unknown)."""
    try:
        return (Path(node_root) / "etc/hostname").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def read_config_file(node_root: str, flag: str, path: str, on_node: str, peers: int) -> ConfigFile:
    """One file, as YAML (JSON is YAML too), or why it was not read.

    ``on_node`` is the instance's node; ``peers`` how many nodes run the component. With
    more than one, the file is read only when ``node_root`` is that node's.
    """
    if not node_root:
        return ConfigFile(flag, path, reason="the file is on the node; run with --node-root there")
    host = node_name(node_root)
    if peers > 1 and host != on_node:
        return ConfigFile(
            flag,
            path,
            reason=f"the instance runs on node {on_node}, and --node-root is "
            f"{host or 'an unnamed host'}'s filesystem",
        )
    file = Path(node_root) / path.lstrip("/")
    try:
        if file.stat().st_size > MAX_BYTES:
            return ConfigFile(flag, path, reason=f"{file} is larger than {MAX_BYTES} bytes")
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        return ConfigFile(flag, path, reason=f"cannot read {file}: {reason}")
    if not isinstance(document, dict):
        return ConfigFile(flag, path, reason=f"{file} holds no mapping")
    return ConfigFile(flag, path, read_from=str(file), document=document)


def with_config_files(instances: list[ComponentFlags], node_root: str) -> list[ComponentFlags]:
    """Each instance with the settings files it names attached (read or not)."""
    peers = len({i.node for i in instances})
    return [
        i.with_files(
            {
                flag: read_config_file(node_root, flag, path, i.node, peers)
                for flag, path in i.file_paths().items()
            }
        )
        for i in instances
    ]
