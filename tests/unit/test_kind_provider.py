"""The kind provider's pure parts: the runc wrapper, the node image's config edits, paths
resolved inside a rootfs, and node-level fixture hooks reaching nodes through one interface.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness import fixtures, kind_image, kind_image_specs
from harness.kubectl import Kubectl

REPO = Path(__file__).resolve().parents[2]
WRAPPER = REPO / "harness" / "kind" / "runc-no-sys-resource"
ALL_CAPS = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_NET_ADMIN"]
KIND_CONTAINERD = """\
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    # use systemd cgroup by default
    SystemdCgroup = true
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  restrict_oom_score_adj = false
"""


def _run_wrapper(tmp_path: Path, *args: str) -> None:
    env = {**os.environ, "KUBEPCI_RUNC": "/bin/true"}
    subprocess.run([str(WRAPPER), "--root", "/run/x", *args], check=True, env=env, cwd=tmp_path)


def test_wrapper_drops_only_cap_sys_resource_from_a_bundle(tmp_path: Path) -> None:
    caps = {s: list(ALL_CAPS) for s in ("bounding", "effective", "permitted")}
    (tmp_path / "config.json").write_text(json.dumps({"process": {"capabilities": caps}}))
    _run_wrapper(tmp_path, "create", "--bundle", str(tmp_path), "ctr-1")
    written = json.loads((tmp_path / "config.json").read_text())["process"]["capabilities"]
    expected = [c for c in ALL_CAPS if c != "CAP_SYS_RESOURCE"]
    assert written == {s: expected for s in ("bounding", "effective", "permitted")}


def test_wrapper_drops_it_from_an_exec_process_too(tmp_path: Path) -> None:
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"capabilities": {"bounding": list(ALL_CAPS)}}))
    _run_wrapper(tmp_path, "exec", "--process", str(process), "ctr-1")
    assert "CAP_SYS_RESOURCE" not in json.loads(process.read_text())["capabilities"]["bounding"]


def test_wrapper_leaves_other_commands_alone(tmp_path: Path) -> None:
    spec = json.dumps({"process": {"capabilities": {"bounding": list(ALL_CAPS)}}})
    (tmp_path / "config.json").write_text(spec)
    _run_wrapper(tmp_path, "state", "ctr-1")
    assert (tmp_path / "config.json").read_text() == spec


def test_containerd_config_changes_only_where_the_machine_needs_it() -> None:
    assert kind_image._containerd_config(KIND_CONTAINERD, cap_drop=False) == KIND_CONTAINERD
    edited = kind_image._containerd_config(KIND_CONTAINERD, cap_drop=True)
    assert "restrict_oom_score_adj = true" in edited
    assert 'BinaryName = "/kind/bin/runc-no-sys-resource"' in edited
    assert kind_image._sandbox_image(edited) == "registry.k8s.io/pause:3.10"


def test_paths_resolve_inside_the_rootfs(tmp_path: Path) -> None:
    (tmp_path / "usr/lib/x86_64-linux-gnu").mkdir(parents=True)
    (tmp_path / "usr/lib/x86_64-linux-gnu/ld.so").write_text("loader")
    (tmp_path / "lib").symlink_to("usr/lib")
    (tmp_path / "lib64").mkdir()
    # An absolute link must land in the rootfs, never on the host's /lib.
    (tmp_path / "lib64/ld-linux.so").symlink_to("/lib/x86_64-linux-gnu/ld.so")
    resolved = kind_image_specs._inside(tmp_path, "/lib64/ld-linux.so")
    assert resolved == tmp_path / "usr/lib/x86_64-linux-gnu/ld.so"
    assert resolved.read_text() == "loader"


@dataclass
class FakeNode:
    name: str
    role: str
    modes: dict[str, int] = field(default_factory=dict)

    def root(self) -> Path:
        return Path("/nonexistent")

    def chmod(self, path: str, mode: int) -> None:
        self.modes[path] = mode

    def read_text(self, path: str) -> str:
        raise AssertionError("not read")


def test_node_key_hook_reaches_every_control_plane_node_and_no_worker() -> None:
    cluster = [FakeNode("cp1", "control-plane"), FakeNode("cp2", "control-plane"),
               FakeNode("w1", "worker")]  # fmt: skip
    hook = REPO / "fixtures" / "noncompliant" / "80-node-key-permissions.py"
    fixtures._run_hook(hook, Kubectl(Path("/nonexistent")), cluster)
    planted = {"/etc/kubernetes/pki/sa.key": 0o644, "/etc/kubernetes/admin.conf": 0o644}
    assert [n.modes for n in cluster] == [planted, planted, {}]


def test_api_only_hooks_keep_their_one_argument_form(tmp_path: Path) -> None:
    hook = tmp_path / "hook.py"
    marker = tmp_path / "called"
    hook.write_text(
        f"def apply(kubectl):\n    open({str(marker)!r}, 'w').write(str(kubectl.kubeconfig))\n"
    )
    fixtures._run_hook(hook, Kubectl(tmp_path / "k.conf"), [FakeNode("n", "control-plane")])
    assert marker.read_text() == str(tmp_path / "k.conf")
