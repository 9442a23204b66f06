"""Build kind's node image on this machine: no registry, nothing downloaded but Debian
packages (mmdebstrap) and Go modules (harness/build-kind.sh).

    .venv/bin/python -m harness.kind_image      # prints the image name as its last line

Two docker images, both cached (docker's store, and ~/.cache/kubepci/kind/ for the rootfs):

1. `kubepci.local/kind-base:<digest>`: what kind's `images/base/Dockerfile` builds
   (Debian + systemd + iptables + kind's own static files from the kind module of the
   pinned version), made with mmdebstrap and `docker import`; rebuilt only when its package
   list or kind's files change.
2. `kubepci.local/kind-node:<K8S_VERSION>`: what `kind build node-image` adds: kubeadm,
   kubelet and kubectl, containerd (all built from source), `/kind/version`, kind's CNI
   manifest (for kindnetd, built from harness/kindnetd), and every image the cluster runs
   pre-loaded into the node's containerd (`ctr images import --no-unpack`, as kind does),
   each named as kubeadm lists it. Labelled with a digest of its inputs, so a warm build
   is a no-op.

This machine's quirks are handled only when found here: the runc wrapper that drops
CAP_SYS_RESOURCE (harness/docker_daemon.py decided it by trying a privileged container)
and `--fail-cgroupv1=false` on a cgroup v1 host. A user's kind never sees either: they
use kind's published images.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import docker_daemon, hostdeps, images, kind_image_specs
from harness.images import ImageSpec
from harness.layout import BIN, CACHE, HARNESS, K8S_VERSION, LOGS, VERSIONS, tool

KIND_VERSION = VERSIONS["KIND_VERSION"]
KIND_CACHE = CACHE / "kind"
BASE_REPO = "kubepci.local/kind-base"
NODE_IMAGE = f"kubepci.local/kind-node:{K8S_VERSION}"
DIGEST_LABEL = "kubepci.local/inputs-digest"
CUSTOMIZE = HARNESS / "kind" / "customize-rootfs.sh"
WRAPPER = HARNESS / "kind" / "runc-no-sys-resource"
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SUITE = "bookworm"
# As kind's base image ends: systemd is told it runs in a container, stops on SIGRTMIN+3.
NODE_DOCKERFILE = (
    """\
FROM {base}
COPY rootfs/ /
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
LABEL """
    + DIGEST_LABEL
    + """={digest}
"""
)

# kind's base image package list (images/base/Dockerfile), less the network-storage and
# fuse packages nothing here uses, plus Debian's runc and CNI plugins (kind builds its own)
# and netbase (/etc/protocols for iptables).
PACKAGES = (
    "systemd",
    "conntrack",
    "iptables",
    "nftables",
    "iproute2",
    "ethtool",
    "util-linux",
    "mount",
    "kmod",
    "libseccomp2",
    "pigz",
    "e2fsprogs",
    "bash",
    "ca-certificates",
    "curl",
    "jq",
    "procps",
    "runc",
    "containernetworking-plugins",
    "netbase",
)


def log(message: str) -> None:
    print(f"[kind-image] {message}", flush=True)


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def _tree_digest(root: Path) -> str:
    """Content digest of a staged tree (paths, modes, bytes): decides whether to rebuild."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(f"{path.relative_to(root)}:{path.lstat().st_mode}".encode())
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


