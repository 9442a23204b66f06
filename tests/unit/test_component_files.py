"""Settings files named by component flags, read under --node-root."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubepci.access.component_files import MAX_BYTES, read_config_file, with_config_files
from kubepci.analysis.flags import ComponentFlags


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc/kubernetes").mkdir(parents=True)
    (tmp_path / "etc/hostname").write_text("cp-1\n")
    (tmp_path / "etc/kubernetes/authn.yaml").write_text("apiVersion: v1\nkind: X\n")
    return tmp_path


def test_read_at_the_flag_path_under_the_root(root: Path) -> None:
    file = read_config_file(
        str(root), "authentication-config", "/etc/kubernetes/authn.yaml", "cp-1", 1
    )
    assert file.document == {"apiVersion": "v1", "kind": "X"}
    assert file.read_from == str(root / "etc/kubernetes/authn.yaml")
    assert file.unread == ""


@pytest.mark.parametrize(
    ("setup", "path", "node", "peers", "reason"),
    [
        (None, "/etc/kubernetes/authn.yaml", "cp-1", 1, "--node-root"),
        ("", "/etc/kubernetes/missing.yaml", "cp-1", 1, "No such file"),
        ("[a, b]", "/etc/kubernetes/list.yaml", "cp-1", 1, "holds no mapping"),
        ("a: [", "/etc/kubernetes/bad.yaml", "cp-1", 1, "cannot read"),
        ("x" * (MAX_BYTES + 1), "/etc/kubernetes/big.yaml", "cp-1", 1, "larger than"),
        ("a: 1", "/etc/kubernetes/other.yaml", "cp-2", 2, "runs on node cp-2"),
    ],
)
def test_not_read(
    root: Path, setup: str | None, path: str, node: str, peers: int, reason: str
) -> None:
    if setup:
        (root / path.lstrip("/")).write_text(setup)
    node_root = "" if setup is None else str(root)
    file = read_config_file(node_root, "config", path, node, peers)
    assert file.document is None
    assert reason in file.unread
    assert file.unread.startswith(f"--config={path}: ")


def test_several_nodes_read_only_the_local_one(root: Path) -> None:
    def apiserver(node: str) -> ComponentFlags:
        return ComponentFlags("kube-apiserver", f"kube-system/kube-apiserver-{node}", node,
                              {"authentication-config": "/etc/kubernetes/authn.yaml"})  # fmt: skip

    local, remote = with_config_files([apiserver("cp-1"), apiserver("cp-2")], str(root))
    assert local.files["authentication-config"].document is not None
    assert remote.files["authentication-config"].document is None
    assert apiserver("cp-1").files == {}  # the originals are left as they were
