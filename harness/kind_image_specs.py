"""The images a kind node runs, made here: names as kubeadm and kind ask for them.

Control-plane images, etcd, CoreDNS and pause are scratch images holding one static binary
(harness/images.py). kube-proxy and kindnetd shell out to iptables, so their images also
carry Debian's iptables and conntrack with the shared libraries they load, copied from the
node's own Debian rootfs, and a wrapper that picks the node's iptables backend the way kind's
entrypoint and kubernetes-sigs/iptables-wrappers do.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path, PurePosixPath

from harness import images
from harness.images import ImageSpec
from harness.layout import BIN, HARNESS, K8S_VERSION, VERSIONS, tool

KINDNETD_IMAGE = "kubepci.local/kindnetd:b0f7ea99"  # harness/kindnetd's kind commit
IPTABLES_TOOLS = (
    "/usr/sbin/xtables-nft-multi",
    "/usr/sbin/xtables-legacy-multi",
    "/usr/sbin/conntrack",
)
XTABLES_MODULES = "/usr/lib/x86_64-linux-gnu/xtables"
IPTABLES_NAMES = tuple(
    f"{family}{suffix}"
    for family in ("iptables", "ip6tables")
    for suffix in ("", "-save", "-restore")
)
# Picks the node's iptables backend; see the script.
IPTABLES_WRAPPER = HARNESS / "kind" / "iptables-wrapper"
BUSYBOX_APPLETS = ("sh", "cat", "grep", "basename")


def _inside(root: Path, path: str) -> Path:
    """PATH resolved within ROOT: absolute symlinks point into ROOT, never at the host."""
    parts = list(PurePosixPath(path).parts[1:])
    resolved = PurePosixPath("/")
    for _ in range(256):
        if not parts:
            return root / str(resolved).lstrip("/")
        part = parts.pop(0)
        if part == "..":
            resolved = resolved.parent
            continue
        host = root / str(resolved / part).lstrip("/")
        if host.is_symlink():
            target = PurePosixPath(os.readlink(host))
            if target.is_absolute():
                resolved = PurePosixPath("/")
                parts = list(target.parts[1:]) + parts
            else:
                parts = list(target.parts) + parts
        elif part != ".":
            resolved = resolved / part
    raise RuntimeError(f"symlink loop resolving {path} in {root}")


def _shared_libraries(root: Path, binaries: list[str]) -> set[str]:
    """Every library the loader maps for BINARIES, by ldd inside the rootfs."""
    script = "for f in " + " ".join(binaries) + '; do ldd "$f"; done'
    out = subprocess.run(
        ["chroot", str(root), "/bin/sh", "-c", script], capture_output=True, text=True, check=True
    ).stdout
    libs = set()
    for line in out.splitlines():
        match = re.search(r"(/\S+) \(0x", line)
        if match:
            libs.add(match.group(1))
    return libs


def iptables_spec(
    name: str, root: Path, files: dict[str, Path], entrypoint: list[str]
) -> ImageSpec:
    """An image with FILES plus Debian's iptables, conntrack and their libraries from ROOT."""
    modules = sorted(
        str(PurePosixPath(XTABLES_MODULES) / p.name)
        for p in _inside(root, XTABLES_MODULES).glob("*.so")
    )
    wanted = [*IPTABLES_TOOLS, *modules]
    content = {path: _inside(root, path) for path in [*wanted, *_shared_libraries(root, wanted)]}
    for extra in ("/etc/protocols", "/etc/services", "/etc/ethertypes"):
        if _inside(root, extra).is_file():
            content[extra] = _inside(root, extra)
    content["/bin/busybox"] = Path("/bin/busybox")
    links = {f"/bin/{applet}": "busybox" for applet in BUSYBOX_APPLETS}
    # On the image's PATH (/usr/local/bin:/usr/bin:/bin), where kube-proxy and kindnetd
    # look them up; the real tools stay in /usr/sbin.
    links |= {f"/usr/local/bin/{n}": "/usr/sbin/iptables-wrapper" for n in IPTABLES_NAMES}
    links["/usr/local/bin/conntrack"] = "/usr/sbin/conntrack"
    return ImageSpec(
        name=name,
        files={**content, **files, "/usr/sbin/iptables-wrapper": IPTABLES_WRAPPER},
        links=links,
        # iptables takes this lock; pods mount the node's over it (kubeadm's kube-proxy and
        # kind's kindnet DaemonSets do), the file only keeps iptables working without one.
        blobs={"/run/xtables.lock": b""},
        entrypoint=entrypoint,
    )