def kind_source() -> Path:
    """kind's module source (its base image files and CNI manifest) from the Go proxy."""
    done = subprocess.run(
        ["go", "mod", "download", "-json", f"sigs.k8s.io/kind@{KIND_VERSION}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(json.loads(done.stdout)["Dir"])


def build_binaries() -> Path:
    """harness/build-k8s.sh then harness/build-kind.sh; returns the kind bin directory."""
    subprocess.run([str(HARNESS / "build-k8s.sh")], check=True, stdout=subprocess.DEVNULL)
    done = subprocess.run(
        [str(HARNESS / "build-kind.sh")], check=True, stdout=subprocess.PIPE, text=True
    )
    return Path(done.stdout.strip().splitlines()[-1])


def _docker(*args: str, stdin: int | None = None) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, stdin=stdin)
    if done.returncode:
        raise RuntimeError(f"docker {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def _image_label(image: str) -> str | None:
    done = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return None
    labels = json.loads(done.stdout) or {}
    return str(labels.get(DIGEST_LABEL, ""))


def base_image(kind_src: Path) -> tuple[str, Path]:
    """The base image's tag and its rootfs (kept: the node image's pod images use its files)."""
    digest = _digest(
        PACKAGES, SUITE, CUSTOMIZE.read_text(), SOURCES.read_text(), KIND_VERSION, "v1"
    )
    tag = f"{BASE_REPO}:{digest}"
    rootfs = KIND_CACHE / f"rootfs-{digest}"
    if rootfs.is_dir() and _image_label(tag) == digest:
        return tag, rootfs
    if not rootfs.is_dir():
        partial = KIND_CACHE / f"rootfs-{digest}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        KIND_CACHE.mkdir(parents=True, exist_ok=True)
        log(f"mmdebstrap {SUITE} rootfs ({len(PACKAGES)} packages)")
        with open(LOGS / "kind-mmdebstrap.log", "wb") as out:
            subprocess.run(
                [
                    "mmdebstrap",
                    "--variant=minbase",
                    "--mode=root",
                    "--format=directory",
                    f"--include={','.join(PACKAGES)}",
                    "--dpkgopt=path-exclude=/usr/share/doc/*",
                    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
                    "--dpkgopt=path-exclude=/usr/share/man/*",
                    "--dpkgopt=path-exclude=/usr/share/locale/*",
                    f'--customize-hook={CUSTOMIZE} "$1" {kind_src}',
                    SUITE,
                    str(partial),
                    str(SOURCES),
                ],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        partial.rename(rootfs)
    log(f"docker import {tag}")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    assert tar.stdout is not None
    # The node layer's Dockerfile sets ENV, STOPSIGNAL and ENTRYPOINT (`docker import`
    # takes no STOPSIGNAL).
    _docker(
        "import", "--change", f"LABEL {DIGEST_LABEL}={digest}", "-", tag, stdin=tar.stdout.fileno()
    )
    if tar.wait():
        raise RuntimeError(f"tar of {rootfs} failed")
    return tag, rootfs


def cgroup_v1() -> bool:
    return not Path("/sys/fs/cgroup/cgroup.controllers").exists()


def _containerd_config(text: str, cap_drop: bool) -> str:
    """kind's containerd config; on this VM only, the wrapper and a clamped oom_score_adj."""
    if not cap_drop:
        return text
    text = text.replace("restrict_oom_score_adj = false", "restrict_oom_score_adj = true")
    options = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n'
    if options not in text:
        raise RuntimeError("kind's containerd config has no runc options table to extend")
    wrapper = '  BinaryName = "/kind/bin/runc-no-sys-resource"\n'
    return text.replace(options, options + wrapper)


def _sandbox_image(config_text: str) -> str:
    match = re.search(r'sandbox_image\s*=\s*"([^"]+)"', config_text)
    if not match:
        raise RuntimeError("kind's containerd config names no sandbox_image")
    return match.group(1)


def _cri_base_spec() -> str:
    """`ctr oci spec` as kind's Dockerfile turns it into /etc/containerd/cri-base.json."""
    spec = json.loads(
        subprocess.run(
            [tool("ctr"), "oci", "spec"], capture_output=True, text=True, check=True
        ).stdout
    )
    hooks = spec.setdefault("hooks", {}).setdefault("createContainer", [])
    hooks.append({"path": "/kind/bin/mount-product-files.sh"})
    spec["process"].pop("rlimits", None)
    return json.dumps(spec, indent=2) + "\n"


def _stage_node_files(stage: Path, kind_bin: Path, base_rootfs: Path, cap_drop: bool) -> str:
    """Everything the node layer adds, under STAGE/rootfs; returns the sandbox image."""
    root = stage / "rootfs"
    for name in ("kubeadm", "kubelet", "kubectl"):
        _install(BIN / name, root / "usr/bin" / name)
    for name in ("containerd", "ctr", "containerd-shim-runc-v2"):
        _install(BIN / name, root / "usr/local/bin" / name)
    config = _containerd_config((base_rootfs / "etc/containerd/config.toml").read_text(), cap_drop)
    _write(root / "etc/containerd/config.toml", config)
    _write(root / "etc/containerd/cri-base.json", _cri_base_spec())
    kubelet_args = (base_rootfs / "etc/default/kubelet").read_text().strip()
    if cgroup_v1():
        # kubelet >= 1.35 refuses cgroup v1 unless told otherwise; a flag kept undeprecated
        # for this purpose (cmd/kubelet/app/options/options.go, "fail-cgroupv1").
        kubelet_args += " --fail-cgroupv1=false"
    _write(root / "etc/default/kubelet", kubelet_args + "\n")
    if cap_drop:
        _install(WRAPPER, root / "kind/bin" / WRAPPER.name)
    _write(root / "kind/version", K8S_VERSION)
    _write(
        root / "kind/manifests/default-cni.yaml",
        kind_image_specs.cni_manifest(kind_source(), kind_image_specs.KINDNETD_IMAGE),
    )
    return _sandbox_image(config)


def _install(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    dest.chmod(0o755)


def _write(dest: Path, text: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)


def _preload(root: Path, specs: list[ImageSpec], work: Path) -> None:
    """Import every image into ROOT/var/lib/containerd with a containerd of our own.

    It runs on sockets and a state directory of its own, CRI and NRI off, so the
    harness's containerd (/run/containerd) is never touched.
    """
    run_dir = Path(tempfile.mkdtemp(prefix="kubepci-kind-", dir="/run"))
    socket = run_dir / "containerd.sock"
    config = run_dir / "config.toml"
    config.write_text(
        "version = 3\n"
        f'root = "{root / "var/lib/containerd"}"\n'
        f'state = "{run_dir / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images",'
        ' "io.containerd.cri.v1.runtime", "io.containerd.nri.v1.nri"]\n'
        f'[grpc]\n  address = "{socket}"\n'
        f'[ttrpc]\n  address = "{socket}.ttrpc"\n'
    )
    daemon = subprocess.Popen(
        [tool("containerd"), "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=open(LOGS / "kind-preload-containerd.log", "wb"),  # noqa: SIM115
    )
    ctr = [tool("ctr"), "--address", str(socket), "--namespace", "k8s.io"]
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([*ctr, "version"], capture_output=True).returncode:
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise RuntimeError("the preload containerd did not come up")
            time.sleep(0.3)
        for spec in specs:
            archive = images.build_archive(spec, work / f"{spec.source_digest()}.tar")
            subprocess.run(
                [
                    *ctr,
                    "images",
                    "import",
                    "--label=io.cri-containerd.pinned=pinned",
                    "--all-platforms",
                    "--no-unpack",
                    "--digests",
                    str(archive),
                ],
                check=True,
                capture_output=True,
            )
        listed = subprocess.run(
            [*ctr, "images", "list", "-q"], capture_output=True, text=True, check=True
        ).stdout.split()
        missing = {s.name for s in specs} - set(listed)
        if missing:
            raise RuntimeError(f"preload lost images: {sorted(missing)}")
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        shutil.rmtree(run_dir, ignore_errors=True)


def load_balancer(kind_src: Path, kind_bin: Path, base_rootfs: Path) -> str:
    """kind's HA load balancer image, in docker (kind runs it beside the nodes)."""
    name = kind_image_specs.load_balancer_image(kind_src)
    spec = kind_image_specs.load_balancer_spec(name, base_rootfs, kind_bin)
    digest = spec.source_digest()
    if _image_label(name) == digest:
        return name
    log(f"docker import {name} (harness/kind-lb standing in for envoy)")
    with tempfile.TemporaryDirectory(dir=KIND_CACHE, prefix="lb-") as tmp:
        archive = images.write_rootfs(spec, Path(tmp) / "rootfs.tar")
        _docker(
            "import",
            "--change",
            f"LABEL {DIGEST_LABEL}={digest} kubepci.local/stands-in-for=envoy",
            str(archive),
            name,
        )
    return name


def build() -> str:
    """The node image's name, built (or found up to date) in the local docker."""
    hostdeps.ensure_docker_package()
    docker_daemon.ensure()
    cap_drop = docker_daemon.needs_cap_drop()
    kind_bin = build_binaries()
    kind_src = kind_source()
    base_tag, base_rootfs = base_image(kind_src)
    load_balancer(kind_src, kind_bin, base_rootfs)
    with tempfile.TemporaryDirectory(dir=KIND_CACHE, prefix="node-") as tmp:
        stage = Path(tmp)
        sandbox = _stage_node_files(stage, kind_bin, base_rootfs, cap_drop)
        specs = kind_image_specs.pod_images(kind_bin, base_rootfs, sandbox)
        digest = _digest(
            base_tag,
            cap_drop,
            cgroup_v1(),
            sorted(s.source_digest() for s in specs),
            _tree_digest(stage / "rootfs"),
        )
        if _image_label(NODE_IMAGE) == digest:
            log(f"{NODE_IMAGE} is up to date")
            return NODE_IMAGE
        log(f"pre-loading {len(specs)} images into the node's containerd")
        _preload(stage / "rootfs", specs, stage / "archives")
        (stage / "Dockerfile").write_text(NODE_DOCKERFILE.format(base=base_tag, digest=digest))
        log(f"docker build {NODE_IMAGE}")
        subprocess.run(
            ["docker", "build", "-q", "-t", NODE_IMAGE, str(stage)],
            check=True,
            stdout=subprocess.DEVNULL,
            env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"},
        )
    return NODE_IMAGE


def main() -> int:
    started = time.monotonic()
    docker_was_up = docker_daemon.responding()
    try:
        image = build()
    except (RuntimeError, subprocess.CalledProcessError) as err:
        log(f"FAILED: {err}")
        return 1
    finally:
        if not docker_was_up:
            docker_daemon.stop()  # a dockerd started for the build ends with it
    log(f"done in {time.monotonic() - started:.0f}s")
    print(image, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