def _listed_images() -> list[str]:
    return subprocess.run(
        [tool("kubeadm"), "config", "images", "list", "--kubernetes-version", K8S_VERSION],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def pod_images(kind_bin: Path, root: Path, sandbox_image: str) -> list[ImageSpec]:
    """Every image the kind cluster runs, named as kubeadm lists it or kind's config asks."""
    specs: list[ImageSpec] = []
    etcd_tag = VERSIONS["KIND_ETCD_VERSION"].lstrip("v") + "-0"
    coredns_tag = VERSIONS["COREDNS_VERSION"]
    for image in _listed_images():
        repo, tag = image.rsplit(":", 1)
        short = repo.rsplit("/", 1)[-1]
        if short in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            spec = images.control_plane_spec(image)
            assert spec is not None
            specs.append(spec)
        elif short == "etcd":
            if tag != etcd_tag:
                raise RuntimeError(f"kubeadm wants {image}; set KIND_ETCD_VERSION in versions.env")
            specs.append(ImageSpec(name=image, files={"/usr/local/bin/etcd": kind_bin / "etcd"}))
        elif short == "coredns":
            if tag != coredns_tag:
                raise RuntimeError(f"kubeadm wants {image}; set COREDNS_VERSION in versions.env")
            specs.append(
                ImageSpec(
                    name=image, files={"/coredns": kind_bin / "coredns"}, entrypoint=["/coredns"]
                )
            )
        elif short == "kube-proxy":
            files = {"/usr/local/bin/kube-proxy": BIN / "kube-proxy"}
            specs.append(iptables_spec(image, root, files, ["/usr/local/bin/kube-proxy"]))
        elif short != "pause":
            raise RuntimeError(f"kubeadm lists an image the kind node build does not know: {image}")
    specs.append(
        ImageSpec(name=sandbox_image, files={"/pause": BIN / "pause"}, entrypoint=["/pause"])
    )
    kindnetd = {"/bin/kindnetd": kind_bin / "kindnetd"}
    specs.append(iptables_spec(KINDNETD_IMAGE, root, kindnetd, ["/bin/kindnetd"]))
    specs.append(images.workload_spec())
    return specs


def cni_manifest(kind_src: Path, image: str) -> str:
    """kind's default CNI manifest template (pkg/build/nodeimage/const_cni.go), our image."""
    source = (kind_src / "pkg/build/nodeimage/const_cni.go").read_text()
    match = re.search(r"const defaultCNIManifest = `(.*?)^`$", source, re.S | re.M)
    if not match:
        raise RuntimeError("kind's const_cni.go no longer holds defaultCNIManifest")
    return match.group(1).replace("` + kindnetdImage + `", image)


def load_balancer_image(kind_src: Path) -> str:
    """The image kind runs its HA load balancer from (pkg/cluster/internal/loadbalancer)."""
    source = (kind_src / "pkg/cluster/internal/loadbalancer/const.go").read_text()
    match = re.search(r'const Image = "([^"]+)"', source)
    if not match:
        raise RuntimeError("kind's loadbalancer/const.go no longer names its Image")
    return match.group(1)


def load_balancer_spec(name: str, root: Path, kind_bin: Path) -> ImageSpec:
    """kind's load balancer container, with harness/kind-lb installed as `envoy`.

    kind starts it with `bash -c 'mkdir ...; echo -en ... > ...; while true; do envoy -c
    ...'` and writes its config with `mkdir`, `cp /dev/stdin` and `sh -c 'chmod ... && mv
    ...'`: Debian's bash (with its libraries) and busybox for the rest.
    """
    bash = {"/bin/bash": _inside(root, "/bin/bash")}
    bash |= {lib: _inside(root, lib) for lib in _shared_libraries(root, ["/bin/bash"])}
    applets = ("sh", "mkdir", "cp", "chmod", "mv", "cat", "sleep", "rm", "ls")
    return ImageSpec(
        name=name,
        files={
            **bash,
            "/bin/busybox": Path("/bin/busybox"),
            "/usr/local/bin/envoy": kind_bin / "kind-lb",
        },
        links={f"/bin/{a}": "busybox" for a in applets},
        blobs={"/home/envoy/.keep": b""},
    )
